//! The SCP on tokio: the driver's [`dimse_driver::Server`] with tokio's listener, tasks and
//! timer.

use std::io;
use std::time::Duration;

use dimse_driver::Host;
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::net::TokioStream;
use crate::Tokio;

dimse_driver::adapter_scp!(
/// A service class provider: the driver's [`dimse_driver::Scp`] (policy, limits, C-MOVE
/// destinations and handler, reached through `Deref`) served on tokio.
///
/// ```
/// use dimse_tokio::{uid, AcceptorPolicy, Entity, Handler, Scp, Scu, SupportedSyntax};
///
/// struct EchoOnly;
/// impl Handler for EchoOnly {}
///
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # runtime.block_on(async {
/// let mut policy = AcceptorPolicy::new("ECHO_SCP");
/// policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// let server = Scp::new(policy, EchoOnly).bind("127.0.0.1:0").await?.spawn()?;
///
/// let port = server.local_addr().port();
/// let status = Scu::new("ME").echo(&Entity::new("ECHO_SCP", "127.0.0.1", port)).await?;
/// assert!(status.is_success());
/// server.shutdown(std::time::Duration::from_secs(1)).await;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
);

impl Host for Tokio {
    type Listener = TcpListener;

    async fn accept(listener: &TcpListener) -> io::Result<TokioStream> {
        listener
            .accept()
            .await
            .map(|(stream, _)| TokioStream::new(stream))
    }

    fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) -> io::Result<()> {
        tokio::spawn(task);
        Ok(())
    }

    async fn sleep(duration: Duration) {
        tokio::time::sleep(duration).await
    }
}

impl Scp {
    /// Listen on `addr`.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let listening = listener.local_addr()?;
        Ok(Server::new(self.0, listener, listening))
    }
}

/// A bound SCP: [`run`](dimse_driver::Server::run) it, or
/// [`spawn`](dimse_driver::Server::spawn) it on a task of its own.
pub type Server = dimse_driver::Server<Tokio>;
