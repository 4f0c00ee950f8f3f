//! The blocking SCP: accept connections and serve each on a thread of its own.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use dimse_core::assoc::AcceptorPolicy;
use dimse_core::Entity;
use dimse_driver::Handler;

use crate::net::BlockingStream;
use crate::{block_on, Blocking};

/// A service class provider: the driver's [`dimse_driver::Scp`] (policy, limits, C-MOVE
/// destinations and handler, reached through `Deref`) served over blocking sockets.
///
/// ```no_run
/// use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
/// use dimse_core::uid;
/// use dimse_std::{Handler, Scp};
///
/// struct EchoOnly;
/// impl Handler for EchoOnly {}
///
/// let mut policy = AcceptorPolicy::new("ECHO_SCP");
/// policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// let server = Scp::new(policy, EchoOnly).bind("127.0.0.1:11112").unwrap();
/// server.run();
/// ```
pub struct Scp(dimse_driver::Scp);

impl Deref for Scp {
    type Target = dimse_driver::Scp;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Scp {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Serve an SCP configured without a runtime in mind (the same value serves on any adapter).
impl From<dimse_driver::Scp> for Scp {
    fn from(scp: dimse_driver::Scp) -> Self {
        Scp(scp)
    }
}

impl Scp {
    /// An SCP answering with `handler` under `policy`.
    pub fn new(policy: AcceptorPolicy, handler: impl Handler) -> Self {
        Scp(dimse_driver::Scp::new(policy, handler))
    }

    /// Add a C-MOVE destination.
    pub fn with_destination(self, entity: Entity) -> Self {
        Scp(self.0.with_destination(entity))
    }

    /// Listen on `addr`.
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(addr)?,
            scp: Arc::new(self.0),
            stop: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// A bound SCP.
pub struct Server {
    listener: TcpListener,
    scp: Arc<dimse_driver::Scp>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve forever (or until [`ServerHandle::stop`]), one thread per association. A failing
    /// association never stops the others.
    pub fn run(self) {
        for stream in self.listener.incoming() {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let stream = match stream {
                Ok(s) => BlockingStream::new(s),
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            let scp = self.scp.clone();
            let spawned = thread::Builder::new()
                .name("dimse-assoc".into())
                .spawn(move || block_on(scp.serve::<Blocking>(stream)));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start association thread");
            }
        }
    }

    /// Serve on a background thread.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let addr = self.local_addr()?;
        let stop = self.stop.clone();
        let thread = thread::Builder::new()
            .name("dimse-scp".into())
            .spawn(move || self.run())?;
        Ok(ServerHandle {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

/// A server running on a background thread.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ServerHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting associations (those in progress finish on their own threads).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
