//! Hostile peers: what a buggy modality or an attacker does to an SCP, and what PS3.8 says the
//! SCP does back.
//!
//! Each scenario checks the answer on the hostile connection, and then that the SCP still
//! serves: a fresh association's C-ECHO must succeed. Memory and what reached the disk are
//! the caller's to check (it knows the server process and its archive).
//!
//! The scenarios need the server's timers, so that "closed after ARTIM" can be told from
//! "never closed": see [`Hostile`].

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dimse_core::assoc::ProposedContext;
use dimse_core::dimse::{CStoreRq, DimseMessage, Priority};
use dimse_core::pdu::{Item, PData, Pdu, Pdv, PresentationContextRq};
use dimse_core::uid;

use crate::exchange::{
    associate, associate_verification, connect, echo_command, expect_abort_or_close,
    expect_echo_rsp, finish, observe, release, request, send, verification, Outcome, Target,
};
use crate::peer::{Observed, RawPeer};

/// The SCP under test and the limits it was started with.
#[derive(Debug, Clone)]
pub struct Hostile {
    /// Where it listens; `timeout` bounds each wait beyond the timers below.
    pub target: Target,
    /// Its ARTIM timeout (how long it waits for an A-ASSOCIATE-RQ).
    pub artim: Duration,
    /// Its idle timeout.
    pub idle: Duration,
    /// Its ACSE timeout (how long it waits for an A-RELEASE-RP).
    pub acse: Duration,
    /// Its largest accepted data set, in bytes.
    pub max_data_set: u64,
    /// How many connections [`thousand_connections`] opens at once.
    pub connections: usize,
}

/// A hostile scenario.
#[derive(Debug, Clone, Copy)]
pub struct HostileScenario {
    /// Short name, also the [`Outcome::name`] it reports.
    pub name: &'static str,
    /// Runs it.
    pub run: fn(&Hostile) -> Outcome,
}

/// The SOP Instance UID whose data set [`vanish_mid_data_set`] and [`endless_data_set`] never
/// finish: it must not appear in the SCP's storage.
pub const UNFINISHED_INSTANCE: &str = "1.2.826.0.1.3680043.10.1170.66.6";

/// Every hostile scenario, in the order [`run_hostile`] runs them.
pub const HOSTILE_SCENARIOS: &[HostileScenario] = &[
    HostileScenario {
        name: "garbage-bytes",
        run: garbage_bytes,
    },
    HostileScenario {
        name: "associate-length-ffffffff",
        run: associate_length_ffffffff,
    },
    HostileScenario {
        name: "silent-peer",
        run: silent_peer,
    },
    HostileScenario {
        name: "byte-by-byte-associate",
        run: byte_by_byte_associate,
    },
    HostileScenario {
        name: "byte-by-byte-after-associate",
        run: byte_by_byte_after_associate,
    },
    HostileScenario {
        name: "thousands-of-contexts",
        run: thousands_of_contexts,
    },
    HostileScenario {
        name: "absurd-command-lengths",
        run: absurd_command_lengths,
    },
    HostileScenario {
        name: "vanish-mid-data-set",
        run: vanish_mid_data_set,
    },
    HostileScenario {
        name: "endless-data-set",
        run: endless_data_set,
    },
    HostileScenario {
        name: "thousand-connections",
        run: thousand_connections,
    },
];

/// Runs every scenario in [`HOSTILE_SCENARIOS`] in order.
pub fn run_hostile(h: &Hostile) -> Vec<Outcome> {
    HOSTILE_SCENARIOS.iter().map(|s| s.run_on(h)).collect()
}

impl HostileScenario {
    /// Runs it, timing it and keeping the trace of its connections.
    pub fn run_on(&self, h: &Hostile) -> Outcome {
        crate::exchange::traced(&h.target.trace, || (self.run)(h))
    }
}

/// Slack on top of a server timer: scheduling on a loaded machine.
const SLACK: Duration = Duration::from_secs(5);

const STORE_CONTEXT: u8 = 3;

fn store_request(t: &Target) -> dimse_core::pdu::AssociateRq {
    request(
        t,
        vec![
            verification(),
            ProposedContext::new(
                uid::CT_IMAGE_STORAGE,
                &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
            ),
        ],
    )
}

/// A P-DATA-TF holding `command` whole, on context 1.
fn whole_command(command: Bytes) -> Pdu {
    Pdu::PData(PData {
        pdvs: vec![Pdv {
            context_id: 1,
            control: Pdv::COMMAND | Pdv::LAST,
            data: command,
        }],
    })
}

/// After the hostile part: a new association's C-ECHO succeeds.
fn still_serving(h: &Hostile) -> Result<(), String> {
    let t = &h.target;
    let mut peer = connect(t)?;
    associate_verification(&mut peer, t, request(t, vec![verification()]))
        .map_err(|e| format!("afterwards, a new association failed: {e}"))?;
    send(&mut peer, &whole_command(echo_command()))?;
    match expect_echo_rsp(&mut peer, t, 1) {
        Ok(0) => {}
        Ok(status) => return Err(format!("afterwards, C-ECHO status 0x{status:04X}")),
        Err(e) => return Err(format!("afterwards, C-ECHO failed: {e}")),
    }
    release(&mut peer, t)
}

/// Runs the hostile part, then [`still_serving`].
fn judged(
    name: &str,
    expected: &str,
    h: &Hostile,
    hostile: impl FnOnce() -> Result<(String, bool), String>,
) -> Outcome {
    let result = hostile().and_then(|(got, passed)| {
        still_serving(h)?;
        Ok((format!("{got}; a new association is served"), passed))
    });
    finish(name, expected, result)
}

/// 4 KiB of bytes that are no PDU.
pub fn garbage_bytes(h: &Hostile) -> Outcome {
    let expected = "A-ABORT or close (Evt19); the SCP serves on";
    judged("garbage-bytes", expected, h, || {
        let mut peer = connect(&h.target)?;
        // A fixed pseudo-random sequence whose first byte is no PDU type.
        let mut x: u32 = 0x9E37_79B9;
        let bytes: Vec<u8> = (0..4096)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if i == 0 {
                    0xA5
                } else {
                    x as u8
                }
            })
            .collect();
        // The SCP may close before taking it all: what matters is what it answers.
        let _ = peer.send_bytes(&bytes);
        expect_abort_or_close(&mut peer, &h.target)
    })
}

/// An A-ASSOCIATE-RQ header announcing 0xFFFFFFFF bytes.
pub fn associate_length_ffffffff(h: &Hostile) -> Outcome {
    let expected = "A-ABORT or close without waiting for (or allocating) 4 GiB";
    judged("associate-length-ffffffff", expected, h, || {
        let mut peer = connect(&h.target)?;
        peer.send_bytes(&[0x01, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 1, 0, 0])
            .map_err(|e| format!("sending failed: {e}"))?;
        expect_abort_or_close(&mut peer, &h.target)
    })
}

/// Waits for the close, at most `within`: the observation and when it came.
fn wait_for_end(peer: &mut RawPeer, within: Duration) -> Result<(Observed, Duration), String> {
    let start = Instant::now();
    loop {
        let left = within.saturating_sub(start.elapsed());
        match peer
            .expect_pdu(left)
            .map_err(|e| format!("receive failed: {e}"))?
        {
            Observed::Timeout => return Ok((Observed::Timeout, start.elapsed())),
            seen if seen.is_closed() => return Ok((seen, start.elapsed())),
            Observed::Pdu(Pdu::Abort(a)) => {
                return Ok((Observed::Pdu(Pdu::Abort(a)), start.elapsed()))
            }
            // An A-RELEASE-RQ (idle release) is answered so the close can follow.
            Observed::Pdu(Pdu::ReleaseRq) => {
                let _ = peer.send_pdu(&Pdu::ReleaseRp);
            }
            _ => {}
        }
    }
}

/// Connects and never says anything.
pub fn silent_peer(h: &Hostile) -> Outcome {
    let expected = "connection closed when ARTIM expires (Sta2 + Evt18: AA-2)";
    judged("silent-peer", expected, h, || {
        let mut peer = connect(&h.target)?;
        let (seen, after) = wait_for_end(&mut peer, h.artim + SLACK)?;
        let closed = seen.is_closed();
        Ok((format!("{seen} after {} ms", after.as_millis()), closed))
    })
}

/// Sends `bytes` one at a time, `interval` apart, watching for the SCP to end the connection.
/// Returns what ended it (or that nothing did) with when and after how many bytes, and
/// whether the SCP did end it (close, A-ABORT, or an idle A-RELEASE-RQ).
fn drip(peer: &mut RawPeer, bytes: &[u8], interval: Duration, within: Duration) -> (String, bool) {
    let start = Instant::now();
    let ms = |start: Instant| start.elapsed().as_millis();
    for (i, b) in bytes.iter().enumerate() {
        if peer.send_bytes(&[*b]).is_err() {
            return (
                format!("connection ended after {i} bytes ({} ms)", ms(start)),
                true,
            );
        }
        match peer.expect_pdu(interval) {
            Ok(Observed::Timeout) => {}
            Ok(seen @ (Observed::Pdu(Pdu::ReleaseRq) | Observed::Pdu(Pdu::Abort(_)))) => {
                return (format!("{seen} after {i} bytes ({} ms)", ms(start)), true);
            }
            Ok(seen) => {
                let ended = seen.is_closed();
                return (format!("{seen} after {i} bytes ({} ms)", ms(start)), ended);
            }
            Err(e) => return (format!("receive failed after {i} bytes: {e}"), false),
        }
        if start.elapsed() > within {
            let sent = i + 1;
            return (
                format!("still open after {sent} bytes in {} ms", ms(start)),
                false,
            );
        }
    }
    ("the whole PDU went out".to_string(), false)
}

/// An A-ASSOCIATE-RQ sent one byte at a time.
pub fn byte_by_byte_associate(h: &Hostile) -> Outcome {
    let expected = "closed by ARTIM before the A-ASSOCIATE-RQ is complete";
    judged("byte-by-byte-associate", expected, h, || {
        let t = &h.target;
        let mut peer = connect(t)?;
        let mut bytes = bytes::BytesMut::new();
        dimse_core::pdu::encode(
            &Pdu::AssociateRq(request(t, vec![verification()])),
            &mut bytes,
        );
        let interval = (h.artim / 8).max(Duration::from_millis(50));
        Ok(drip(&mut peer, &bytes, interval, h.artim + SLACK))
    })
}

/// After association, a C-ECHO-RQ sent one byte at a time: the SCP sees no complete PDU, so
/// its idle timer runs out.
pub fn byte_by_byte_after_associate(h: &Hostile) -> Outcome {
    let expected = "A-RELEASE-RQ or A-ABORT once the idle timeout passes";
    judged("byte-by-byte-after-associate", expected, h, || {
        let t = &h.target;
        let mut peer = connect(t)?;
        associate_verification(&mut peer, t, request(t, vec![verification()]))?;
        let mut bytes = bytes::BytesMut::new();
        dimse_core::pdu::encode(&whole_command(echo_command()), &mut bytes);
        let interval = (h.idle / 8).max(Duration::from_millis(50));
        let (got, ended) = drip(&mut peer, &bytes, interval, h.idle + h.acse + SLACK);
        // Whatever the SCP sent first, it must then close.
        let (end, _) = wait_for_end(&mut peer, h.acse + SLACK)?;
        let closed = end.is_closed() || matches!(end, Observed::Pdu(Pdu::Abort(_)));
        Ok((format!("{got}, then {end}"), ended && closed))
    })
}

/// An A-ASSOCIATE-RQ proposing 2,000 presentation contexts (PS3.8 allows at most 128).
pub fn thousands_of_contexts(h: &Hostile) -> Outcome {
    let expected = "A-ASSOCIATE-RJ or A-ABORT, not an A-ASSOCIATE-AC";
    judged("thousands-of-contexts", expected, h, || {
        let t = &h.target;
        let mut peer = connect(t)?;
        let mut rq = request(t, vec![verification()]);
        let user = rq
            .items
            .pop()
            .expect("a request ends with its user information");
        for i in 0..2000u32 {
            rq.items
                .push(Item::PresentationContextRq(PresentationContextRq {
                    id: (i % 128 * 2 + 1) as u8,
                    abstract_syntax: uid::VERIFICATION.to_string(),
                    transfer_syntaxes: vec![uid::IMPLICIT_VR_LE.to_string()],
                }));
        }
        rq.items.push(user);
        send(&mut peer, &Pdu::AssociateRq(rq))?;
        let seen = observe(&mut peer, t)?;
        let passed = matches!(
            seen,
            Observed::Pdu(Pdu::AssociateRj(_)) | Observed::Pdu(Pdu::Abort(_))
        ) || seen.is_closed();
        Ok((seen.to_string(), passed))
    })
}

/// A command set whose group length and element length claim gigabytes.
pub fn absurd_command_lengths(h: &Hostile) -> Outcome {
    let expected = "A-ABORT (undecodable command set) or close";
    judged("absurd-command-lengths", expected, h, || {
        let t = &h.target;
        let mut peer = connect(t)?;
        associate_verification(&mut peer, t, request(t, vec![verification()]))?;
        let mut command = Vec::new();
        // (0000,0000) UL 4 = 0xFFFFFFF0, then (0000,0002) UI with length 0xFFFFFFFF.
        command.extend_from_slice(&[0, 0, 0, 0, 4, 0, 0, 0, 0xF0, 0xFF, 0xFF, 0xFF]);
        command.extend_from_slice(&[0, 0, 2, 0, 0xFF, 0xFF, 0xFF, 0xFF, b'1', b'.', b'2', 0]);
        send(&mut peer, &whole_command(Bytes::from(command)))?;
        expect_abort_or_close(&mut peer, t)
    })
}

fn start_store(peer: &mut RawPeer, t: &Target) -> Result<(), String> {
    let ac = associate(peer, t, store_request(t))?;
    if !ac
        .presentation_contexts()
        .any(|pc| pc.id == STORE_CONTEXT && pc.result.code() == 0)
    {
        return Err("the SCP does not accept CT Image Storage".into());
    }
    let rq = CStoreRq::new(
        7,
        uid::CT_IMAGE_STORAGE,
        UNFINISHED_INSTANCE,
        Priority::Medium,
    );
    send(
        peer,
        &Pdu::PData(PData {
            pdvs: vec![Pdv {
                context_id: STORE_CONTEXT,
                control: Pdv::COMMAND | Pdv::LAST,
                data: rq.to_command().to_bytes(),
            }],
        }),
    )
}

/// A data set fragment of `len` zero bytes (not last).
fn data_pdu(len: usize) -> Pdu {
    Pdu::PData(PData {
        pdvs: vec![Pdv {
            context_id: STORE_CONTEXT,
            control: 0,
            data: Bytes::from(vec![0u8; len]),
        }],
    })
}

/// A C-STORE whose peer closes the connection halfway through the data set.
pub fn vanish_mid_data_set(h: &Hostile) -> Outcome {
    let expected =
        "the SCP serves on (no response is owed; whether the half data set was kept is the caller's to check)";
    judged("vanish-mid-data-set", expected, h, || {
        let t = &h.target;
        let mut peer = connect(t)?;
        start_store(&mut peer, t)?;
        send(&mut peer, &data_pdu(16 * 1024))?;
        peer.shutdown();
        Ok((
            "connection closed after 16 KiB of the data set".into(),
            true,
        ))
    })
}

/// A C-STORE whose data set never ends.
pub fn endless_data_set(h: &Hostile) -> Outcome {
    let expected = "A-ABORT or close once the data set passes the SCP's limit";
    judged("endless-data-set", expected, h, || {
        let t = &h.target;
        let mut peer = connect(t)?;
        start_store(&mut peer, t)?;
        let chunk = 64 * 1024;
        let mut sent: u64 = 0;
        // Twice the limit: a conforming SCP has given up long before.
        while sent < h.max_data_set * 2 {
            if peer.send_pdu(&data_pdu(chunk)).is_err() {
                break;
            }
            sent += chunk as u64;
        }
        let (seen, _) = wait_for_end(&mut peer, t.timeout)?;
        let passed = sent < h.max_data_set * 2 || !matches!(seen, Observed::Timeout);
        Ok((
            format!("{seen} after {} MiB of data set", sent >> 20),
            passed,
        ))
    })
}

/// `connections` connections opened at once and left silent while another peer associates.
pub fn thousand_connections(h: &Hostile) -> Outcome {
    let expected =
        "every connection accepted or refused without harm; a new association is served meanwhile";
    let t = &h.target;
    let result = (|| {
        let mut open = Vec::with_capacity(h.connections);
        let mut refused = 0;
        let addr = (t.host.as_str(), t.port)
            .to_socket_addrs()
            .map_err(|e| format!("resolving {}: {e}", t.host))?
            .next()
            .ok_or("the host resolves to no address")?;
        for _ in 0..h.connections {
            // A full backlog leaves a connect hanging: bounded, it counts as refused.
            match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
                Ok(s) => open.push(s),
                Err(_) => refused += 1,
            }
        }
        still_serving(h)?;
        let n = open.len();
        drop(open);
        Ok((
            format!("{n} connections open ({refused} refused) and a new association served"),
            true,
        ))
    })();
    let result = result.and_then(|(got, passed)| {
        still_serving(h)?;
        Ok((got, passed))
    });
    finish("thousand-connections", expected, result)
}
