//! Case (6): a wide-area link. Every SCU reaches its SCP through [`Relay`], which adds 20 ms
//! each way, so a peer that waits for each response pays 40 ms per operation and one that
//! keeps operations in flight (the asynchronous operations window, several associations,
//! the pending responses of a C-FIND) pays it a few times per run.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dimse_bench::median;
use dimse_bench::relay::Relay;

use super::{count_files, free_port, make_instances, start_scp, Scp, Side, Tools, SCP_AET};

const DELAY: Duration = Duration::from_millis(20);
/// The tag of the instances queried: they make one study, one series.
const FIND_TAG: &str = "6";

/// One way of sending the same files through the relay.
struct Sender {
    label: &'static str,
    scp: Side,
    /// storescp --fork: one process per association, as several associations need.
    fork: bool,
    scu: fn(&Tools, u16, &Path) -> Command,
}

fn dcmsend(t: &Tools, port: u16, files: &Path) -> Command {
    let mut cmd = Command::new(t.dcmtk.as_ref().unwrap().join("dcmsend"));
    cmd.env("TCP_NODELAY", "1")
        .args(["-aec", SCP_AET, "+sd", "127.0.0.1", &port.to_string()])
        .arg(files);
    cmd
}

fn dimse_store(t: &Tools, port: u16, files: &Path) -> Command {
    let mut cmd = Command::new(&t.dimse);
    cmd.args(["store", "--aec", SCP_AET, "127.0.0.1", &port.to_string()])
        .arg(files);
    cmd
}

fn dimse_store_8(t: &Tools, port: u16, files: &Path) -> Command {
    let mut cmd = dimse_store(t, port, files);
    cmd.args(["--parallel", "8"]);
    cmd
}

/// Seconds for `scu` to send every file of `files` through a relay to a fresh `scp`, or
/// `None` (with a line saying why) if not all arrived.
fn send(t: &Tools, s: &Sender, files: &Path, expected: usize, out: &Path) -> Option<f64> {
    let port = free_port();
    let _scp = start_scp(t, s.scp, port, out, s.fork);
    let relay = Relay::start(([127, 0, 0, 1], port).into(), DELAY).unwrap();
    let started = Instant::now();
    let ok = (s.scu)(t, relay.port(), files)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    let seconds = started.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_files(out) < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let arrived = count_files(out);
    let _ = fs::remove_dir_all(out);
    if ok && arrived == expected {
        Some(seconds)
    } else {
        eprintln!(
            "  {}: FAILED (exit ok: {ok}, {arrived} of {expected} arrived)",
            s.label
        );
        None
    }
}

pub(super) fn run(t: &Tools, work: &Path, count: usize, rounds: usize) {
    println!(
        "\n(6) through a relay adding {} ms each way (bench/src/relay.rs): {count} instances of \
         64 KiB, then a C-FIND with 1,000 matches: seconds (median of {rounds}), and how many \
         times faster than DCMTK (dcmsend -> storescp, findscu -> dcmqrscp)",
        DELAY.as_millis()
    );
    let files = work.join("latency");
    make_instances(&files, count, 64 * 1024, "5");
    let mut senders = vec![
        Sender {
            label: "dimse store -> dimse serve",
            scp: Side::Dimse,
            fork: false,
            scu: dimse_store,
        },
        Sender {
            label: "dimse store --parallel 8 -> dimse serve",
            scp: Side::Dimse,
            fork: false,
            scu: dimse_store_8,
        },
    ];
    if t.dcmtk.is_some() {
        senders.splice(
            0..0,
            [
                Sender {
                    label: "dcmsend -> storescp",
                    scp: Side::Dcmtk,
                    fork: false,
                    scu: dcmsend,
                },
                Sender {
                    label: "dimse store -> storescp (no window granted)",
                    scp: Side::Dcmtk,
                    fork: false,
                    scu: dimse_store,
                },
                Sender {
                    label: "dimse store --parallel 8 -> storescp --fork",
                    scp: Side::Dcmtk,
                    fork: true,
                    scu: dimse_store_8,
                },
            ],
        );
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); senders.len()];
    for r in 0..rounds {
        for (i, s) in senders.iter().enumerate() {
            let out = work.join(format!("latency-out-{r}-{i}"));
            times[i].extend(send(t, s, &files, count, &out));
        }
    }
    let base = senders
        .iter()
        .position(|s| s.label.starts_with("dcmsend"))
        .map_or(f64::NAN, |i| median(&times[i]));
    for (s, t) in senders.iter().zip(&times) {
        print_line(s.label, t, base);
    }
    find_cases(t, work, rounds);
}

fn print_line(label: &str, times: &[f64], base: f64) {
    let m = median(times);
    let ratio = if base.is_nan() {
        String::new()
    } else {
        format!("   {:6.1}x", base / m)
    };
    println!("  {label:<46} {m:8.2} s{ratio}");
}

/// The C-FIND part: 1,000 instances of one series, found at IMAGE level by their study and
/// series; each SCP is loaded directly, only the query crosses the relay.
fn find_cases(t: &Tools, work: &Path, rounds: usize) {
    let files = work.join("find");
    let paths = make_instances(&files, 1000, 512, FIND_TAG);
    let study = format!("1.2.826.0.1.3680043.9.7433.{FIND_TAG}");
    let keys = [
        "QueryRetrieveLevel=IMAGE".to_string(),
        format!("StudyInstanceUID={study}"),
        format!("SeriesInstanceUID={study}.0"),
        "SOPInstanceUID".to_string(),
    ];

    let serve_port = free_port();
    let _serve = start_scp(t, Side::Dimse, serve_port, &work.join("find-serve"), false);
    let loaded = dimse_store(t, serve_port, &files)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(loaded, "loading dimse serve for the C-FIND case failed");
    let qr = t
        .dcmtk
        .as_ref()
        .and_then(|d| start_dcmqrscp(d, &work.join("find-dcmqrscp"), &paths));

    let dimse_find = |port: u16| {
        let mut cmd = Command::new(&t.dimse);
        cmd.args(["find", "--json", "--aec", SCP_AET, "--level", "IMAGE"]);
        for k in &keys[1..] {
            cmd.args(["-k", k]);
        }
        cmd.args(["127.0.0.1", &port.to_string()]);
        cmd
    };
    let findscu = |port: u16| {
        let mut cmd = Command::new(t.dcmtk.as_ref().unwrap().join("findscu"));
        cmd.env("TCP_NODELAY", "1").args(["-S", "-aec", SCP_AET]);
        for k in &keys {
            cmd.args(["-k", k]);
        }
        cmd.args(["127.0.0.1", &port.to_string()]);
        cmd
    };
    // (label, command to a relay port, SCP port, how a match shows in the output)
    type Query<'a> = (
        &'static str,
        Box<dyn Fn(u16) -> Command + 'a>,
        u16,
        &'static str,
    );
    let mut queries: Vec<Query> = Vec::new();
    if let Some((_, port)) = &qr {
        queries.push(("findscu -> dcmqrscp", Box::new(findscu), *port, "(Pending)"));
        queries.push((
            "findscu -> dimse serve",
            Box::new(findscu),
            serve_port,
            "(Pending)",
        ));
    }
    queries.push((
        "dimse find -> dimse serve",
        Box::new(dimse_find),
        serve_port,
        "\"00080018\"",
    ));
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); queries.len()];
    for _ in 0..rounds {
        for (i, (label, cmd, port, marker)) in queries.iter().enumerate() {
            let relay = Relay::start(([127, 0, 0, 1], *port).into(), DELAY).unwrap();
            let started = Instant::now();
            let out = cmd(relay.port()).output().expect("query tool runs");
            let seconds = started.elapsed().as_secs_f64();
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            let matches = text.matches(marker).count();
            if out.status.success() && matches == 1000 {
                times[i].push(seconds);
            } else {
                eprintln!("  {label}: FAILED ({matches} of 1000 matches)");
            }
        }
    }
    let base = if qr.is_some() {
        median(&times[0])
    } else {
        f64::NAN
    };
    for ((label, ..), t) in queries.iter().zip(&times) {
        print_line(label, t, base);
    }
}

/// DCMTK's dcmqrscp holding `files` (registered with dcmqridx), on a free port.
fn start_dcmqrscp(dcmtk: &Path, dir: &Path, files: &[std::path::PathBuf]) -> Option<(Scp, u16)> {
    let storage = dir.join("storage");
    fs::create_dir_all(&storage).unwrap();
    let port = free_port();
    // No UserName/GroupName: as root dcmqrscp would switch to that user. A quota far above
    // the data, so nothing is evicted.
    let config = format!(
        "NetworkTCPPort = {port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n\
         HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n\
         AETable BEGIN\n{SCP_AET} {} RW (10, 1024mb) ANY\nAETable END\n",
        storage.display()
    );
    let cfg = dir.join("dcmqrscp.cfg");
    fs::write(&cfg, config).unwrap();
    let copies: Vec<_> = files
        .iter()
        .map(|f| {
            let dest = storage.join(f.file_name().unwrap());
            fs::copy(f, &dest).unwrap();
            dest
        })
        .collect();
    let indexed = Command::new(dcmtk.join("dcmqridx"))
        .arg(&storage)
        .args(&copies)
        .status()
        .is_ok_and(|s| s.success());
    if !indexed {
        eprintln!("  dcmqridx failed: no dcmqrscp case");
        return None;
    }
    let mut cmd = Command::new(dcmtk.join("dcmqrscp"));
    cmd.env("TCP_NODELAY", "1")
        .arg("-c")
        .arg(&cfg)
        .args(["-dhl", &port.to_string()]);
    Some((Scp::start("dcmqrscp", cmd, port), port))
}
