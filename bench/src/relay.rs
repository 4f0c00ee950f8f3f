//! A TCP relay that delays every byte by a fixed time in each direction: a wide-area link on
//! loopback, for the latency cases of the loopback benchmark.
//!
//! Only latency is added. Each direction is a reader thread that stamps what it reads with
//! the time it is due and a writer thread that sends it then, so any number of bytes can be
//! on the way at once (no bandwidth limit, no window of the relay's own). The queue between
//! them is unbounded: a slow receiver does not slow the sender down through the relay, which
//! holds what is in transit in memory (a benchmark's few dozen MB). Both legs are loopback
//! connections with `TCP_NODELAY`, so a write by one peer reaches the other `delay` later,
//! however small.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// A listening relay: connections to [`Relay::port`] are forwarded to the target, `delay`
/// late each way.
///
/// ```
/// use std::io::{Read, Write};
/// use std::time::{Duration, Instant};
///
/// let echo = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let target = echo.local_addr().unwrap();
/// std::thread::spawn(move || {
///     let (mut s, _) = echo.accept().unwrap();
///     let mut b = [0u8; 4];
///     s.read_exact(&mut b).unwrap();
///     s.write_all(&b).unwrap();
/// });
/// let relay = dimse_bench::relay::Relay::start(target, Duration::from_millis(20)).unwrap();
/// let mut c = std::net::TcpStream::connect(("127.0.0.1", relay.port())).unwrap();
/// let sent = Instant::now();
/// c.write_all(b"ping").unwrap();
/// let mut b = [0u8; 4];
/// c.read_exact(&mut b).unwrap();
/// assert_eq!(&b, b"ping");
/// assert!(sent.elapsed() >= Duration::from_millis(40)); // there and back
/// ```
pub struct Relay {
    port: u16,
    closing: Arc<AtomicBool>,
}

impl Relay {
    /// Listens on a free loopback port and forwards each connection to `target`.
    pub fn start(target: SocketAddr, delay: Duration) -> io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let closing = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&closing);
        thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                // A target that refuses: the client sees its connection closed, as it would
                // without the relay.
                if let Ok(server) = TcpStream::connect(target) {
                    let _ = forward(client, server, delay);
                }
            }
        });
        Ok(Relay { port, closing })
    }

    /// The loopback port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        // The accept loop sees the flag with the next connection: make one.
        self.closing.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn forward(client: TcpStream, server: TcpStream, delay: Duration) -> io::Result<()> {
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (c2, s2) = (client.try_clone()?, server.try_clone()?);
    one_way(client, server, delay);
    one_way(s2, c2, delay);
    Ok(())
}

/// Copies `from` to `to`, each piece written `delay` after it was read; the end of `from`
/// (or an error) reaches `to` as a shutdown of its write side, just as late.
fn one_way(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    // An empty piece stands for the end.
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    thread::spawn(move || {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = from.read(&mut buf).unwrap_or(0);
            let due = Instant::now() + delay;
            if tx.send((due, buf[..n].to_vec())).is_err() || n == 0 {
                break;
            }
        }
    });
    thread::spawn(move || {
        for (due, piece) in rx {
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if piece.is_empty() || to.write_all(&piece).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
