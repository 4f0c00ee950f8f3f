//! The SCP on async-io: accept connections, serve each association as a task.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use smol::channel::{self, Receiver, Sender};
use smol::{future, Async, Task, Timer};

use crate::net::SmolStream;
use crate::Smol;

dimse_driver::adapter_scp!(
/// A service class provider: the driver's [`dimse_driver::Scp`] (policy, limits, C-MOVE
/// destinations and handler, reached through `Deref`) served on async-io; association tasks
/// run on smol's global executor, so it serves under async-std too.
///
/// ```no_run
/// use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
/// use dimse_core::uid;
/// use dimse_smol::{Handler, Scp};
///
/// struct EchoOnly;
/// impl Handler for EchoOnly {}
///
/// let mut policy = AcceptorPolicy::new("ECHO_SCP");
/// policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// smol::block_on(async {
///     Scp::new(policy, EchoOnly).bind("127.0.0.1:11112").await?.run().await;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
);

impl Scp {
    /// Listen on `addr`.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let (stop, stopped) = channel::bounded(1);
        Ok(Server {
            listener: Async::new(listener)?,
            scp: Arc::new(self.0),
            stop,
            stopped,
        })
    }
}

/// What [`ServerHandle`] asked for: `Some(grace)` to wait that long for the associations in
/// progress, `None` to leave them running.
type Stop = Option<Duration>;

/// A bound SCP.
pub struct Server {
    listener: Async<TcpListener>,
    scp: Arc<dimse_driver::Scp>,
    stop: Sender<Stop>,
    stopped: Receiver<Stop>,
}

impl Server {
    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.get_ref().local_addr()
    }

    /// Serve until [`ServerHandle::stop`], one task per association. A failing association
    /// never stops the others.
    pub async fn run(self) {
        let mut tasks: Vec<Task<()>> = Vec::new();
        let grace = loop {
            let accepted = async { Ok(self.listener.accept().await) };
            let stop = async { Err(self.stopped.recv().await) };
            match future::or(accepted, stop).await {
                Ok(Ok((stream, _))) => {
                    // Keep only live associations.
                    tasks.retain(|t| !t.is_finished());
                    let scp = self.scp.clone();
                    tasks.push(smol::spawn(async move {
                        scp.serve::<Smol>(SmolStream::new(stream)).await
                    }));
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "accept failed"),
                // `self.stop` lives as long as `self`: `recv` never fails.
                Err(stop) => break stop.ok().flatten(),
            }
        };
        drop(self.listener);
        let Some(grace) = grace else {
            // Like `dimse-std`: the associations in progress end on their own.
            tasks.into_iter().for_each(Task::detach);
            return;
        };
        if !within(grace, drain(&mut tasks)).await {
            tracing::warn!(
                left = tasks.len(),
                "grace period over: aborting associations"
            );
            // Each sends A-ABORT at its next wait for the peer; one still busy after a moment
            // more (a handler that does not return) is cancelled with the rest of `tasks`.
            self.scp.close();
            within(dimse_driver::Scp::ABORT_WAIT, drain(&mut tasks)).await;
        }
    }

    /// Serve on a task of its own (smol's global executor).
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let addr = self.local_addr()?;
        let stop = self.stop.clone();
        let task = smol::spawn(self.run());
        Ok(ServerHandle { addr, stop, task })
    }
}

/// Await each task in turn, removing it once finished.
async fn drain(tasks: &mut Vec<Task<()>>) {
    while let Some(t) = tasks.last_mut() {
        t.await;
        tasks.pop();
    }
}

/// Whether `work` finished within `limit`.
async fn within(limit: Duration, work: impl std::future::Future<Output = ()>) -> bool {
    let done = async {
        work.await;
        true
    };
    let expired = async {
        Timer::after(limit).await;
        false
    };
    future::or(done, expired).await
}

/// A server running on a task of its own.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Sender<Stop>,
    task: Task<()>,
}

impl ServerHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, give the associations in progress `grace` to finish, then abort the
    /// ones left (A-ABORT); returns when all are gone.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(Some(grace)).await;
        self.task.await;
    }

    /// Stop accepting; the associations in progress go on until they end (as with
    /// `dimse-std`).
    pub async fn stop(self) {
        let _ = self.stop.send(None).await;
        self.task.await;
    }
}
