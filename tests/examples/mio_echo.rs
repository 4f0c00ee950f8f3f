//! Embedding the protocol core in an event loop of your own: a C-ECHO driven by hand over a
//! non-blocking socket and `mio` readiness, with no runtime, no adapter and no driver.
//!
//! The loop has four duties and nothing else: copy the core's transmits to the socket, copy
//! the socket's bytes into the core, tell the core the time when its deadline passes, and act
//! on its events. Everything else — PDU framing, the PS3.8 state machine, negotiation, timers —
//! is the core's.
//!
//! ```text
//! cargo run -p dimse-tests --example mio_echo -- 127.0.0.1 11112 [CALLED_AE]
//! ```

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use dimse_core::assoc::{Association, Config, Event, Proposal, ProposedContext};
use dimse_core::dimse::{CEchoRq, Message, Status};
use dimse_core::uid;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

const SOCKET: Token = Token(0);

#[allow(dead_code)] // the embedding test uses `echo` only
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, host, port, rest @ ..] = &args[..] else {
        eprintln!("usage: mio_echo HOST PORT [CALLED_AE]");
        std::process::exit(2);
    };
    let called = rest.first().map_or("ANY-SCP", String::as_str);
    let addr: SocketAddr = format!("{host}:{port}").parse().expect("HOST:PORT");
    match echo(addr, "MIO-ECHO", called, Duration::from_secs(10)) {
        Ok(status) => println!("C-ECHO: {status}"),
        Err(e) => {
            eprintln!("mio_echo: {e}");
            std::process::exit(1);
        }
    }
}

/// Associate with `addr`, send one C-ECHO, release; the C-ECHO status. `limit` bounds the
/// whole exchange (the core's own ARTIM and ACSE timers still apply inside it).
pub fn echo(
    addr: SocketAddr,
    calling: &str,
    called: &str,
    limit: Duration,
) -> Result<Status, String> {
    let io = |what: &'static str| move |e: io::Error| format!("{what}: {e}");
    let mut poll = Poll::new().map_err(io("poll"))?;
    let mut events = Events::with_capacity(16);
    // Connecting is not the core's business: a blocking connect keeps this example short.
    let std_stream = std::net::TcpStream::connect_timeout(&addr, limit).map_err(io("connect"))?;
    std_stream
        .set_nonblocking(true)
        .map_err(io("nonblocking"))?;
    std_stream.set_nodelay(true).map_err(io("nodelay"))?;
    let mut stream = TcpStream::from_std(std_stream);
    poll.registry()
        .register(&mut stream, SOCKET, Interest::READABLE | Interest::WRITABLE)
        .map_err(io("register"))?;

    let mut proposal = Proposal::new(calling, called);
    proposal.contexts.push(ProposedContext::new(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    let mut assoc = Association::requestor(&proposal, Config::default(), Instant::now());
    assoc
        .handle_connected(Instant::now())
        .map_err(|e| e.to_string())?;
    let give_up = Instant::now() + limit;
    let mut outgoing = BytesMut::new();
    let mut incoming = BytesMut::new();
    let mut status = None;

    loop {
        let now = Instant::now();
        if now >= give_up {
            return Err(format!("no answer within {limit:?}"));
        }
        // 1. Act on what the core has to say.
        while let Some(event) = assoc.poll_event() {
            match event {
                Event::Established(negotiated) => {
                    let ctx = negotiated
                        .find_context(uid::VERIFICATION, |_| true)
                        .ok_or("the peer refused Verification")?
                        .id;
                    assoc
                        .send_message(now, ctx, &CEchoRq::new(1))
                        .map_err(|e| e.to_string())?;
                }
                // The core matched it to our request: a C-ECHO-RSP to message 1.
                Event::Message {
                    message: Message::CEchoRsp(rsp),
                    ..
                } => {
                    status = Some(rsp.status);
                    assoc.release(now).map_err(|e| e.to_string())?;
                }
                Event::Released => return status.ok_or("released before the response".into()),
                Event::Rejected(rj) => return Err(format!("rejected: {}", rj.reason())),
                Event::Aborted(cause) => return Err(format!("aborted: {cause}")),
                other => return Err(format!("unexpected {other:?}")),
            }
        }
        if assoc.is_closed() {
            return Err("the association ended".into());
        }
        // 2. Copy the core's transmits to the socket, as far as it takes them now.
        while let Some(t) = assoc.poll_transmit() {
            outgoing.extend_from_slice(&t.head);
            outgoing.extend_from_slice(&t.body);
        }
        while !outgoing.is_empty() {
            match stream.write(&outgoing) {
                Ok(n) => {
                    let _ = outgoing.split_to(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        // 3. Sleep until the socket is ready or the core's next deadline.
        let wake = assoc.poll_timeout().map_or(give_up, |t| t.min(give_up));
        poll.poll(&mut events, Some(wake.saturating_duration_since(now)))
            .map_err(io("poll"))?;
        let now = Instant::now();
        for event in events.iter() {
            if event.is_readable() {
                // 4. Copy the socket's bytes into the core, until it has no more.
                let mut chunk = [0u8; 16 * 1024];
                loop {
                    match stream.read(&mut chunk) {
                        Ok(0) => {
                            assoc.handle_eof(now);
                            break;
                        }
                        Ok(n) => {
                            incoming.extend_from_slice(&chunk[..n]);
                            assoc.handle_input(now, &mut incoming);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(format!("read: {e}")),
                    }
                }
            }
        }
        // 5. Time is a value: the core checks its timers against it.
        assoc.handle_timeout(now);
    }
}
