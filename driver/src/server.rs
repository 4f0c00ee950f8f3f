//! The server lifecycle, written once for every adapter: accept until told to stop, serve each
//! connection on a task of its own, then either leave the associations to end by themselves or
//! give them a grace period, abort the ones left (A-ABORT), and drop what still has not ended.
//!
//! An adapter supplies what differs between runtimes through [`Host`]: accepting, spawning,
//! sleeping, and for a blocking adapter the two things a blocked thread cannot do itself.

use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::Duration;

use crate::closing::Closing;
use crate::runtime::Runtime;
use crate::scp::Scp;

/// What an adapter adds to its [`Runtime`] to serve: a listener, tasks and a timer.
///
/// With these, [`Server::run`] is the same accept loop and shutdown on every runtime.
pub trait Host: Runtime {
    /// A bound listening socket.
    type Listener: Send + Sync + 'static;

    /// The next connection.
    fn accept(listener: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Run `task` to its end on a task (or thread) of its own, detached. Only a runtime that
    /// cannot start one (a thread limit) fails.
    fn spawn(task: impl Future<Output = ()> + Send + 'static) -> io::Result<()>;

    /// Complete after `duration`.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;

    /// Make an `accept` that blocks its thread return, once a stop is asked for (a blocking
    /// adapter connects to `listening`). An async `accept` yields, so by default: nothing.
    fn wake_accept(listening: SocketAddr) {
        let _ = listening;
    }

    /// What to run when the grace period is over and the associations have been told to
    /// abort, for those that cannot hear it: a thread blocked reading its socket needs the
    /// socket closed under it. Taken from the listener before it closes; `None` by default.
    fn force_close(listener: &Self::Listener) -> Option<Box<dyn FnOnce() + Send>> {
        let _ = listener;
        None
    }
}

/// An [`Scp`] bound to a listener (an adapter's `Scp::bind`): [`run`](Server::run) it where
/// you are, or [`spawn`](Server::spawn) it and keep the [`ServerHandle`] that stops it. The
/// adapters' `Scp` docs show both.
pub struct Server<H: Host> {
    scp: Arc<Scp>,
    listener: H::Listener,
    listening: SocketAddr,
    stop: Arc<Stop>,
}

/// Asks a [`Server`] to stop; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Stopper {
    listening: SocketAddr,
    stop: Arc<Stop>,
    wake_accept: fn(SocketAddr),
}

impl<H: Host> Server<H> {
    /// Serve `scp` on `listener`, bound to `listening`.
    pub fn new(scp: Scp, listener: H::Listener, listening: SocketAddr) -> Self {
        Server {
            scp: Arc::new(scp),
            listener,
            listening,
            stop: Arc::default(),
        }
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listening
    }

    /// A way to stop [`Server::run`] from elsewhere.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            listening: self.listening,
            stop: self.stop.clone(),
            wake_accept: H::wake_accept,
        }
    }

    /// Serve until a [`Stopper`] says, one task per connection; a failing association never
    /// stops the others. Then stop accepting (the listener closes) and, as the stop asked,
    /// return at once, leaving the associations in progress to end on their own, or wait a
    /// grace period for them, tell the ones left to abort (A-ABORT at their next wait for the
    /// peer), wait [`Scp::ABORT_WAIT`] more and drop those still running.
    pub async fn run(self) {
        let Server {
            scp,
            listener,
            stop,
            ..
        } = self;
        let tasks = Arc::new(Tasks::default());
        let grace = loop {
            let accepted = match first(stop.asked(), H::accept(&listener)).await {
                Either::First(grace) => break grace,
                Either::Second(accepted) => accepted,
            };
            // A blocking accept returns for the connection that woke it.
            if let Some(grace) = stop.get() {
                break grace;
            }
            match accepted {
                Ok(stream) => {
                    let (scp, live) = (scp.clone(), Tasks::enter(&tasks));
                    let spawned = H::spawn(async move {
                        // Boxed, so the task stays a few words wherever it is moved (into a
                        // thread's closure, onto its stack): with a thread per connection,
                        // copies of the association's whole state were most of its memory.
                        let serve = Box::pin(scp.serve::<H>(stream));
                        live.tasks.cancel.unless_raised(serve).await;
                        // The handler goes before the association counts as gone: once
                        // `run` returns, no task holds it.
                        drop(scp);
                        drop(live);
                    });
                    if let Err(error) = spawned {
                        tracing::warn!(%error, "cannot start an association task");
                    }
                }
                Err(error) => tracing::warn!(%error, "accept failed"),
            }
        };
        let force_close = H::force_close(&listener);
        drop(listener);
        let Some(grace) = grace else { return };
        if first(tasks.idle(), H::sleep(grace)).await.is_first() {
            return;
        }
        tracing::warn!(
            left = tasks.live.load(Ordering::SeqCst),
            "grace period over: aborting associations"
        );
        scp.close();
        if let Some(force_close) = force_close {
            force_close();
        }
        if first(tasks.idle(), H::sleep(Scp::ABORT_WAIT))
            .await
            .is_first()
        {
            return;
        }
        // Still running (a handler that does not return): dropped at their next poll. A
        // task stuck inside a poll cannot be dropped, so this wait is bounded too.
        tasks.cancel.raise();
        first(tasks.idle(), H::sleep(Scp::ABORT_WAIT)).await;
    }
}

impl<H: Host> Server<H> {
    /// Serve on a task of its own (a thread, on a blocking runtime): [`Server::run`], which
    /// the returned handle stops.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let handle = ServerHandle {
            listening: self.listening,
            stopper: self.stopper(),
            ended: Arc::default(),
        };
        let ended = Ended(handle.ended.clone());
        H::spawn(async move {
            // Raised when the task ends, and also when it unwinds: a waiting `shutdown`
            // returns either way.
            let _ended = ended;
            self.run().await;
        })?;
        Ok(handle)
    }
}

/// A [`Server`] running on a task of its own ([`Server::spawn`]); the adapters' async
/// `ServerHandle`. The futures it returns need no particular runtime.
pub struct ServerHandle {
    listening: SocketAddr,
    stopper: Stopper,
    ended: Arc<Closing>,
}

/// Raises its signal when dropped: when the server's task ends, however it ends.
struct Ended(Arc<Closing>);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.raise();
    }
}

impl ServerHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listening
    }

    /// A way to stop it from elsewhere, without giving up the handle.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Stop accepting, give the associations in progress `grace` to finish, then abort the
    /// ones left (A-ABORT); returns when all are gone.
    pub async fn shutdown(self, grace: Duration) {
        self.stopper.stop(Some(grace));
        self.ended().await
    }

    /// Stop accepting; the associations in progress go on until they end. Returns when the
    /// listener is closed.
    pub async fn stop(self) {
        self.stopper.stop(None);
        self.ended().await
    }

    async fn ended(&self) {
        self.ended.unless_raised(std::future::pending::<()>()).await;
    }
}

impl Stopper {
    /// Stop accepting; with `grace`, give the associations in progress that long before
    /// aborting them, without, leave them to end on their own. The first call counts.
    pub fn stop(&self, grace: Option<Duration>) {
        self.stop.ask(grace);
        (self.wake_accept)(self.listening);
    }
}

/// What a [`Stopper`] asked for: `None` until asked, then the grace period (or none).
#[derive(Default)]
struct Stop {
    asked: Mutex<(Option<Option<Duration>>, Vec<Waker>)>,
}

impl Stop {
    fn lock(&self) -> MutexGuard<'_, (Option<Option<Duration>>, Vec<Waker>)> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ask(&self, grace: Option<Duration>) {
        let mut asked = self.lock();
        if asked.0.is_none() {
            asked.0 = Some(grace);
            asked.1.drain(..).for_each(Waker::wake);
        }
    }

    fn get(&self) -> Option<Option<Duration>> {
        self.lock().0
    }

    async fn asked(&self) -> Option<Duration> {
        poll_fn(|cx| {
            let mut asked = self.lock();
            match asked.0 {
                Some(grace) => Poll::Ready(grace),
                None => {
                    // The accept loop asks once per connection, from the same task.
                    if !asked.1.iter().any(|w| w.will_wake(cx.waker())) {
                        asked.1.push(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// The association tasks of one server: how many live, who waits for none, and the signal
/// that drops them.
#[derive(Default)]
struct Tasks {
    live: AtomicUsize,
    waiting: Mutex<Vec<Waker>>,
    cancel: Closing,
}

/// One live task; counted until dropped.
struct Live {
    tasks: Arc<Tasks>,
}

impl Tasks {
    fn enter(tasks: &Arc<Tasks>) -> Live {
        tasks.live.fetch_add(1, Ordering::SeqCst);
        Live {
            tasks: tasks.clone(),
        }
    }

    fn waiting(&self) -> MutexGuard<'_, Vec<Waker>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn idle(&self) {
        poll_fn(|cx| {
            let mut waiting = self.waiting();
            // Read under the lock `Live::drop` takes to wake: no wake-up is lost.
            if self.live.load(Ordering::SeqCst) == 0 {
                return Poll::Ready(());
            }
            if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
                waiting.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let mut waiting = self.tasks.waiting();
        if self.tasks.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            waiting.drain(..).for_each(Waker::wake);
        }
    }
}

enum Either<A, B> {
    First(A),
    Second(B),
}

impl<A, B> Either<A, B> {
    fn is_first(&self) -> bool {
        matches!(self, Either::First(_))
    }
}

/// Whichever of `a` and `b` completes first (`a` when both are ready).
async fn first<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::First(v));
        }
        if let Poll::Ready(v) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Second(v));
        }
        Poll::Pending
    })
    .await
}
