//! `--trace` and `dimse decode`: the PDUs `dimse serve --trace` and `dimse --trace store`
//! print during an exchange are the PDUs `dimse decode` finds in a tcpdump capture of it.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use dimse_tests::{
    corpus_dir, dimse, free_port, peers_required, require_peer, run, temp_dir, Peer, Server,
};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The PDU lines of a trace, by connection and within it by direction (`→` lines then `←`
/// lines, each PDU with its indented details): `#N ` taken off, connection and stream
/// headers left out (they name ports, which differ by side). Directions are apart because
/// the order between them is each side's own view: a pipelined request may cross a response
/// on the wire.
fn pdus_by_connection(trace: &str) -> Vec<Vec<String>> {
    let mut by: BTreeMap<u64, (Vec<String>, Vec<String>, bool)> = BTreeMap::new();
    for line in trace.lines() {
        // A spawned server's output comes with the stream it was written to.
        let line = line
            .strip_prefix("[err] ")
            .or_else(|| line.strip_prefix("[out] "))
            .unwrap_or(line);
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let Some((n, text)) = rest.split_once(' ') else {
            continue;
        };
        let Ok(n) = n.parse() else { continue };
        let (sent, received, receiving) = by.entry(n).or_default();
        if text.starts_with('→') {
            *receiving = false;
        } else if text.starts_with('←') {
            *receiving = true;
        } else if !text.starts_with(' ') {
            continue;
        }
        if *receiving { received } else { sent }.push(text.to_string());
    }
    let mut all: Vec<Vec<String>> = by
        .into_values()
        .map(|(mut sent, received, _)| {
            sent.extend(received);
            sent
        })
        .collect();
    all.sort();
    all
}

/// tcpdump able to capture on loopback here, or why not.
fn tcpdump() -> Option<()> {
    let ok = Command::new("tcpdump")
        .args(["-D"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("lo"));
    if ok {
        return Some(());
    }
    if peers_required() {
        panic!("DIMSE_REQUIRE_PEERS=1 but tcpdump cannot list loopback: apt-get install tcpdump, as root");
    }
    eprintln!(
        "SKIPPED: tcpdump missing or not allowed to capture (apt-get install tcpdump, run as root)"
    );
    None
}

#[test]
fn decode_of_a_capture_shows_what_trace_showed() {
    let Some(()) = tcpdump() else { return };
    let tmp = temp_dir("trace_decode");
    let capture = tmp.path().join("exchange.pcap");
    let port = free_port();

    let mut cmd = dimse([
        "--trace",
        "serve",
        "--aet",
        "TRACED",
        "--port",
        &port.to_string(),
    ]);
    cmd.arg("--dir").arg(tmp.subdir("archive"));
    let mut server = Server::spawn("dimse --trace serve", &mut cmd);
    server.wait_for_output("listening on", TIMEOUT);

    let mut cmd = Command::new("tcpdump");
    cmd.args(["-i", "lo", "--immediate-mode", "-U", "-n", "-w"])
        .arg(&capture)
        .args(["tcp", "port", &port.to_string()]);
    let mut tcpdump = Server::spawn("tcpdump", &mut cmd);
    tcpdump.wait_for_output("listening on", TIMEOUT);

    // dimse as SCU, traced on both sides; DCMTK's storescu, traced by serve only.
    let mut store = dimse([
        "--trace",
        "store",
        "--aec",
        "TRACED",
        "127.0.0.1",
        &port.to_string(),
    ]);
    store.arg(corpus_dir().join("CT_small.dcm"));
    store.arg(corpus_dir().join("MR_small.dcm"));
    let scu = run(store, TIMEOUT);
    scu.assert_success("dimse --trace store");
    let echo = run(
        dimse([
            "--trace",
            "echo",
            "--aec",
            "TRACED",
            "127.0.0.1",
            &port.to_string(),
        ]),
        TIMEOUT,
    );
    echo.assert_success("dimse --trace echo");
    if let Some(storescu) = require_peer(Peer::Dcmtk("storescu")) {
        let mut cmd = storescu.command();
        cmd.args(["-aec", "TRACED", "127.0.0.1", &port.to_string()])
            .arg(corpus_dir().join("rtplan.dcm"));
        run(cmd, TIMEOUT).assert_success("DCMTK storescu into dimse --trace serve");
    }

    // Let the last packets reach the capture, then stop it cleanly.
    let deadline = Instant::now() + TIMEOUT;
    let expected_connections = 2 + usize::from(find_storescu());
    let released = |trace: &[Vec<String>]| {
        trace.len() == expected_connections
            && trace
                .iter()
                .all(|c| c.last().is_some_and(|l| l == "← A-RELEASE-RP"))
    };
    while !released(&pdus_by_connection(&server.output())) {
        assert!(
            Instant::now() < deadline,
            "serve's trace:\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-INT", &tcpdump.pid().to_string()])
        .status();
    tcpdump.wait_for_output("packets captured", TIMEOUT);

    let decoded = run(
        {
            let mut cmd = dimse(["decode"]);
            cmd.arg(&capture);
            cmd
        },
        TIMEOUT,
    );
    decoded.assert_success("dimse decode");
    let streams = pdus_by_connection(&decoded.stdout);
    assert_eq!(
        streams.len(),
        expected_connections,
        "{}\ntcpdump:\n{}",
        decoded.all(),
        tcpdump.output()
    );

    // Every connection serve traced is a stream of the capture, PDU for PDU, line for line.
    assert_same(
        "serve's trace",
        &pdus_by_connection(&server.output()),
        &streams,
    );
    // The SCU's own trace of its two connections is in the capture too.
    for connection in pdus_by_connection(&scu.stderr)
        .into_iter()
        .chain(pdus_by_connection(&echo.stderr))
    {
        assert!(streams.contains(&connection), "{connection:#?}");
    }
    let text = decoded.stdout.as_str();
    for expected in [
        "→ A-ASSOCIATE-RQ calling \"DIMSE\" called \"TRACED\"",
        "      C-STORE-RQ",
        "      C-ECHO-RSP",
        "(0000,0900) US Status",
        "data set of",
        "→ A-RELEASE-RQ",
        "← A-RELEASE-RP",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
    // Patient data stays out of the trace unless asked for.
    assert!(!text.contains("CompressedSamples"), "{text}");
    let with_data = run(
        {
            let mut cmd = dimse(["decode", "--data"]);
            cmd.arg(&capture);
            cmd
        },
        TIMEOUT,
    );
    assert!(
        with_data.stdout.contains("(0010,0010) PN PatientName"),
        "{}",
        with_data.all()
    );
    server.assert_running();
}

/// Equal traces, or a panic naming the first line that differs (traces are long).
fn assert_same(what: &str, traced: &[Vec<String>], decoded: &[Vec<String>]) {
    assert_eq!(traced.len(), decoded.len(), "{what}: connections");
    for (i, (a, b)) in traced.iter().zip(decoded).enumerate() {
        if let Some(n) = (0..a.len().max(b.len())).find(|&n| a.get(n) != b.get(n)) {
            panic!(
                "{what} and the decoded capture differ in connection {i} at line {n}:\n  traced:  {:?}\n  decoded: {:?}",
                a.get(n),
                b.get(n)
            );
        }
    }
}

fn find_storescu() -> bool {
    dimse_tests::find_peer(Peer::Dcmtk("storescu")).is_some()
}

/// A raw dump (what one side sent, written back to back) decodes as the bytes of one side.
#[test]
fn decode_of_a_raw_dump() {
    let tmp = temp_dir("decode_raw");
    let dump = tmp.path().join("dump.bin");
    // A-RELEASE-RQ then an A-ABORT from the service provider, reason 2 (unexpected PDU).
    std::fs::write(
        &dump,
        [5, 0, 0, 0, 0, 4, 0, 0, 0, 0, 7, 0, 0, 0, 0, 4, 0, 0, 2, 2],
    )
    .unwrap();
    let mut cmd = dimse(["decode"]);
    cmd.arg(&dump);
    let out = run(cmd, TIMEOUT);
    out.assert_success("dimse decode of a raw dump");
    assert!(out.stdout.contains("#1 → A-RELEASE-RQ"), "{}", out.all());
    assert!(
        out.stdout.contains("#1 → A-ABORT source 2"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("raw dump"), "{}", out.all());
}
