//! The SCP on async-io: the driver's [`dimse_driver::Server`] with async-io's listener and
//! timer, and tasks on smol's global executor.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::time::Duration;

use dimse_driver::{Host, Stopper};
use smol::{Async, Task, Timer};

use crate::net::SmolStream;
use crate::Smol;

dimse_driver::adapter_scp!(
/// A service class provider: the driver's [`dimse_driver::Scp`] (policy, limits, C-MOVE
/// destinations and handler, reached through `Deref`) served on async-io; association tasks
/// run on smol's global executor, so it serves under async-std too.
///
/// ```
/// use dimse_smol::{uid, AcceptorPolicy, Entity, Handler, Scp, Scu, SupportedSyntax};
///
/// struct EchoOnly;
/// impl Handler for EchoOnly {}
///
/// let mut policy = AcceptorPolicy::new("ECHO_SCP");
/// policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// smol::block_on(async {
///     let server = Scp::new(policy, EchoOnly).bind("127.0.0.1:0").await?.spawn()?;
///
///     let port = server.local_addr().port();
///     let status = Scu::new("ME").echo(&Entity::new("ECHO_SCP", "127.0.0.1", port)).await?;
///     assert!(status.is_success());
///     server.shutdown(std::time::Duration::from_secs(1)).await;
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
);

impl Host for Smol {
    type Listener = Async<TcpListener>;

    async fn accept(listener: &Async<TcpListener>) -> io::Result<SmolStream> {
        listener
            .accept()
            .await
            .map(|(stream, _)| SmolStream::new(stream))
    }

    fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) {
        smol::spawn(task).detach();
    }

    async fn sleep(duration: Duration) {
        Timer::after(duration).await;
    }
}

impl Scp {
    /// Listen on `addr`.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listener = Async::new(TcpListener::bind(addr)?)?;
        let listening = listener.get_ref().local_addr()?;
        Ok(Server(dimse_driver::Server::new(
            self.0, listener, listening,
        )))
    }
}

/// A bound SCP.
pub struct Server(dimse_driver::Server<Smol>);

impl Server {
    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.0.local_addr())
    }

    /// Serve until [`ServerHandle::stop`] or [`ServerHandle::shutdown`], one task per
    /// association. A failing association never stops the others.
    pub async fn run(self) {
        self.0.run().await
    }

    /// Serve on a task of its own (smol's global executor).
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let (addr, stopper) = (self.0.local_addr(), self.0.stopper());
        let task = smol::spawn(self.0.run());
        Ok(ServerHandle {
            addr,
            stopper,
            task,
        })
    }
}

/// A server running on a task of its own.
pub struct ServerHandle {
    addr: SocketAddr,
    stopper: Stopper,
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
        self.stopper.stop(Some(grace));
        self.task.await;
    }

    /// Stop accepting; the associations in progress go on until they end (as with
    /// `dimse-std`).
    pub async fn stop(self) {
        self.stopper.stop(None);
        self.task.await;
    }
}
