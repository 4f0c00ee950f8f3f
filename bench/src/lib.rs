//! Shared set-up for dimse's benchmarks: an established in-memory association pair, the
//! small instances the archive benchmarks store, and a relay that puts a wide-area link's
//! latency between two loopback peers.
#![forbid(unsafe_code)]

pub mod corpus;
pub mod relay;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use bytes::BytesMut;
use dimse_core::assoc::{
    AcceptorPolicy, Association, Config, Event, Proposal, ProposedContext, SupportedSyntax,
};
use dimse_core::uid;

/// The presentation context ID of CT Image Storage in [`pair`].
pub const STORE_CTX: u8 = 1;

/// Requestor and acceptor, established in memory, both proposing and accepting `max_pdu`.
///
/// ```
/// let (rq, ac, _now) = dimse_bench::pair(16 * 1024);
/// assert!(rq.negotiated().is_some() && ac.negotiated().is_some());
/// ```
pub fn pair(max_pdu: u32) -> (Association, Association, Instant) {
    let now = Instant::now();
    let mut proposal = Proposal::new("BENCH_SCU", "BENCH_SCP");
    proposal.max_pdu = max_pdu;
    proposal.contexts.push(ProposedContext::new(
        uid::CT_IMAGE_STORAGE,
        &[uid::EXPLICIT_VR_LE],
    ));
    let config = Config::default();
    let mut rq = Association::requestor(&proposal, config.clone(), now);
    let mut ac = Association::acceptor(config, now);
    let mut policy = AcceptorPolicy::new("BENCH_SCP");
    policy.max_pdu = max_pdu;
    policy.supported.push(SupportedSyntax::uid(
        uid::CT_IMAGE_STORAGE,
        &[uid::EXPLICIT_VR_LE],
    ));
    rq.handle_connected(now)
        .expect("a fresh requestor connects");
    carry(&mut rq, &mut ac, now);
    while let Some(e) = ac.poll_event() {
        if matches!(e, Event::Requested(_)) {
            ac.respond_with_policy(now, &policy)
                .expect("a request is pending");
        }
    }
    carry(&mut ac, &mut rq, now);
    while rq.poll_event().is_some() {}
    (rq, ac, now)
}

/// The median of `values` (the mean of the middle two for an even count; NaN for none): the
/// figure the benchmarks report of repeated runs and take ratios of.
///
/// ```
/// assert_eq!(dimse_bench::median(&[3.0, 1.0, 2.0]), 2.0);
/// assert_eq!(dimse_bench::median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
/// assert!(dimse_bench::median(&[]).is_nan());
/// ```
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Where Debian package `package` installed program `name`, from `dpkg -L`: PATH may start
/// with pyenv shims that shadow DCMTK's tools with pynetdicom's of the same name.
pub fn packaged_tool(package: &str, name: &str) -> Option<PathBuf> {
    let out = Command::new("dpkg").args(["-L", package]).output().ok()?;
    let suffix = format!("/bin/{name}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.ends_with(&suffix))
        .map(PathBuf::from)
}

/// Moves everything `from` has to send into `to`'s input.
pub fn carry(from: &mut Association, to: &mut Association, now: Instant) {
    let mut wire = BytesMut::new();
    while let Some(t) = from.poll_transmit() {
        wire.extend_from_slice(&t.head);
        wire.extend_from_slice(&t.body);
    }
    to.handle_input(now, &mut wire);
}
