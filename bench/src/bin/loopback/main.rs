//! End-to-end loopback benchmark: dimse and DCMTK (and pynetdicom once) on the same machine,
//! in the same run, reported as rates and as ratios.
//!
//! ```sh
//! cargo build --release -p dimse-cli -p dimse-bench
//! target/release/loopback [--quick] [--huge] [--rounds N] [--cases 1,2,6]
//! target/release/loopback --cases 7 [--instances 250000]
//! ```
//!
//! Cases: (1) 2,000 instances of 64 KiB over one association; (2) 16 instances of 32 MiB;
//! (3) associate/echo/release cycles from one process; (4) eight SCUs in parallel into one SCP;
//! (5) SCP peak memory (VmHWM) for case 2, for one 1 GiB instance (`--huge`) and for 1,000
//! idle associations, and `dimse store`'s own peak sending case 2's files and the 1 GiB
//! instance into each SCP; (6) latency: the same SCUs through a relay adding 20 ms each way
//! (`latency.rs`); (7) `dimse serve` filled with 250,000 instances: ingest rate, index size,
//! C-FIND latency (`at_size.rs`, only with `--cases 7`). Cases 1, 2 and 4 also print the SCP's CPU time (user + system, from
//! `/proc/PID/stat`, with the children a forking storescp has reaped) per instance or per MB:
//! the receiver's cost of what each SCU sends. DCMTK runs with `TCP_NODELAY=1` (without it
//! Nagle caps it at a few dozen messages per second on loopback).
//!
//! Two receivers that keep nothing bound what a sender can reach: in case 1, storescu into
//! `null_scp` (src/bin/null_scp.rs, which answers every C-STORE with success and drops the
//! data) is storescu's own ceiling, the most that any SCP could take from it; in case 2,
//! `storescp --ignore` compares dimse's SCU and storescu into DCMTK without storescp's file
//! writes.

mod at_size;
mod latency;

use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use dimse_bench::median;
use dimse_core::dataset::DataSet;
use dimse_core::part10::FileMeta;
use dimse_core::uid::{self, TransferSyntax};

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const SCP_AET: &str = "BENCH_SCP";

struct Tools {
    dimse: PathBuf,
    dcmtk: Option<PathBuf>,
    pynetdicom: bool,
}

fn find_tools() -> Tools {
    let exe = std::env::current_exe().expect("own path");
    let dimse = exe.with_file_name("dimse");
    assert!(
        dimse.is_file(),
        "{} not found: cargo build --release -p dimse-cli",
        dimse.display()
    );
    let dcmtk = dimse_bench::packaged_tool("dcmtk", "storescp")
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let pynetdicom = Command::new("python3")
        .args(["-c", "import pynetdicom"])
        .status()
        .is_ok_and(|s| s.success());
    Tools {
        dimse,
        dcmtk,
        pynetdicom,
    }
}

/// Writes `count` CT instances of about `size` bytes under `dir`.
fn make_instances(dir: &Path, count: usize, size: usize, tag: &str) -> Vec<PathBuf> {
    fs::create_dir_all(dir).unwrap();
    let pixels = vec![0x5Au8; size];
    (0..count)
        .map(|i| {
            let sop = format!("1.2.826.0.1.3680043.9.7433.{tag}.{}", i + 1);
            let ds = DataSet::new()
                .with("SOPClassUID", CT)
                .and_then(|d| d.with("SOPInstanceUID", &sop))
                .and_then(|d| d.with("PatientID", "BENCH"))
                .and_then(|d| d.with("PatientName", "BENCH^MARK"))
                .and_then(|d| {
                    d.with(
                        "StudyInstanceUID",
                        &format!("1.2.826.0.1.3680043.9.7433.{tag}"),
                    )
                })
                .and_then(|d| {
                    d.with(
                        "SeriesInstanceUID",
                        &format!("1.2.826.0.1.3680043.9.7433.{tag}.0"),
                    )
                })
                .and_then(|d| d.with("Modality", "CT"))
                .unwrap();
            let mut out = BytesMut::new();
            FileMeta::new(CT, &sop, uid::EXPLICIT_VR_LE).encode(&mut out);
            ds.encode(&TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut out);
            // (7FE0,0010) OB, the bulk of the instance.
            out.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
            out.extend_from_slice(&(pixels.len() as u32).to_le_bytes());
            let path = dir.join(format!("{i:05}.dcm"));
            let mut f = fs::File::create(&path).unwrap();
            f.write_all(&out).unwrap();
            f.write_all(&pixels).unwrap();
            path
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Scp {
    child: Child,
}

impl Scp {
    fn start(name: &'static str, mut cmd: Command, port: u16) -> Scp {
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{name} did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Scp { child }
    }

    /// Peak resident memory of the SCP process so far, in MiB (Linux VmHWM).
    fn peak_mib(&self) -> f64 {
        peak_mib_of(self.child.id())
    }
}

/// Peak resident memory of a running process so far, in MiB (Linux VmHWM; NaN once it has
/// exited).
fn peak_mib_of(pid: u32) -> f64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Peak resident memory of `dimse store` sending `files` into `scp`, read from /proc every
/// 2 ms while it runs (the last reading is at most that long before its exit). A run of its
/// own, not timed: the polling would blur a rate.
fn scu_peak(t: &Tools, scp: Side, files: &Path, work: &Path) -> Option<f64> {
    settle();
    let port = free_port();
    let out = work.join("scu-peak");
    let _server = start_scp(t, scp, port, &out, false);
    let mut scu = scu_command(t, Side::Dimse, port, files)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut peak = 0f64;
    let status = loop {
        if let Some(status) = scu.try_wait().ok()? {
            break status;
        }
        let now = peak_mib_of(scu.id());
        if now.is_finite() {
            peak = peak.max(now);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = fs::remove_dir_all(&out);
    (status.success() && peak > 0.0).then_some(peak)
}

impl Scp {
    /// CPU time (user and system) of the SCP process so far, with that of the children it
    /// has reaped (a forking storescp's), in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the parenthesised command name; utime, stime, cutime, cstime are the
        // 14th to 17th of the line, in USER_HZ ticks (100 per second on Linux).
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let ticks: f64 = after
            .split_whitespace()
            .skip(11)
            .take(4)
            .filter_map(|f| f.parse::<f64>().ok())
            .sum();
        if after.is_empty() {
            f64::NAN
        } else {
            ticks / 100.0
        }
    }
}

impl Drop for Scp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Dimse,
    Dcmtk,
    Pynetdicom,
    /// `null_scp` (src/bin/null_scp.rs): an SCP that reads each data set and keeps nothing,
    /// so a sender into it runs at its own ceiling.
    Sink,
    /// DCMTK's `storescp --ignore`: receives every data set and writes none, so two senders
    /// into it are compared without the disk.
    DcmtkIgnore,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Dimse => "dimse",
            Side::Dcmtk => "DCMTK",
            Side::Pynetdicom => "pynetdicom",
            Side::Sink => "sink",
            Side::DcmtkIgnore => "DCMTK/ig",
        }
    }
}

fn start_scp(t: &Tools, side: Side, port: u16, out: &Path, parallel: bool) -> Scp {
    let _ = fs::remove_dir_all(out);
    fs::create_dir_all(out).unwrap();
    match side {
        Side::Dimse => {
            let mut cmd = Command::new(&t.dimse);
            cmd.args(["serve", "--aet", SCP_AET, "--port", &port.to_string()])
                .args(["--max-associations", "1100", "--dir"])
                .arg(out);
            Scp::start("dimse serve", cmd, port)
        }
        Side::Sink => {
            let mut cmd = Command::new(t.dimse.with_file_name("null_scp"));
            cmd.args([SCP_AET, &port.to_string()]);
            Scp::start("null_scp", cmd, port)
        }
        Side::Dcmtk | Side::DcmtkIgnore => {
            let mut cmd = Command::new(t.dcmtk.as_ref().unwrap().join("storescp"));
            cmd.env("TCP_NODELAY", "1")
                .args(["-aet", SCP_AET, "-od"])
                .arg(out)
                .args(if parallel { &["--fork"][..] } else { &[][..] })
                .args(if side == Side::DcmtkIgnore {
                    &["--ignore"][..]
                } else {
                    &[][..]
                })
                .arg(port.to_string());
            Scp::start("storescp", cmd, port)
        }
        Side::Pynetdicom => {
            let mut cmd = Command::new("python3");
            cmd.args(["-m", "pynetdicom", "storescp", "-aet", SCP_AET, "-od"])
                .arg(out)
                .arg(port.to_string());
            Scp::start("pynetdicom storescp", cmd, port)
        }
    }
}

fn scu_command(t: &Tools, side: Side, port: u16, files: &Path) -> Command {
    match side {
        Side::Dimse | Side::Sink | Side::DcmtkIgnore => {
            let mut cmd = Command::new(&t.dimse);
            cmd.args(["store", "--aec", SCP_AET, "127.0.0.1", &port.to_string()])
                .arg(files);
            cmd
        }
        Side::Dcmtk => {
            let mut cmd = Command::new(t.dcmtk.as_ref().unwrap().join("storescu"));
            cmd.env("TCP_NODELAY", "1")
                .args(["-aec", SCP_AET, "+sd", "127.0.0.1", &port.to_string()])
                .arg(files);
            cmd
        }
        Side::Pynetdicom => {
            let mut cmd = Command::new("python3");
            cmd.args(["-m", "pynetdicom", "storescu", "-aec", SCP_AET, "127.0.0.1"])
                .arg(port.to_string())
                .arg(files);
            cmd
        }
    }
}

/// Who sends to whom; `window_one` keeps dimse's SCU at one C-STORE in flight.
#[derive(Clone, Copy, PartialEq)]
struct Pairing {
    scu: Side,
    scp: Side,
    window_one: bool,
}

impl Pairing {
    fn new(scu: Side, scp: Side) -> Pairing {
        Pairing {
            scu,
            scp,
            window_one: false,
        }
    }

    fn label(self) -> String {
        format!("{:>5} -> {:<5}", self.scu.name(), self.scp.name())
    }
}

/// Flushes dirty pages to disk so that each run starts from the same state.
fn settle() {
    let _ = Command::new("sync").status();
}

/// What `rounds` runs of one pairing measured.
struct Measured {
    pairing: Pairing,
    /// Per second of the units sent, one per run.
    rates: Vec<f64>,
    /// The SCP's peak resident memory over the runs, MiB.
    peak_mib: f64,
    /// The SCP's CPU time per unit sent, seconds, one per run.
    cpu_per_unit: Vec<f64>,
}

/// The rates (per second of `units`), SCP peaks and SCP CPU of `rounds` runs of each pairing,
/// taken in turn so that a slow spell of the machine hits every pairing alike. The order
/// turns each round (A B C D, then B A D C, then C D A B) so that no pairing always follows
/// the same one: whatever a run leaves behind (freed blocks and pages, a fuller page cache)
/// was seen to make the next SCP's writes several times slower.
fn rounds(
    t: &Tools,
    pairings: &[Pairing],
    inputs: &[PathBuf],
    expected: usize,
    units: f64,
    work: &Path,
    rounds: usize,
) -> Vec<Measured> {
    let mut results: Vec<Measured> = pairings
        .iter()
        .map(|p| Measured {
            pairing: *p,
            rates: Vec::new(),
            peak_mib: 0.0,
            cpu_per_unit: Vec::new(),
        })
        .collect();
    let n = results.len();
    for round in 0..rounds {
        for i in 0..n {
            let turn = if round % 2 == 1 { n - i } else { i };
            let m = &mut results[(turn + round) % n];
            if let Some(r) = store(t, m.pairing, inputs, expected, work) {
                m.rates.push(units / r.seconds);
                m.peak_mib = m.peak_mib.max(r.peak_mib);
                m.cpu_per_unit.push(r.scp_cpu / units);
            }
        }
    }
    results
}

fn spread(rates: &[f64]) -> String {
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rates.iter().copied().fold(0.0, f64::max);
    if rates.len() < 2 {
        String::new()
    } else {
        format!("({lo:.0}-{hi:.0})")
    }
}

fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if !e.file_name().to_string_lossy().starts_with('.') {
                    stack.push(p);
                }
            } else if !p.to_string_lossy().contains("index.sqlite") {
                n += 1;
            }
        }
    }
    n
}

struct Run {
    seconds: f64,
    peak_mib: f64,
    /// The SCP's CPU time for the run (it starts with the run), seconds.
    scp_cpu: f64,
}

/// Sends every file of each of `inputs` (one SCU process per input, all at once) to an SCP.
fn store(t: &Tools, p: Pairing, inputs: &[PathBuf], expected: usize, work: &Path) -> Option<Run> {
    let Pairing {
        scu,
        scp,
        window_one,
    } = p;
    // These keep nothing; the SCU still has to exit with success.
    let expected = if matches!(scp, Side::Sink | Side::DcmtkIgnore) {
        0
    } else {
        expected
    };
    // Dirty pages of the previous run (or of making the inputs) would otherwise be written
    // back during this one and charged to whichever pairing runs next.
    settle();
    let port = free_port();
    // A directory per run, the many small files all deleted at the end of the benchmark:
    // ext4 skips inodes freed in the last minutes when it allocates new ones (measured with
    // perf: `recently_deleted`), so deleting a run's 2,000 files would make every later run
    // pay for walking past them.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let out = work
        .join("received")
        .join(RUNS.fetch_add(1, Ordering::Relaxed).to_string());
    let server = start_scp(t, scp, port, &out, inputs.len() > 1);
    let started = Instant::now();
    let children: Vec<Child> = inputs
        .iter()
        .map(|dir| {
            let mut cmd = scu_command(t, scu, port, dir);
            if window_one {
                cmd.env("DIMSE_WINDOW", "1");
            }
            cmd.stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ok = true;
    for mut c in children {
        ok &= c.wait().is_ok_and(|s| s.success());
    }
    let seconds = started.elapsed().as_secs_f64();
    // The SCP answered every store before the SCU exited; give a forked storescp a moment
    // to finish its own bookkeeping before counting.
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_files(&out) < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let received = count_files(&out);
    let (peak_mib, scp_cpu) = (server.peak_mib(), server.cpu_seconds());
    drop(server);
    if expected < 100 {
        // A few large files: deleting them frees disk space without that cost.
        let _ = fs::remove_dir_all(&out);
    }
    if !ok || received != expected {
        eprintln!(
            "  {} -> {}: FAILED (exit ok: {ok}, {received} of {expected} arrived)",
            scu.name(),
            scp.name(),
        );
        return None;
    }
    Some(Run {
        seconds,
        peak_mib,
        scp_cpu,
    })
}

fn disk_ceiling(work: &Path) -> f64 {
    let path = work.join("ceiling.bin");
    let chunk = vec![0x33u8; 1024 * 1024];
    let started = Instant::now();
    let mut f = fs::File::create(&path).unwrap();
    for _ in 0..512 {
        f.write_all(&chunk).unwrap();
    }
    f.sync_all().unwrap();
    let mbps = 512.0 * 1.048576 / started.elapsed().as_secs_f64();
    let _ = fs::remove_file(&path);
    mbps
}

fn echo_rate(t: &Tools, scp: Side, work: &Path, count: usize) -> Option<f64> {
    let port = free_port();
    let _server = start_scp(t, scp, port, &work.join("echo"), false);
    let out = Command::new(&t.dimse)
        .args(["echo", "--aec", SCP_AET, "--count", &count.to_string()])
        .args(["127.0.0.1", &port.to_string()])
        .output()
        .ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // "N associations in S s: R associations/s"
    text.lines()
        .find(|l| l.ends_with("associations/s"))
        .and_then(|l| l.rsplit(": ").next())
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
}

fn idle_associations(t: &Tools, work: &Path, count: usize) -> Option<f64> {
    use dimse_core::assoc::ProposedContext;
    let port = free_port();
    let server = start_scp(t, Side::Dimse, port, &work.join("idle"), false);
    let scu = dimse_std::Scu::new("IDLER");
    let peer = dimse_core::Entity::local(SCP_AET, port);
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let ctx = ProposedContext::new(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]);
        held.push(scu.associate(&peer, vec![ctx]).ok()?);
    }
    let peak = server.peak_mib();
    for a in held {
        a.abort();
    }
    Some(peak)
}

/// A case's number and what runs it.
type Case = (usize, fn(&Setup));

/// What every case gets: the tools, a scratch directory, the sizes and how many rounds.
struct Setup {
    t: Tools,
    work: PathBuf,
    quick: bool,
    rounds: usize,
    sides: Vec<Side>,
    /// Case 5 also sends one 1 GiB instance.
    huge: bool,
    /// Instances case 7 fills `dimse serve` with.
    at_size: usize,
}

impl Setup {
    fn small_n(&self) -> usize {
        if self.quick {
            200
        } else {
            2000
        }
    }

    /// Every (SCU, SCP) pair of the sides found.
    fn pairings(&self) -> Vec<Pairing> {
        self.sides
            .iter()
            .flat_map(|scu| self.sides.iter().map(|scp| Pairing::new(*scu, *scp)))
            .collect()
    }
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).map(String::as_str)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let huge = args.iter().any(|a| a == "--huge");
    // `--cases 1,6`: only those. Case 7 (minutes) runs only when asked for.
    let cases: Vec<usize> = arg(&args, "--cases")
        .map(|c| c.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| (1..=6).collect());
    let t = find_tools();
    let work = std::env::temp_dir().join(format!("dimse-loopback-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).unwrap();
    let rounds = arg(&args, "--rounds")
        .and_then(|n| n.parse().ok())
        .unwrap_or(if quick { 1 } else { 3 });
    println!(
        "machine: {} cores; {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if t.dcmtk.is_some() {
            "DCMTK found"
        } else {
            "DCMTK missing: dimse only"
        }
    );
    let mut sides = vec![Side::Dimse];
    if t.dcmtk.is_some() {
        sides.push(Side::Dcmtk);
    }
    let s = Setup {
        t,
        work,
        quick,
        rounds,
        sides,
        huge,
        at_size: arg(&args, "--instances")
            .and_then(|n| n.parse().ok())
            .unwrap_or(250_000),
    };
    let all: [Case; 7] = [
        (1, small),
        (2, large),
        (3, echo),
        (4, parallel),
        (5, memory),
        (6, |s| {
            latency::run(&s.t, &s.work, if s.quick { 100 } else { 300 }, s.rounds)
        }),
        (7, |s| {
            at_size::run(&s.t, &s.work, s.at_size, if s.quick { 20 } else { 100 })
        }),
    ];
    for (n, case) in all {
        if cases.contains(&n) {
            case(&s);
        }
    }
    let _ = fs::remove_dir_all(&s.work);
}

fn small(s: &Setup) {
    let (t, work, n_rounds, small_n) = (&s.t, &s.work, s.rounds, s.small_n());
    let small = work.join("small");
    make_instances(&small, small_n, 64 * 1024, "1");
    println!(
        "\n(1) C-STORE of {small_n} instances of 64 KiB over one association: instances/s \
         (median of {n_rounds} rounds, min-max)"
    );
    let mut small_pairings = s.pairings();
    // storescu into an SCP that keeps nothing: the most any SCP can get from it.
    if s.sides.contains(&Side::Dcmtk) {
        small_pairings.push(Pairing::new(Side::Dcmtk, Side::Sink));
    }
    // The same without the asynchronous operations window: one C-STORE in flight at a time.
    small_pairings.push(Pairing {
        window_one: true,
        ..Pairing::new(Side::Dimse, Side::Dimse)
    });
    let results = rounds(
        t,
        &small_pairings,
        std::slice::from_ref(&small),
        small_n,
        small_n as f64,
        work,
        n_rounds,
    );
    print_results(&results, "/s", true, ("µs/instance", 1e6));
    if t.pynetdicom {
        let py = Pairing::new(Side::Pynetdicom, Side::Pynetdicom);
        if let Some(r) = store(t, py, std::slice::from_ref(&small), small_n, work) {
            println!(
                "  pynetdicom -> pynetdicom {:8.0}/s (one round)",
                small_n as f64 / r.seconds
            );
        }
    }
}

fn large(s: &Setup) {
    let (t, work, n_rounds) = (&s.t, &s.work, s.rounds);
    let large_n = if s.quick { 4 } else { 16 };
    let large = work.join("large");
    make_instances(&large, large_n, 32 * 1024 * 1024, "2");
    println!(
        "\n(2) C-STORE of {large_n} instances of 32 MiB: MB/s (disk ceiling {:.0} MB/s)",
        disk_ceiling(work)
    );
    let megabytes = large_n as f64 * 32.0 * 1.048576;
    let mut pairings = s.pairings();
    // Both senders into a storescp that writes nothing: the senders compared without the
    // cost of storescp's writes, which bounds both of them above.
    if s.sides.contains(&Side::Dcmtk) {
        pairings.push(Pairing::new(Side::Dimse, Side::DcmtkIgnore));
        pairings.push(Pairing::new(Side::Dcmtk, Side::DcmtkIgnore));
    }
    let results = rounds(
        t,
        &pairings,
        std::slice::from_ref(&large),
        large_n,
        megabytes,
        work,
        n_rounds,
    );
    print_results(&results, " MB/s", true, ("ms/MB", 1e3));
    for scp in &s.sides {
        if let Some(peak) = scu_peak(t, *scp, &large, work) {
            println!(
                "  dimse store's peak memory into {:<5}: {peak:6.1} MiB",
                scp.name()
            );
        }
    }
    let _ = fs::remove_dir_all(&large);
}

fn echo(s: &Setup) {
    let cycles = if s.quick { 200 } else { 2000 };
    println!("\n(3) associate/echo/release cycles from one process (dimse echo --count {cycles})");
    for scp in &s.sides {
        if let Some(rate) = echo_rate(&s.t, *scp, &s.work, cycles) {
            println!("  dimse -> {:<5} {rate:8.0} associations/s", scp.name());
        }
    }
}

fn parallel(s: &Setup) {
    let small_n = s.small_n();
    let parallel: Vec<PathBuf> = (0..8)
        .map(|i| {
            let d = s.work.join(format!("par{i}"));
            make_instances(&d, small_n / 8, 64 * 1024, &format!("3.{i}"));
            d
        })
        .collect();
    println!(
        "\n(4) eight SCUs in parallel into one SCP, {} instances of 64 KiB each: instances/s",
        small_n / 8
    );
    let total = (small_n / 8) * 8;
    let same: Vec<Pairing> = s.sides.iter().map(|x| Pairing::new(*x, *x)).collect();
    let results = rounds(
        &s.t,
        &same,
        &parallel,
        total,
        total as f64,
        &s.work,
        s.rounds,
    );
    print_results(&results, "/s", false, ("µs/instance", 1e6));
}

fn memory(s: &Setup) {
    let (t, work) = (&s.t, &s.work);
    println!("\n(5) peak memory");
    if s.huge {
        let one = work.join("huge");
        make_instances(&one, 1, 1024 * 1024 * 1024 - 4096, "4");
        for scp in &s.sides {
            let p = Pairing::new(Side::Dimse, *scp);
            if let Some(r) = store(t, p, std::slice::from_ref(&one), 1, work) {
                println!(
                    "  one 1 GiB instance into {:<5}: {:6.1} MiB",
                    scp.name(),
                    r.peak_mib
                );
            }
        }
        for scp in &s.sides {
            if let Some(peak) = scu_peak(t, *scp, &one, work) {
                println!(
                    "  dimse store sending it into {:<5}: {peak:6.1} MiB",
                    scp.name()
                );
            }
        }
        let _ = fs::remove_dir_all(&one);
    }
    let idle = if s.quick { 100 } else { 1000 };
    if let Some(peak) = idle_associations(t, work, idle) {
        println!("  {idle} idle associations on dimse serve: {peak:6.1} MiB");
    }
}

/// One line per pairing: median rate, range, SCP peak, SCP CPU per unit (`cpu_unit`: its
/// name and scale), ratio to DCMTK->DCMTK.
fn print_results(results: &[Measured], unit: &str, peak: bool, cpu_unit: (&str, f64)) {
    let base = results
        .iter()
        .find(|m| m.pairing == Pairing::new(Side::Dcmtk, Side::Dcmtk))
        .map_or(f64::NAN, |m| median(&m.rates));
    for m in results {
        let rate = median(&m.rates);
        let peak = if peak {
            format!(" SCP peak {:6.1} MiB", m.peak_mib)
        } else {
            String::new()
        };
        let cpu = format!(
            "  SCP CPU {:6.1} {}",
            median(&m.cpu_per_unit) * cpu_unit.1,
            cpu_unit.0
        );
        let note = if m.pairing.window_one {
            "   one in flight (--window 1)"
        } else if m.pairing.scp == Side::Sink {
            "   the SCP keeps nothing: the sender's own ceiling"
        } else if m.pairing.scp == Side::DcmtkIgnore {
            "   storescp --ignore: receives, writes nothing"
        } else {
            ""
        };
        println!(
            "  {} {rate:8.0}{unit} {:<12}{peak}{cpu}{}{note}",
            m.pairing.label(),
            spread(&m.rates),
            ratio(rate, base)
        );
    }
}

fn ratio(rate: f64, base: f64) -> String {
    if base.is_nan() {
        String::new()
    } else {
        format!("   {:.2}x DCMTK->DCMTK", rate / base)
    }
}
