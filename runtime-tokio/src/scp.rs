//! The SCP on tokio: accept connections, serve each association as a task.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::net::TokioStream;
use crate::Tokio;

dimse_driver::adapter_scp!(
/// A service class provider: the driver's [`dimse_driver::Scp`] (policy, limits, C-MOVE
/// destinations and handler, reached through `Deref`) served on tokio.
///
/// ```no_run
/// use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
/// use dimse_core::uid;
/// use dimse_tokio::{Handler, Scp};
///
/// struct EchoOnly;
/// impl Handler for EchoOnly {}
///
/// # async fn demo() -> std::io::Result<()> {
/// let mut policy = AcceptorPolicy::new("ECHO_SCP");
/// policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// Scp::new(policy, EchoOnly).bind("127.0.0.1:11112").await?.run().await;
/// # Ok(()) }
/// ```
);

impl Scp {
    /// Listen on `addr`.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let (stop, stopped) = watch::channel(None);
        Ok(Server {
            listener: TcpListener::bind(addr).await?,
            scp: Arc::new(self.0),
            stop,
            stopped,
        })
    }
}

/// A bound SCP.
pub struct Server {
    listener: TcpListener,
    scp: Arc<dimse_driver::Scp>,
    stop: watch::Sender<Stop>,
    stopped: watch::Receiver<Stop>,
}

/// What [`ServerHandle`] asked for: `None` until it asks; then `Some(grace)` to wait that
/// long for the associations in progress, or `None` inside to leave them running.
type Stop = Option<Option<Duration>>;

impl Server {
    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until [`ServerHandle::stop`], one task per association. A failing association
    /// never stops the others.
    pub async fn run(mut self) {
        let mut tasks = JoinSet::new();
        let grace: Option<Duration> = loop {
            tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let scp = self.scp.clone();
                        tasks.spawn(async move { scp.serve::<Tokio>(TokioStream::new(stream)).await });
                    }
                    Err(e) => tracing::warn!(error = %e, "accept failed"),
                },
                // Reap finished associations so the set holds only live ones.
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                // `self.stop` lives as long as `self`: `changed` never fails.
                _ = self.stopped.changed() => {
                    if let Some(grace) = *self.stopped.borrow() {
                        break grace;
                    }
                }
            }
        };
        drop(self.listener);
        match grace {
            // Like `dimse-std`: the associations in progress end on their own.
            None => tasks.detach_all(),
            Some(grace) => {
                if tokio::time::timeout(grace, drain(&mut tasks))
                    .await
                    .is_err()
                {
                    tracing::warn!(
                        left = tasks.len(),
                        "grace period over: aborting associations"
                    );
                    // Each sends A-ABORT at its next wait for the peer; one still busy after
                    // a moment more (a handler that does not return) is dropped.
                    self.scp.close();
                    if tokio::time::timeout(dimse_driver::Scp::ABORT_WAIT, drain(&mut tasks))
                        .await
                        .is_err()
                    {
                        tasks.shutdown().await;
                    }
                }
            }
        }
    }

    /// Serve on a task of its own.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let addr = self.local_addr()?;
        let stop = self.stop.clone();
        let task = tokio::spawn(self.run());
        Ok(ServerHandle { addr, stop, task })
    }
}

async fn drain(tasks: &mut JoinSet<()>) {
    while tasks.join_next().await.is_some() {}
}

/// A server running on a task of its own.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: watch::Sender<Stop>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, give the associations in progress `grace` to finish, then abort the
    /// ones left (A-ABORT); returns when all are gone.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(Some(Some(grace)));
        let _ = self.task.await;
    }

    /// Stop accepting; the associations in progress go on until they end (as with
    /// `dimse-std`).
    pub async fn stop(self) {
        let _ = self.stop.send(Some(None));
        let _ = self.task.await;
    }
}
