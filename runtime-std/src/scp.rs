//! The blocking SCP: the driver's [`dimse_driver::Server`] with a thread per association.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use dimse_driver::Host;

use crate::net::{BlockingStream, Open};
use crate::Blocking;
use dimse_driver::blocking::block_on;

dimse_driver::adapter_scp!(
/// A service class provider: the driver's [`dimse_driver::Scp`] (policy, limits, C-MOVE
/// destinations and handler, reached through `Deref`) served over blocking sockets.
///
/// ```
/// use dimse_std::{uid, AcceptorPolicy, Entity, Handler, Scp, Scu, SupportedSyntax};
///
/// struct EchoOnly;
/// impl Handler for EchoOnly {}
///
/// let mut policy = AcceptorPolicy::new("ECHO_SCP");
/// policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// let server = Scp::new(policy, EchoOnly).bind("127.0.0.1:0")?.spawn()?;
///
/// let port = server.local_addr().port();
/// let status = Scu::new("ME").echo(&Entity::new("ECHO_SCP", "127.0.0.1", port))?;
/// assert!(status.is_success());
/// server.shutdown(std::time::Duration::from_secs(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
);

/// A listening socket and the connections accepted from it.
pub struct Listener {
    socket: TcpListener,
    open: Arc<Open>,
}

impl Host for Blocking {
    type Listener = Listener;

    async fn accept(listener: &Listener) -> io::Result<BlockingStream> {
        let (stream, _) = listener.socket.accept()?;
        Ok(BlockingStream::registered(stream, &listener.open))
    }

    fn spawn(task: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        thread::Builder::new()
            .name("dimse".into())
            .spawn(move || block_on(task))
            .map(drop)
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        dimse_driver::blocking::Sleep::new(duration)
    }

    fn wake_accept(listening: SocketAddr) {
        let _ = TcpStream::connect(listening);
    }

    fn force_close(listener: &Listener) -> Option<Box<dyn FnOnce() + Send>> {
        let open = listener.open.clone();
        Some(Box::new(move || open.close_all()))
    }
}

impl Scp {
    /// Listen on `addr`.
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let socket = TcpListener::bind(addr)?;
        let listening = socket.local_addr()?;
        let listener = Listener {
            socket,
            open: Arc::default(),
        };
        Ok(Server(dimse_driver::Server::new(
            self.0, listener, listening,
        )))
    }
}

/// A bound SCP.
pub struct Server(dimse_driver::Server<Blocking>);

impl Server {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.0.local_addr()
    }

    /// Serve until [`ServerHandle::stop`] or [`ServerHandle::shutdown`], one thread per
    /// association. A failing association never stops the others.
    pub fn run(self) {
        block_on(self.0.run())
    }

    /// Serve on a background thread.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        self.0.spawn().map(ServerHandle)
    }
}

/// A server running on a background thread: the driver's [`dimse_driver::ServerHandle`],
/// whose waits block here.
pub struct ServerHandle(dimse_driver::ServerHandle);

impl ServerHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.0.local_addr()
    }

    /// Stop accepting associations (those in progress finish on their own threads).
    pub fn stop(self) {
        block_on(self.0.stop())
    }

    /// Stop accepting, give the associations in progress `grace` to finish, then end the
    /// ones left; returns when all are gone. A thread blocked reading its socket cannot send
    /// A-ABORT: its connection is closed under it (the async adapters send A-ABORT).
    pub fn shutdown(self, grace: Duration) {
        block_on(self.0.shutdown(grace))
    }
}
