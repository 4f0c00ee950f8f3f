//! The blocking SCP: accept connections and serve each on a thread of its own.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::net::BlockingStream;
use crate::{block_on, Blocking};

dimse_driver::adapter_scp!(
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
);

impl Scp {
    /// Listen on `addr`.
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(addr)?,
            scp: Arc::new(self.0),
            stop: Arc::new(AtomicBool::new(false)),
            open: Arc::default(),
        })
    }
}

/// A bound SCP.
pub struct Server {
    listener: TcpListener,
    scp: Arc<dimse_driver::Scp>,
    stop: Arc<AtomicBool>,
    open: Arc<Open>,
}

/// The connections being served, by a serial number: a handle on each, so a shutdown can
/// close them under their blocked threads.
#[derive(Default)]
struct Open {
    next: AtomicU64,
    streams: Mutex<HashMap<u64, TcpStream>>,
}

impl Open {
    fn streams(&self) -> std::sync::MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_empty(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while !self.streams().is_empty() {
            if Instant::now() >= until {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
        true
    }
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
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            let id = self.open.next.fetch_add(1, Ordering::SeqCst);
            if let Ok(handle) = stream.try_clone() {
                self.open.streams().insert(id, handle);
            }
            let (scp, open) = (self.scp.clone(), self.open.clone());
            let spawned = thread::Builder::new()
                .name("dimse-assoc".into())
                .spawn(move || {
                    block_on(scp.serve::<Blocking>(BlockingStream::new(stream)));
                    // The handler goes before the association counts as gone: after
                    // `shutdown` returns, no clone of it is left on this thread.
                    drop(scp);
                    open.streams().remove(&id);
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start association thread");
                self.open.streams().remove(&id);
            }
        }
    }

    /// Serve on a background thread.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let addr = self.local_addr()?;
        let (stop, scp, open) = (self.stop.clone(), self.scp.clone(), self.open.clone());
        let thread = thread::Builder::new()
            .name("dimse-scp".into())
            .spawn(move || self.run())?;
        Ok(ServerHandle {
            addr,
            stop,
            scp,
            open,
            thread: Some(thread),
        })
    }
}

/// A server running on a background thread.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    scp: Arc<dimse_driver::Scp>,
    open: Arc<Open>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ServerHandle {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting associations (those in progress finish on their own threads).
    pub fn stop(mut self) {
        self.stop_accepting();
    }

    /// Stop accepting, give the associations in progress `grace` to finish, then end the
    /// ones left; returns when all are gone. A thread blocked reading its socket cannot send
    /// A-ABORT: its connection is closed under it (the async adapters send A-ABORT).
    pub fn shutdown(mut self, grace: Duration) {
        self.stop_accepting();
        if self.open.wait_empty(grace) {
            return;
        }
        tracing::warn!("grace period over: closing associations");
        self.scp.close();
        for stream in self.open.streams().values() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        self.open.wait_empty(dimse_driver::Scp::ABORT_WAIT);
    }

    fn stop_accepting(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
