//! The SCP on async-io: the driver's [`dimse_driver::Server`] with async-io's listener and
//! timer, and tasks on smol's global executor.

use std::io;
use std::net::{TcpListener, ToSocketAddrs};
use std::time::Duration;

use dimse_driver::Host;
use smol::{Async, Timer};

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

    fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) -> io::Result<()> {
        smol::spawn(task).detach();
        Ok(())
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
        Ok(Server::new(self.0, listener, listening))
    }
}

/// A bound SCP: [`run`](dimse_driver::Server::run) it, or
/// [`spawn`](dimse_driver::Server::spawn) it on a task of its own.
pub type Server = dimse_driver::Server<Smol>;
