//! Interoperability test harness for `dimse` against DCMTK and pynetdicom.
//!
//! The integration tests in `tests/tests/` drive the real `dimse` binary
//! (crate `dimse-cli`) against third-party peers over loopback TCP. This
//! library holds everything they share:
//!
//! * [`dimse_bin`]: builds the CLI once per test binary and returns its path;
//! * peer discovery ([`Peer`], [`find_peer`], [`require_peer()`] and the
//!   [`require_peer!`] macro): DCMTK tools by full path, pynetdicom through
//!   `python3 -m pynetdicom <app>`;
//! * process control ([`Server`], [`ChildGuard`], [`run`]): every child is
//!   killed on drop and every wait has a deadline, so a hanging peer or a
//!   hanging `dimse` fails the test instead of wedging CI;
//! * ports and files ([`free_port`], [`wait_for_port`], [`TempDir`]);
//! * a throwaway PostgreSQL cluster ([`pg::PgCluster`]), skipped or failed like a peer;
//! * the shared corpus ([`corpus_dir`], [`manifest`], [`valid_corpus_files`],
//!   [`broken_corpus_files`]);
//! * comparisons ([`read_file_meta`], [`data_set_bytes`], [`dump_elements`],
//!   [`assert_same_elements`]).
//!
//! Synchronisation is never a fixed sleep: readiness is a log line or a
//! successful TCP connect, observed by bounded polling (20 ms steps) against
//! a deadline.
//!
//! Missing peers skip a test loudly (`SKIPPED: ...` on stderr) unless
//! `DIMSE_REQUIRE_PEERS=1` is set (as `.ci/run` does), in which case they
//! fail it.

pub mod pg;
pub mod qr;
mod tls;
pub use tls::{start_dcmtk_storescp_tls, SelfSigned, TlsFiles};

use std::borrow::BorrowMut;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Step of every bounded polling loop in this harness.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Default bound for a server to become ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Default bound for one client invocation (echo, store of a few files).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Host every test talks to; peers and `dimse` only ever use loopback.
pub const LOCALHOST: &str = "127.0.0.1";

// ---------------------------------------------------------------------------
// Paths and the dimse binary
// ---------------------------------------------------------------------------

/// The Cargo workspace root (the parent of this crate's directory).
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate lives inside the workspace")
        .to_path_buf()
}

/// The shared DICOM corpus: `<workspace>/../shared/data/dicom`.
///
/// CI clones the repository next to a copy of `shared/`, so the relative
/// location holds there as well as in a developer's tree.
pub fn corpus_dir() -> PathBuf {
    workspace_dir().join("../shared/data/dicom")
}

/// Path of the `dimse` CLI binary, built on first use.
///
/// Integration tests of this crate cannot depend on another package's binary
/// (`CARGO_BIN_EXE_*` only covers the tests' own package), so this runs
/// `cargo build -p dimse-cli --bin dimse` once per test binary, guarded by a
/// `OnceLock`. `cargo test` does not hold its build-directory lock while the
/// test binaries run (checked with cargo 1.95), so the nested build does not
/// deadlock; when the binary is up to date it costs well under a second.
///
/// The binary lands in `$CARGO_TARGET_DIR/debug/dimse` (or
/// `<workspace>/target/debug/dimse`): plain `cargo build` uses the `dev`
/// profile whatever profile the tests themselves were built with.
pub fn dimse_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // Prefer the cargo that is running us (set at test run time); fall
        // back to the one that compiled us.
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let out = Command::new(cargo)
            .args(["build", "-p", "dimse-cli", "--bin", "dimse"])
            .current_dir(workspace_dir())
            .stdin(Stdio::null())
            .output()
            .expect("spawn cargo build -p dimse-cli");
        assert!(
            out.status.success(),
            "cargo build -p dimse-cli --bin dimse failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    workspace_dir().join(dir)
                }
            }
            None => workspace_dir().join("target"),
        };
        let bin = target
            .join("debug")
            .join(format!("dimse{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "built dimse not found at {}", bin.display());
        bin
    })
}

/// A `Command` for the `dimse` binary with `args` (run it with [`run`] or
/// [`Server::spawn`], which close stdin and capture output).
pub fn dimse<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(dimse_bin());
    cmd.args(args);
    cmd
}

// ---------------------------------------------------------------------------
// Peer discovery
// ---------------------------------------------------------------------------

/// A third-party DICOM tool used as the other end of a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Peer {
    /// A DCMTK command-line tool, e.g. `Dcmtk("storescp")`.
    Dcmtk(&'static str),
    /// A pynetdicom app run as `python3 -m pynetdicom <app>`, e.g.
    /// `Pynetdicom("storescu")`.
    Pynetdicom(&'static str),
}

impl Peer {
    /// How to install the peer, for the failure/skip message.
    pub fn install_hint(self) -> &'static str {
        match self {
            Peer::Dcmtk(_) => "apt-get install dcmtk",
            Peer::Pynetdicom(_) => "python3 -m pip install pynetdicom",
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Dcmtk(tool) => write!(f, "DCMTK {tool}"),
            Peer::Pynetdicom(app) => write!(f, "pynetdicom {app}"),
        }
    }
}

/// A located peer: the program plus any fixed leading arguments.
#[derive(Clone, Debug)]
pub struct PeerPath {
    /// Which peer this is.
    pub peer: Peer,
    /// The executable (a DCMTK tool's full path, or `python3`).
    pub program: PathBuf,
    /// Arguments that precede the tool's own (`-m pynetdicom <app>`).
    pub prefix: Vec<String>,
}

impl PeerPath {
    /// A `Command` running this peer; add the tool's own arguments to it.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.prefix);
        cmd
    }
}

/// `/usr/bin/<tool>`-style paths that `dpkg -L dcmtk` lists, by file name.
///
/// pynetdicom installs console scripts called `storescu`, `echoscu`, ...
/// that come first in PATH on machines with a pyenv/venv, so DCMTK's tools
/// are only ever run by the full path the package manager reports.
fn dpkg_dcmtk_tools() -> &'static HashMap<String, PathBuf> {
    static TOOLS: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let Ok(out) = Command::new("dpkg")
            .args(["-L", "dcmtk"])
            .stdin(Stdio::null())
            .output()
        else {
            return HashMap::new();
        };
        if !out.status.success() {
            return HashMap::new();
        }
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("/usr/bin/") || l.starts_with("/bin/"))
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .filter_map(|p| Some((p.file_name()?.to_str()?.to_owned(), p)))
            .collect()
    })
}

/// Whether `path --version` identifies itself as DCMTK (OFFIS).
fn is_dcmtk_binary(path: &Path) -> bool {
    let Ok(out) = Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    else {
        return false;
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .to_ascii_lowercase();
    text.contains("dcmtk") || text.contains("offis")
}

/// Whether `python3` can import pynetdicom (checked once).
fn pynetdicom_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        Command::new("python3")
            .args(["-c", "import pynetdicom"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    })
}

/// Locates `peer` without side effects; `None` if it is not installed.
///
/// DCMTK: the path `dpkg -L dcmtk` lists; otherwise `/usr/bin/<tool>` if its
/// `--version` output names DCMTK/OFFIS (a non-Debian install). pynetdicom:
/// `python3 -m pynetdicom <app>` if `import pynetdicom` works.
pub fn find_peer(peer: Peer) -> Option<PeerPath> {
    match peer {
        Peer::Dcmtk(tool) => {
            let path = dpkg_dcmtk_tools().get(tool).cloned().or_else(|| {
                let p = Path::new("/usr/bin").join(tool);
                (p.is_file() && is_dcmtk_binary(&p)).then_some(p)
            })?;
            Some(PeerPath {
                peer,
                program: path,
                prefix: Vec::new(),
            })
        }
        Peer::Pynetdicom(app) => pynetdicom_available().then(|| PeerPath {
            peer,
            program: PathBuf::from("python3"),
            prefix: vec!["-m".into(), "pynetdicom".into(), app.into()],
        }),
    }
}

/// Whether `DIMSE_REQUIRE_PEERS=1` is set (CI): missing peers are failures.
pub fn peers_required() -> bool {
    std::env::var("DIMSE_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Locates `peer`, or decides what its absence means.
///
/// Returns `None` (after printing a loud `SKIPPED: ...` line to stderr) when
/// the peer is missing and peers are optional; the caller then returns early
/// (see [`require_peer!`]). Panics when `DIMSE_REQUIRE_PEERS=1`, so CI cannot
/// go green by skipping every interop test.
pub fn require_peer(peer: Peer) -> Option<PeerPath> {
    if let Some(found) = find_peer(peer) {
        return Some(found);
    }
    if peers_required() {
        panic!(
            "DIMSE_REQUIRE_PEERS=1 but {peer} not found: {}",
            peer.install_hint()
        );
    }
    let test = thread::current().name().unwrap_or("?").to_owned();
    eprintln!(
        "\n*** SKIPPED: {test}: {peer} not found ({}; set DIMSE_REQUIRE_PEERS=1 to make this a failure) ***\n",
        peer.install_hint()
    );
    None
}

/// `let p = require_peer!(Peer::Dcmtk("storescp"));` — returns from the
/// calling test (skipping it) when the peer is missing and optional.
#[macro_export]
macro_rules! require_peer {
    ($peer:expr) => {
        match $crate::require_peer($peer) {
            Some(found) => found,
            None => return,
        }
    };
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/// Kills (and reaps) a child process when dropped, so a failing assertion
/// never leaves a server running.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    /// Takes ownership of `child`.
    pub fn new(child: Child) -> Self {
        Self { child }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the child has already exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Mutable access to the child (e.g. to take its pipes).
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Only our own child, by its handle; ignore "already exited".
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Output collected from a child's stdout and stderr by reader threads.
///
/// The reader threads keep the pipes drained (a child blocked on a full pipe
/// would look like a hang) and notify waiters after each line.
#[derive(Default)]
struct OutputLog {
    state: Mutex<LogState>,
    changed: Condvar,
}

#[derive(Default)]
struct LogState {
    stdout: String,
    stderr: String,
    /// Both streams interleaved in arrival order, each line tagged.
    combined: String,
    /// Reader threads still running.
    open: usize,
}

impl OutputLog {
    fn attach<R: Read + Send + 'static>(
        log: &Arc<OutputLog>,
        stream: R,
        is_stderr: bool,
    ) -> thread::JoinHandle<()> {
        log.state.lock().unwrap().open += 1;
        let log = Arc::clone(log);
        thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf);
                        let mut st = log.state.lock().unwrap();
                        if is_stderr {
                            st.stderr.push_str(&line);
                            st.combined.push_str("[err] ");
                        } else {
                            st.stdout.push_str(&line);
                            st.combined.push_str("[out] ");
                        }
                        st.combined.push_str(&line);
                        if !line.ends_with('\n') {
                            st.combined.push('\n');
                        }
                        drop(st);
                        log.changed.notify_all();
                    }
                }
            }
            log.state.lock().unwrap().open -= 1;
            log.changed.notify_all();
        })
    }

    fn snapshot(&self) -> (String, String, String) {
        let st = self.state.lock().unwrap();
        (st.stdout.clone(), st.stderr.clone(), st.combined.clone())
    }
}

/// Spawns `cmd` with stdin closed and stdout/stderr captured.
fn spawn_captured(cmd: &mut Command, what: &str) -> (ChildGuard, Arc<OutputLog>) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {what} ({cmd:?}): {e}"));
    let log = Arc::new(OutputLog::default());
    OutputLog::attach(&log, child.stdout.take().unwrap(), false);
    OutputLog::attach(&log, child.stderr.take().unwrap(), true);
    (ChildGuard::new(child), log)
}

/// The result of a client run by [`run`].
#[derive(Debug)]
pub struct RunOutput {
    /// How the process exited.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
}

impl RunOutput {
    /// stdout followed by stderr, for searching messages wherever they went.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics with the full output unless the exit status is success.
    #[track_caller]
    pub fn assert_success(&self, what: &str) -> &Self {
        assert!(
            self.status.success(),
            "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs a client (a `Command` or `&mut Command`) to completion within
/// `timeout`, capturing its output.
///
/// Panics (after killing it) if it does not exit in time: a hang is a test
/// failure, not something to wait out.
#[track_caller]
pub fn run(mut cmd: impl BorrowMut<Command>, timeout: Duration) -> RunOutput {
    let cmd = cmd.borrow_mut();
    let what = format!("{cmd:?}");
    let (mut guard, log) = spawn_captured(cmd, &what);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = guard.try_wait() {
            break status;
        }
        if Instant::now() >= deadline {
            drop(guard);
            let (_, _, combined) = log.snapshot();
            panic!("{what} did not finish within {timeout:?}; killed. Output so far:\n{combined}");
        }
        thread::sleep(POLL_INTERVAL);
    };
    // The child has exited; its pipes close, so the readers finish promptly.
    // Bound that wait too, in case a grandchild inherited the pipes.
    let st = log.state.lock().unwrap();
    let (st, _) = log
        .changed
        .wait_timeout_while(st, Duration::from_secs(5), |st| st.open > 0)
        .unwrap();
    RunOutput {
        status,
        stdout: st.stdout.clone(),
        stderr: st.stderr.clone(),
    }
}

/// A long-running process (an SCP) with captured output, killed on drop.
pub struct Server {
    name: String,
    guard: ChildGuard,
    log: Arc<OutputLog>,
}

impl Server {
    /// Spawns `cmd` as a server named `name` (for messages).
    pub fn spawn(name: &str, cmd: &mut Command) -> Server {
        let (guard, log) = spawn_captured(cmd, name);
        Server {
            name: name.to_owned(),
            guard,
            log,
        }
    }

    /// Everything the server printed so far, stdout and stderr interleaved.
    pub fn output(&self) -> String {
        self.log.snapshot().2
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.guard.id()
    }

    /// Peak resident memory of the process so far, in KiB (Linux `VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        peak_rss_kib_of(self.pid())
    }

    /// Kills the process with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill(&mut self) {
        let child = self.guard.child_mut();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Panics with the server's output if it has exited.
    #[track_caller]
    pub fn assert_running(&mut self) {
        if let Some(status) = self.guard.try_wait() {
            panic!(
                "{} exited unexpectedly ({status}). Output:\n{}",
                self.name,
                self.output()
            );
        }
    }

    /// Waits until the server's output contains `needle` (on either stream).
    ///
    /// Panics if the server exits first or `timeout` passes.
    #[track_caller]
    pub fn wait_for_output(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let st = self.log.state.lock().unwrap();
                if st.combined.contains(needle) {
                    return;
                }
                // Woken by every new line; the bounded timeout also lets us
                // notice the process exiting without printing anything.
                let _ = self.log.changed.wait_timeout(st, POLL_INTERVAL).unwrap();
            }
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "{} did not print {needle:?} within {timeout:?}. Output:\n{}",
                self.name,
                self.output()
            );
        }
    }

    /// Waits until `port` on loopback accepts TCP connections.
    ///
    /// Panics if the server exits first or `timeout` passes.
    #[track_caller]
    pub fn wait_for_port(&mut self, port: u16, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !try_connect(port) {
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "{} is not accepting connections on port {port} after {timeout:?}. Output:\n{}",
                self.name,
                self.output()
            );
            thread::sleep(POLL_INTERVAL);
        }
    }
}

// ---------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------

/// A TCP port that was free a moment ago (bind 127.0.0.1:0, read, drop).
///
/// There is an unavoidable window before the server binds it; ports handed
/// out by the OS this way are not reused immediately, which is enough for
/// tests.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn try_connect(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Polls a TCP connect to `127.0.0.1:port` every 20 ms until it succeeds
/// (`true`) or `deadline` passes (`false`).
///
/// Note that the probe is a real connection the server sees open and close
/// without a PDU; DICOM servers must (and DCMTK/pynetdicom do) tolerate it.
/// Prefer [`Server::wait_for_output`] where the server announces readiness.
pub fn wait_for_port(port: u16, deadline: Instant) -> bool {
    loop {
        if try_connect(port) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(POLL_INTERVAL);
    }
}

// ---------------------------------------------------------------------------
// Temporary directories
// ---------------------------------------------------------------------------

/// A fresh directory under the system temp dir, removed on drop.
///
/// Set `DIMSE_KEEP_TEMP=1` to keep it for inspection after a failure.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A subdirectory `name`, created if missing.
    pub fn subdir(&self, name: &str) -> PathBuf {
        let p = self.path.join(name);
        std::fs::create_dir_all(&p).expect("create temp subdir");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var("DIMSE_KEEP_TEMP").is_ok_and(|v| v == "1") {
            eprintln!("keeping {}", self.path.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Creates a unique temp directory whose name includes `label`.
pub fn temp_dir(label: &str) -> TempDir {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let label: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path = std::env::temp_dir().join(format!(
        "dimse-tests-{}-{}-{label}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).expect("create temp dir");
    TempDir { path }
}

// ---------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------

/// One row of the corpus's `MANIFEST.tsv`. `-` in the file means "none".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestRow {
    /// File name inside [`corpus_dir`].
    pub file: String,
    /// Transfer syntax UID from the file meta, or `-`.
    pub ts: String,
    /// SOP class UID, or `-`.
    pub sop_class: String,
    /// SOP instance UID, or `-` (several files share one: see `note`).
    pub sop_instance: String,
    /// Free text; marks the deliberately broken files.
    pub note: String,
}

/// Note fragments that mark a deliberately broken corpus file.
pub const BROKEN_NOTES: &[&str] = &[
    "truncated",
    "no SOP class",
    "no file meta",
    "invalid VR",
    "file meta without",
];

/// Transfer syntaxes whose pixel data is encapsulated (compressed), which no
/// peer here will transcode: such a file must arrive in its own syntax.
pub const ENCAPSULATED_TS: &[&str] = &[
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.5",
];

impl ManifestRow {
    /// Full path of the file.
    pub fn path(&self) -> PathBuf {
        corpus_dir().join(&self.file)
    }

    /// Whether the manifest marks the file as deliberately broken: no
    /// transfer syntax, or a note containing one of [`BROKEN_NOTES`].
    pub fn is_broken(&self) -> bool {
        self.ts == "-" || BROKEN_NOTES.iter().any(|n| self.note.contains(n))
    }

    /// The SOP instance UIDs a receiver may file this object under: the
    /// manifest's (the data set's (0008,0018), which senders put in the
    /// C-STORE request) and, if different, the source file meta's
    /// (0002,0003). They differ for rtdose.dcm (meta `1.2.999…`, data set
    /// `1.9.999…`) and rtplan.dcm (meta `1.2.999…`, data set `1.2.777…`).
    pub fn instance_uids(&self) -> Vec<String> {
        let mut uids = vec![self.sop_instance.clone()];
        if let Ok(meta) = read_file_meta(&self.path()) {
            if meta.sop_instance != self.sop_instance {
                uids.push(meta.sop_instance);
            }
        }
        uids
    }

    /// Files under `dir` that are this object as received (see
    /// [`ManifestRow::instance_uids`]).
    pub fn find_received(&self, dir: &Path) -> Vec<PathBuf> {
        let uids = self.instance_uids();
        files_under(dir)
            .into_iter()
            .filter(|p| read_file_meta(p).is_ok_and(|m| uids.contains(&m.sop_instance)))
            .collect()
    }

    /// Whether the file's pixel data is compressed (see [`ENCAPSULATED_TS`]).
    pub fn is_encapsulated(&self) -> bool {
        ENCAPSULATED_TS.contains(&self.ts.as_str())
    }
}

/// Parses `MANIFEST.tsv` (header line skipped; columns: file, bytes,
/// transfer syntax, SOP class, SOP instance, note).
pub fn manifest() -> Vec<ManifestRow> {
    let path = corpus_dir().join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(cols.len() >= 5, "malformed manifest line: {line:?}");
            ManifestRow {
                file: cols[0].to_owned(),
                ts: cols[2].to_owned(),
                sop_class: cols[3].to_owned(),
                sop_instance: cols[4].to_owned(),
                note: cols.get(5).copied().unwrap_or("").to_owned(),
            }
        })
        .collect()
}

/// Corpus files a conforming SCU must be able to send:
/// CT_small, ExplVR_BigEnd, JPEG-lossy, JPEG2000, MR_small (+ _RLE,
/// _bigendian, _expb, _implicit, _jp2klossless, _jpeg_ls_lossless),
/// SC_rgb_jpeg_dcmtk, SC_rgb_rle, SC_rgb_small_odd, image_dfl, liver_1frame,
/// reportsi, rtdose, rtplan, test-SR (20 files).
pub fn valid_corpus_files() -> Vec<ManifestRow> {
    manifest().into_iter().filter(|r| !r.is_broken()).collect()
}

/// Deliberately broken corpus files: MR_truncated, UN_sequence (no SOP
/// class), badVR (invalid VR), empty_charset_LEI, meta_missing_tsyntax,
/// nested_priv_SQ, no_meta, priv_SQ, rtplan_truncated, rtstruct (no transfer
/// syntax in the meta) (10 files).
pub fn broken_corpus_files() -> Vec<ManifestRow> {
    manifest().into_iter().filter(|r| r.is_broken()).collect()
}

/// Splits `rows` into batches in which no two files share a SOP instance
/// UID, for receivers that name (and overwrite) files by that UID. Order is
/// kept: each row goes into the first batch without its UID.
pub fn batches_with_unique_instances(rows: &[ManifestRow]) -> Vec<Vec<ManifestRow>> {
    let mut batches: Vec<Vec<ManifestRow>> = Vec::new();
    for row in rows {
        match batches
            .iter_mut()
            .find(|b| b.iter().all(|r| r.sop_instance != row.sop_instance))
        {
            Some(batch) => batch.push(row.clone()),
            None => batches.push(vec![row.clone()]),
        }
    }
    batches
}

/// Copies `rows`' files into `dir` (so a directory holding only those files
/// can be passed to a recursive sender).
pub fn copy_corpus_files(rows: &[ManifestRow], dir: &Path) {
    for row in rows {
        std::fs::copy(row.path(), dir.join(&row.file))
            .unwrap_or_else(|e| panic!("copy {}: {e}", row.file));
    }
}

// ---------------------------------------------------------------------------
// Part 10 files
// ---------------------------------------------------------------------------

/// What the harness needs from a Part 10 file's meta information group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaInfo {
    /// (0002,0002) Media Storage SOP Class UID.
    pub sop_class: String,
    /// (0002,0003) Media Storage SOP Instance UID.
    pub sop_instance: String,
    /// (0002,0010) Transfer Syntax UID.
    pub transfer_syntax: String,
    /// Offset of the first byte after the meta group (the data set).
    pub data_set_offset: usize,
}

/// Parses the preamble, `DICM` and the group 0002 elements of `buf`.
///
/// Written here rather than taken from `dimse_core::part10` so that the
/// harness checks `dimse` against an independent reading of the format. The
/// meta group is always explicit VR little endian (PS3.10 §7.1); the group is
/// walked element by element, so a wrong or missing (0002,0000) group length
/// does not matter.
pub fn parse_file_meta(buf: &[u8]) -> Result<MetaInfo, String> {
    if buf.len() < 132 || &buf[128..132] != b"DICM" {
        return Err("no 128-byte preamble + DICM prefix".into());
    }
    let mut pos = 132;
    let mut fields: HashMap<u16, String> = HashMap::new();
    while pos + 8 <= buf.len() {
        let group = u16::from_le_bytes([buf[pos], buf[pos + 1]]);
        if group != 0x0002 {
            break;
        }
        let element = u16::from_le_bytes([buf[pos + 2], buf[pos + 3]]);
        let vr = &buf[pos + 4..pos + 6];
        // VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2).
        let long = matches!(
            vr,
            b"OB"
                | b"OD"
                | b"OF"
                | b"OL"
                | b"OV"
                | b"OW"
                | b"SQ"
                | b"UC"
                | b"UN"
                | b"UR"
                | b"UT"
                | b"SV"
                | b"UV"
        );
        let (len, header) = if long {
            if pos + 12 > buf.len() {
                return Err(format!("truncated meta element (0002,{element:04x})"));
            }
            let b = &buf[pos + 8..pos + 12];
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        } else {
            (u16::from_le_bytes([buf[pos + 6], buf[pos + 7]]) as usize, 8)
        };
        let start = pos + header;
        let end = start
            .checked_add(len)
            .filter(|e| *e <= buf.len())
            .ok_or_else(|| format!("meta element (0002,{element:04x}) runs past the end"))?;
        if vr == b"UI" {
            let value = String::from_utf8_lossy(&buf[start..end])
                .trim_end_matches(['\0', ' '])
                .to_owned();
            fields.insert(element, value);
        }
        pos = end;
    }
    let mut take = |el: u16, name: &str| {
        fields
            .remove(&el)
            .ok_or_else(|| format!("file meta has no {name} (0002,{el:04x})"))
    };
    Ok(MetaInfo {
        sop_class: take(0x0002, "Media Storage SOP Class UID")?,
        sop_instance: take(0x0003, "Media Storage SOP Instance UID")?,
        transfer_syntax: take(0x0010, "Transfer Syntax UID")?,
        data_set_offset: pos,
    })
}

/// Reads `path`'s file meta (see [`parse_file_meta`]).
pub fn read_file_meta(path: &Path) -> Result<MetaInfo, String> {
    let buf = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_file_meta(&buf).map_err(|e| format!("{}: {e}", path.display()))
}

/// The bytes of `path`'s data set: everything after the file meta group.
///
/// Two files holding the same data set in the same transfer syntax compare
/// equal whatever their meta groups say (implementation UID, AE titles,
/// group length), which is what "bit-preserving" promises.
#[track_caller]
pub fn data_set_bytes(path: &Path) -> Vec<u8> {
    let buf = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let meta = parse_file_meta(&buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    buf[meta.data_set_offset..].to_vec()
}

/// The data set bytes a conforming sender puts on the wire for `path`: its
/// [`data_set_bytes`], plus one trailing NUL byte if their length is odd.
///
/// PS3.5 A.5 requires an odd-length deflated bit stream to be padded with a
/// single trailing NULL byte, and DCMTK aborts an association on an
/// odd-length PDV fragment ("DIMSE: Odd Fragment Length"). The corpus's
/// image_dfl.dcm stores an unpadded 4303-byte deflated data set, so it is
/// the one file whose bytes must change on the wire.
#[track_caller]
pub fn wire_data_set_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = data_set_bytes(path);
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    bytes
}

/// All regular files under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// Part 10 files under `dir` (recursively) whose meta names `sop_instance`.
/// Files that are not (yet complete) Part 10 files are ignored.
pub fn find_by_sop_instance(dir: &Path, sop_instance: &str) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| read_file_meta(p).is_ok_and(|m| m.sop_instance == sop_instance))
        .collect()
}

/// Peak resident memory so far, in KiB (Linux `VmHWM`), of the process `pid` names under
/// `/proc`: a process ID, or `"self"`.
pub fn peak_rss_kib_of(pid: impl std::fmt::Display) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process's /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

/// Retries `check` every 20 ms until it returns `Ok` or `timeout` passes,
/// then panics with the last error.
///
/// Used where a receiver may still be writing a file when the sender has
/// already exited: the file is checked until it is complete and correct.
#[track_caller]
pub fn eventually<T>(timeout: Duration, check: impl FnMut() -> Result<T, String>) -> T {
    retry_until(timeout, check).unwrap_or_else(|e| panic!("{e}"))
}

/// [`eventually`] returning the last error instead of panicking, for tests
/// that collect every file's failure before asserting.
pub fn retry_until<T>(
    timeout: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() >= deadline => return Err(format!("after {timeout:?}: {e}")),
            Err(_) => thread::sleep(POLL_INTERVAL),
        }
    }
}

// ---------------------------------------------------------------------------
// Element dumps (DCMTK dcmdump)
// ---------------------------------------------------------------------------

/// `dcmdump` options used by [`dump_elements`]:
/// `+L` prints long values (pixel data included) completely, `-Un` prints
/// UIDs as numbers instead of names. The default `-E` makes a damaged file
/// an error rather than a partial dump.
pub const DCMDUMP_OPTIONS: &[&str] = &["+L", "-Un"];

/// The data set of `path` as normalised element lines, for comparing two
/// files that hold the same elements in possibly different transfer
/// syntaxes ("every element identical").
///
/// Runs DCMTK `dcmdump` (see [`DCMDUMP_OPTIONS`]) and, to remove what
/// depends on the encoding rather than on the elements, drops:
/// * comment and header lines (`# Dicom-File-Format`, `# Used
///   TransferSyntax: ...`) and the whole meta group (0002,xxxx);
/// * group length elements (gggg,0000): recomputed or dropped by encoders;
/// * item and sequence delimitation items (FFFE,E00D)/(FFFE,E0DD): present
///   only with undefined lengths;
/// * Data Set Trailing Padding (FFFC,FFFC): carries no information and
///   re-encoders may drop it (pydicom does, PS3.10 §7.2 allows it);
/// * the value length column (`# 26,` / `# u/l,`) and the words "with
///   explicit/undefined length" on sequence and item lines;
///
/// and maps what implicit VR cannot carry back to one form:
/// * `??` (unknown private VR read from implicit VR) becomes `UN`;
/// * an `OW` value (hex 16-bit words) becomes the `OB` byte list of its
///   little-endian encoding: 8-bit pixel data read back from implicit VR is
///   OW, the same bytes written explicitly are OB.
///
/// Values, VM, nesting depth and element order are kept. Values of
/// multi-line strings (UT with newlines) are joined to their element.
///
/// Checked by the `dcmdump_normalisation_*` test against `dcmconv`
/// re-encodings of every uncompressed corpus file in four transfer
/// syntaxes. Panics if DCMTK `dcmdump` is missing or the file cannot be
/// dumped.
#[track_caller]
pub fn dump_elements(path: &Path) -> Vec<String> {
    let dcmdump = find_peer(Peer::Dcmtk("dcmdump")).unwrap_or_else(|| {
        panic!(
            "DCMTK dcmdump not found: {}",
            Peer::Dcmtk("").install_hint()
        )
    });
    let out = dcmdump
        .command()
        .args(DCMDUMP_OPTIONS)
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("spawn dcmdump");
    assert!(
        out.status.success(),
        "dcmdump {} failed ({}): {}",
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    normalise_dump(&String::from_utf8_lossy(&out.stdout))
        .unwrap_or_else(|e| panic!("dcmdump {}: {e}", path.display()))
}

/// Whether `line` starts (after indentation) with a `(gggg,eeee) ` tag.
fn starts_with_tag(line: &str) -> bool {
    let b = line.trim_start().as_bytes();
    b.len() >= 12
        && b[0] == b'('
        && b[5] == b','
        && b[10] == b')'
        && b[11] == b' '
        && b[1..5].iter().chain(&b[6..10]).all(u8::is_ascii_hexdigit)
}

/// Applies [`dump_elements`]' normalisation to `dcmdump` output.
pub fn normalise_dump(text: &str) -> Result<Vec<String>, String> {
    // Join continuation lines (multi-line values) to their element line.
    let mut elements: Vec<String> = Vec::new();
    for line in text.lines() {
        if starts_with_tag(line) {
            elements.push(line.to_owned());
        } else if line.trim().is_empty() || line.starts_with('#') {
            continue;
        } else if let Some(last) = elements.last_mut() {
            last.push('\n');
            last.push_str(line);
        } else {
            return Err(format!("unexpected line before any element: {line:?}"));
        }
    }

    let mut out = Vec::with_capacity(elements.len());
    for raw in elements {
        let depth = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        let (group, element) = (&line[1..5], &line[6..10]);
        let mut vr = &line[12..14];
        // Split off the trailing "# <length>, <vm> <name>" column: the last
        // " #" whose remainder has that shape (a value may contain '#').
        let hash = line
            .rmatch_indices(" #")
            .map(|(i, _)| i)
            .find(|&i| parse_trailer(&line[i + 2..]).is_some())
            .ok_or_else(|| format!("no length/VM column in {line:?}"))?;
        let (vm, name) = parse_trailer(&line[hash + 2..]).expect("checked above");
        let mut value = line[14..hash].trim().to_owned();

        if group == "0002" || element == "0000" {
            continue;
        }
        let delimitation = group.eq_ignore_ascii_case("fffe")
            && (element.eq_ignore_ascii_case("e00d") || element.eq_ignore_ascii_case("e0dd"));
        let trailing_padding =
            group.eq_ignore_ascii_case("fffc") && element.eq_ignore_ascii_case("fffc");
        if delimitation || trailing_padding {
            continue;
        }
        if vr == "??" {
            vr = "UN";
        }
        if vr == "OW" && is_hex_words(&value) {
            vr = "OB";
            value = value
                .split('\\')
                .flat_map(|w| [w[2..4].to_owned(), w[0..2].to_owned()])
                .collect::<Vec<_>>()
                .join("\\");
        }
        let value = value
            .replace("Sequence with explicit length ", "Sequence ")
            .replace("Sequence with undefined length ", "Sequence ")
            .replace("Item with explicit length ", "Item ")
            .replace("Item with undefined length ", "Item ");
        out.push(format!(
            "{:depth$}({group},{element}) {vr} {value} # {vm} {name}",
            ""
        ));
    }
    Ok(out)
}

/// Parses `  26, 1 Name` / ` u/l, 1 Name` / `242,15 Name`: returns (VM, name).
fn parse_trailer(s: &str) -> Option<(&str, &str)> {
    let is_number = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (len, rest) = s.trim_start().split_once(',')?;
    if len != "u/l" && !is_number(len) {
        return None;
    }
    // The name may contain spaces ("Unknown Tag & Data").
    let (vm, name) = rest.trim_start().split_once(' ')?;
    (is_number(vm) && !name.is_empty()).then_some((vm, name))
}

fn is_hex_words(v: &str) -> bool {
    !v.is_empty()
        && v.split('\\')
            .all(|w| w.len() == 4 && w.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Panics, showing the first differing lines, unless `expected` and
/// `actual` hold the same elements per [`dump_elements`].
#[track_caller]
pub fn assert_same_elements(expected: &Path, actual: &Path) {
    if let Err(e) = compare_elements(expected, actual) {
        panic!("{e}");
    }
}

/// [`assert_same_elements`] as a `Result`, for use inside [`eventually`].
pub fn compare_elements(expected: &Path, actual: &Path) -> Result<(), String> {
    let a = std::panic::catch_unwind(|| dump_elements(expected))
        .map_err(|_| format!("cannot dump {}", expected.display()))?;
    let b = std::panic::catch_unwind(|| dump_elements(actual))
        .map_err(|_| format!("cannot dump {}", actual.display()))?;
    if a == b {
        return Ok(());
    }
    let first = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let clip = |s: Option<&String>| {
        s.map(|s| s.chars().take(300).collect::<String>())
            .unwrap_or_else(|| "<none>".into())
    };
    Err(format!(
        "elements differ: {} ({} elements) vs {} ({} elements); first difference at element {first}:\n  expected: {}\n  actual:   {}",
        expected.display(),
        a.len(),
        actual.display(),
        b.len(),
        clip(a.get(first)),
        clip(b.get(first)),
    ))
}

// ---------------------------------------------------------------------------
// Received-file checks shared by the interop tests
// ---------------------------------------------------------------------------

/// How long a receiver may take to finish writing a file after the sender
/// got its response (all peers here write before responding; this only
/// covers slow disks).
pub const FILE_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks that `row` arrived under `dir` as exactly one file with the same
/// elements ([`compare_elements`]) and, for compressed pixel data, in the
/// same transfer syntax (no peer here transcodes those). Returns the file.
pub fn check_received_elements(row: &ManifestRow, dir: &Path) -> Result<PathBuf, String> {
    let found = row.find_received(dir);
    let [received] = found.as_slice() else {
        return Err(format!(
            "{}: expected one received file with SOP instance {:?}, found {found:?}",
            row.file,
            row.instance_uids()
        ));
    };
    if row.is_encapsulated() {
        let ts = read_file_meta(received)?.transfer_syntax;
        if ts != row.ts {
            return Err(format!(
                "{}: compressed file arrived as {ts}, sent as {}",
                row.file, row.ts
            ));
        }
    }
    compare_elements(&row.path(), received).map_err(|e| format!("{}: {e}", row.file))?;
    Ok(received.clone())
}

/// Whether a received file is `row` sent bit for bit: same transfer syntax
/// and a data set equal to [`wire_data_set_bytes`].
pub fn is_bit_identical(row: &ManifestRow, received: &Path) -> bool {
    read_file_meta(received).is_ok_and(|m| {
        row.instance_uids().contains(&m.sop_instance)
            && m.transfer_syntax == row.ts
            && data_set_bytes(received) == wire_data_set_bytes(&row.path())
    })
}

/// Matches every source in `rows` to a distinct file under `dir` for which
/// [`is_bit_identical`] holds; also reports files left over. Returns the
/// failures (empty when everything matches).
pub fn match_bit_identical(rows: &[ManifestRow], dir: &Path) -> Vec<String> {
    let mut pool = files_under(dir);
    let mut failures = Vec::new();
    for row in rows {
        match pool.iter().position(|p| is_bit_identical(row, p)) {
            Some(i) => {
                pool.remove(i);
            }
            None => {
                let uids = row.instance_uids();
                let candidates: Vec<String> = pool
                    .iter()
                    .filter_map(|p| read_file_meta(p).ok().map(|m| (p, m)))
                    .filter(|(_, m)| uids.contains(&m.sop_instance))
                    .map(|(p, m)| format!("{} ({})", p.display(), m.transfer_syntax))
                    .collect();
                failures.push(format!(
                    "{} ({}): no received file with a byte-identical data set; same-UID candidates: {candidates:?}",
                    row.file, row.ts
                ));
            }
        }
    }
    for p in pool {
        failures.push(format!("unexpected extra file {}", p.display()));
    }
    failures
}

/// Sends each of `rows` with its own client run (`send(row)` builds the
/// command) to a server writing into `dir`, and checks each arrival with
/// [`check_received_elements`]. Returns the failures.
///
/// A run fails if it exits non-zero or logs an error line (`E: `, the
/// prefix both DCMTK and pynetdicom use; pynetdicom's storescu exits 0 even
/// when a store fails). Received files are removed after each check because
/// several corpus files share a SOP instance UID.
pub fn send_each_and_check(
    rows: &[ManifestRow],
    dir: &Path,
    server: &mut Server,
    mut send: impl FnMut(&ManifestRow) -> Command,
) -> Vec<String> {
    let mut failures = Vec::new();
    for row in rows {
        assert!(
            row.find_received(dir).is_empty(),
            "{} is not clean before sending {}",
            dir.display(),
            row.file
        );
        let out = run(send(row), CLIENT_TIMEOUT);
        let logged_error = out.all().lines().any(|l| l.starts_with("E: "));
        if !out.status.success() || logged_error {
            failures.push(format!(
                "{}: sender failed ({}): {}",
                row.file,
                out.status,
                out.all().trim()
            ));
        } else if let Err(e) = retry_until(FILE_TIMEOUT, || check_received_elements(row, dir)) {
            failures.push(e);
        }
        for p in row.find_received(dir) {
            std::fs::remove_file(p).expect("clean received files");
        }
        server.assert_running();
    }
    failures
}

/// Whether `output` has a line naming `file_name` that reports a failure: `dimse store`'s
/// `unreadable`, `not sent` and `refused` lines, or "error" / "fail" (case-insensitive).
pub fn reports_error_for(output: &str, file_name: &str) -> bool {
    output.lines().any(|l| {
        let lower = l.to_ascii_lowercase();
        let failure = ["unreadable ", "not sent ", "refused "]
            .iter()
            .any(|w| l.starts_with(w));
        l.contains(file_name) && (failure || lower.contains("error") || lower.contains("fail"))
    })
}

// ---------------------------------------------------------------------------
// Peer-specific knowledge
// ---------------------------------------------------------------------------

/// The DCMTK 3.6.7 `storescu` option that proposes `ts` (verified against
/// `storescu --help` and by sending every corpus syntax to `storescp +xa`):
///
/// | TS | option |
/// |---|---|
/// | 1.2.840.10008.1.2 / .1.2.1 (implicit / explicit LE) | none: the default `-x=` proposes all uncompressed syntaxes, one context each |
/// | 1.2.840.10008.1.2.2 (explicit BE) | `-xb` |
/// | 1.2.840.10008.1.2.1.99 (deflated) | `-xd` |
/// | .4.50 (JPEG baseline) | `-xy` |
/// | .4.51 (JPEG extended, 12 bit) | `-xx` |
/// | .4.70 (JPEG lossless SV1, DCMTK's "default JPEG lossless") | `-xs` |
/// | .4.80 / .4.81 (JPEG-LS lossless / near-lossless) | `-xt` / `-xu` |
/// | .4.90 / .4.91 (JPEG 2000 lossless / lossy) | `-xv` / `-xw` |
/// | .5 (RLE) | `-xr` |
///
/// Each compressed option also proposes the uncompressed syntaxes. `storescu`
/// picks the accepted context whose syntax equals the file's, so a file goes
/// out unconverted when the SCP accepts its syntax.
///
/// Always pass `-R` as well (propose only the input files' SOP classes):
/// without it `storescu` proposes its built-in storage classes up to the
/// 128-context limit, and e.g. Segmentation Storage (liver_1frame.dcm) is not
/// among them, so that file fails with "No presentation context".
pub fn dcmtk_storescu_ts_option(ts: &str) -> Option<&'static str> {
    Some(match ts {
        "1.2.840.10008.1.2" | "1.2.840.10008.1.2.1" => return None,
        "1.2.840.10008.1.2.2" => "-xb",
        "1.2.840.10008.1.2.1.99" => "-xd",
        "1.2.840.10008.1.2.4.50" => "-xy",
        "1.2.840.10008.1.2.4.51" => "-xx",
        "1.2.840.10008.1.2.4.70" => "-xs",
        "1.2.840.10008.1.2.4.80" => "-xt",
        "1.2.840.10008.1.2.4.81" => "-xu",
        "1.2.840.10008.1.2.4.90" => "-xv",
        "1.2.840.10008.1.2.4.91" => "-xw",
        "1.2.840.10008.1.2.5" => "-xr",
        _ => return None,
    })
}

/// Starts DCMTK `storescp` on `port`, writing to `out_dir`, and waits until
/// it accepts connections.
///
/// Options (DCMTK 3.6.7 `storescp --help`): `+xa` accept all supported
/// transfer syntaxes; `+B` bit-preserving (write the data set exactly as
/// received); `+uf` unique file names (the corpus has several files with one
/// SOP instance UID; the default names by UID and would overwrite); `-pm`
/// promiscuous (accept SOP classes outside its built-in list); `-od` output
/// directory (must exist); `-aet` its AE title; `-v` logs each request
/// (`I: Received Echo Request`), which tests use to prove the peer really
/// saw it. It prints nothing when ready, hence the port probe.
#[track_caller]
pub fn start_dcmtk_storescp(storescp: &PeerPath, port: u16, aet: &str, out_dir: &Path) -> Server {
    let mut cmd = storescp.command();
    cmd.args(["-v", "+xa", "+B", "+uf", "-pm", "-aet", aet, "-od"])
        .arg(out_dir)
        .arg(port.to_string())
        .current_dir(out_dir);
    let mut server = Server::spawn("DCMTK storescp", &mut cmd);
    server.wait_for_port(port, READY_TIMEOUT);
    server
}

/// The line both DCMTK's and pynetdicom's storescp log (with `-v`) for a
/// C-ECHO request.
pub const ECHO_LOGGED: &str = "Received Echo Request";

/// Starts pynetdicom's `storescp` on `port`, writing to `out_dir`, and waits
/// until it accepts connections.
///
/// Options (pynetdicom 3.0 `storescp --help`): `-aet` its AE title, `-od`
/// output directory, `-v` to log each request (`I: Received Echo Request`),
/// port positional. It accepts every storage SOP class in
/// every transfer syntax it knows (one per context: the first the requestor
/// proposed), names files `<modality prefix>.<SOP instance UID>` (so a second
/// file with the same UID overwrites the first) and re-encodes the data set
/// with pydicom, hence element (not byte) comparisons.
#[track_caller]
pub fn start_pynetdicom_storescp(
    storescp: &PeerPath,
    port: u16,
    aet: &str,
    out_dir: &Path,
) -> Server {
    let mut cmd = storescp.command();
    cmd.args(["-v", "-aet", aet, "-od"])
        .arg(out_dir)
        .arg(port.to_string())
        .current_dir(out_dir);
    let mut server = Server::spawn("pynetdicom storescp", &mut cmd);
    server.wait_for_port(port, READY_TIMEOUT);
    server
}

/// Starts `dimse serve --aet <aet> --port <port> --dir <dir>` and waits for
/// its `listening on` line.
#[track_caller]
pub fn start_dimse_serve(port: u16, aet: &str, dir: &Path) -> Server {
    start_dimse_serve_with::<&str>(port, aet, dir, &[])
}

/// [`start_dimse_serve`] with `extra` arguments appended (e.g. `--peer
/// DEST@127.0.0.1:PORT`, `--fsync`).
#[track_caller]
pub fn start_dimse_serve_with<S: AsRef<OsStr>>(
    port: u16,
    aet: &str,
    dir: &Path,
    extra: &[S],
) -> Server {
    let mut cmd = dimse(["serve", "--aet", aet, "--port", &port.to_string(), "--dir"]);
    cmd.arg(dir).args(extra).current_dir(dir);
    let mut server = Server::spawn("dimse serve", &mut cmd);
    server.wait_for_output("listening on", READY_TIMEOUT);
    server
}

/// The `dimse serve` argument naming a C-MOVE destination on loopback:
/// `--peer AET@127.0.0.1:PORT`, as two arguments.
pub fn dimse_serve_peer_args(aet: &str, port: u16) -> [String; 2] {
    ["--peer".to_owned(), format!("{aet}@{LOCALHOST}:{port}")]
}

/// DCMTK `storescu` arguments sending `row` alone to `called` on loopback
/// `port`: `-R`, the transfer-syntax option of [`dcmtk_storescu_ts_option`]
/// (so compressed files go out in their own syntax), `-aet calling -aec
/// called 127.0.0.1 PORT FILE`.
pub fn dcmtk_storescu_args(
    row: &ManifestRow,
    calling: &str,
    called: &str,
    port: u16,
) -> Vec<String> {
    let mut args = vec!["-R".to_owned()];
    args.extend(dcmtk_storescu_ts_option(&row.ts).map(str::to_owned));
    args.extend(
        ["-aet", calling, "-aec", called, LOCALHOST]
            .iter()
            .map(|s| s.to_string()),
    );
    args.push(port.to_string());
    args.push(row.path().display().to_string());
    args
}

// ---------------------------------------------------------------------------
// Field send: Python helpers, lenient data set bytes, the store report
// ---------------------------------------------------------------------------

/// A helper script shipped in `tests/peers/` (e.g. `pixels.py`).
pub fn peer_script(name: &str) -> PathBuf {
    workspace_dir().join("tests/peers").join(name)
}

/// Which of `modules` `python3` cannot import (checked once per list).
pub fn python_modules_missing(modules: &[&str]) -> Vec<String> {
    static CHECKED: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    let checked = CHECKED.get_or_init(|| Mutex::new(HashMap::new()));
    let mut missing = Vec::new();
    for module in modules {
        let mut map = checked.lock().unwrap();
        let ok = *map.entry((*module).to_owned()).or_insert_with(|| {
            Command::new("python3")
                .args(["-c", &format!("import {module}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        if !ok {
            missing.push((*module).to_owned());
        }
    }
    missing
}

/// The Python modules (pip package in the hint) the field-send tests use: pydicom with numpy
/// and the pylibjpeg plugins (libjpeg, openjpeg, RLE) as reference decoders and J2K encoder.
pub const FIELD_PYTHON_MODULES: &[(&str, &str)] = &[
    ("pydicom", "pydicom"),
    ("numpy", "numpy"),
    ("pylibjpeg", "pylibjpeg"),
    ("libjpeg", "pylibjpeg-libjpeg"),
    ("openjpeg", "pylibjpeg-openjpeg"),
    ("rle", "pylibjpeg-rle"),
];

/// Like [`require_peer()`] for Python modules: `true` when `python3` imports every module of
/// `modules` (`(import name, pip package)`); otherwise skips loudly (`false`) or, with
/// `DIMSE_REQUIRE_PEERS=1`, panics naming the pip packages to install.
pub fn require_python_modules(modules: &[(&str, &str)]) -> bool {
    let names: Vec<&str> = modules.iter().map(|(m, _)| *m).collect();
    let missing = python_modules_missing(&names);
    if missing.is_empty() {
        return true;
    }
    let packages: Vec<&str> = modules
        .iter()
        .filter(|(m, _)| missing.iter().any(|x| x == m))
        .map(|(_, p)| *p)
        .collect();
    let hint = format!("python3 -m pip install {}", packages.join(" "));
    if peers_required() {
        panic!("DIMSE_REQUIRE_PEERS=1 but python3 cannot import {missing:?}: {hint}");
    }
    let test = thread::current().name().unwrap_or("?").to_owned();
    eprintln!(
        "\n*** SKIPPED: {test}: python3 cannot import {missing:?} ({hint}; set DIMSE_REQUIRE_PEERS=1 to make this a failure) ***\n"
    );
    false
}

/// `require_python_modules!(FIELD_PYTHON_MODULES);` — returns from the calling test
/// (skipping it) when a module is missing and peers are optional.
#[macro_export]
macro_rules! require_python_modules {
    ($modules:expr) => {
        if !$crate::require_python_modules($modules) {
            return;
        }
    };
}

/// Where the data set of a file starts, however the file is laid out: after the file meta
/// group of a Part 10 file (128-byte preamble and `DICM`, or a meta group with neither, as
/// some writers leave), or at byte 0 of a raw data set. The meta group is walked element by
/// element (explicit VR little endian, PS3.10 §7.1) whatever its group length says; elements
/// it lacks do not matter. `None` if a meta element runs past the end.
pub fn data_set_start(buf: &[u8]) -> Option<usize> {
    let mut pos = if buf.len() >= 132 && &buf[128..132] == b"DICM" {
        132
    } else {
        0
    };
    while pos + 8 <= buf.len() && buf[pos..pos + 2] == [0x02, 0x00] {
        let vr = &buf[pos + 4..pos + 6];
        if !vr.iter().all(u8::is_ascii_uppercase) {
            break;
        }
        let long = matches!(
            vr,
            b"OB" | b"OD" | b"OF" | b"OL" | b"OV" | b"OW" | b"SQ" | b"UC" | b"UN" | b"UR" | b"UT"
        );
        let (len, header) = if long {
            let b = buf.get(pos + 8..pos + 12)?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        } else {
            (u16::from_le_bytes([buf[pos + 6], buf[pos + 7]]) as usize, 8)
        };
        pos = pos
            .checked_add(header + len)
            .filter(|end| *end <= buf.len())?;
    }
    Some(pos)
}

/// The data set bytes of `path` as a sender must put them on the wire when it sends the file
/// unchanged: everything after the file meta ([`data_set_start`]), plus one NUL byte when the
/// length is odd (see [`wire_data_set_bytes`]).
#[track_caller]
pub fn lenient_wire_data_set_bytes(path: &Path) -> Vec<u8> {
    let buf = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = data_set_start(&buf)
        .unwrap_or_else(|| panic!("{}: file meta runs past the end", path.display()));
    let mut bytes = buf[start..].to_vec();
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    bytes
}

/// What `dimse store` reports for one file (one stdout line each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreOutcome {
    /// `sent PATH`: the file as it is, in its own transfer syntax.
    Sent,
    /// `sent PATH (decompressed from <ts name>)`.
    Decompressed(String),
    /// `sent PATH (converted from <ts name> to <ts name>)`: the text inside the parentheses
    /// after `converted from `.
    Converted(String),
    /// `refused PATH: <status...>`: the peer answered with a failure status.
    Refused(String),
    /// `unreadable PATH: <why>`.
    Unreadable(String),
    /// `not sent PATH: <why>` (e.g. no accepted context and the policy forbids decompression).
    NotSent(String),
}

impl StoreOutcome {
    /// Whether the file went out (any of the `sent` forms).
    pub fn is_sent(&self) -> bool {
        matches!(
            self,
            StoreOutcome::Sent | StoreOutcome::Decompressed(_) | StoreOutcome::Converted(_)
        )
    }
}

/// `dimse store`'s stdout, taken apart for a known list of input files.
#[derive(Clone, Debug, Default)]
pub struct StoreReport {
    /// Every outcome line, per input path (as given on the command line), in order.
    pub outcomes: HashMap<String, Vec<StoreOutcome>>,
    /// `warning: PATH: ...` lines: (path, the text after `PATH: `).
    pub warnings: Vec<(String, String)>,
    /// The `store: N sent, M failed` summary: (N, M) and the whole line.
    pub summary: Option<(usize, usize, String)>,
    /// Lines that are none of the above.
    pub other: Vec<String>,
}

impl StoreReport {
    /// Parses `stdout` for the files `inputs` (paths exactly as passed to `dimse store`).
    ///
    /// A line belongs to a path only when the path is followed by the end of the line, ` (`
    /// or `: `, so `a.dcm` never claims the line of `a.dcm.bak`.
    pub fn parse(stdout: &str, inputs: &[String]) -> StoreReport {
        let mut report = StoreReport::default();
        for line in stdout.lines() {
            let line = line.trim_end();
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix("store: ") {
                report.summary = parse_store_summary(rest).map(|(n, m)| (n, m, line.to_owned()));
                continue;
            }
            if let Some(rest) = line.strip_prefix("warning: ") {
                if let Some((path, text)) = inputs
                    .iter()
                    .find_map(|p| Some((p, rest.strip_prefix(p.as_str())?.strip_prefix(": ")?)))
                {
                    report.warnings.push((path.clone(), text.to_owned()));
                    continue;
                }
            }
            match inputs.iter().find_map(|p| Some((p, outcome_of(line, p)?))) {
                Some((path, outcome)) => report
                    .outcomes
                    .entry(path.clone())
                    .or_default()
                    .push(outcome),
                None => report.other.push(line.to_owned()),
            }
        }
        report
    }

    /// The single outcome of `path`; `Err` describing the lines when there is none or several.
    pub fn outcome(&self, path: &str) -> Result<&StoreOutcome, String> {
        match self.outcomes.get(path).map(Vec::as_slice) {
            Some([one]) => Ok(one),
            Some(many) => Err(format!("{path}: {} outcome lines: {many:?}", many.len())),
            None => Err(format!("{path}: no outcome line")),
        }
    }

    /// Warnings about `path`.
    pub fn warnings_for(&self, path: &str) -> Vec<&str> {
        self.warnings
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
            .collect()
    }
}

/// `N sent, M failed...` → (N, M).
fn parse_store_summary(rest: &str) -> Option<(usize, usize)> {
    let (sent, rest) = rest.split_once(" sent, ")?;
    let failed: String = rest.chars().take_while(char::is_ascii_digit).collect();
    rest.strip_prefix(failed.as_str())?
        .strip_prefix(" failed")?;
    Some((sent.trim().parse().ok()?, failed.parse().ok()?))
}

/// The outcome `line` reports for `path`, if it is one of `path`'s outcome lines.
fn outcome_of(line: &str, path: &str) -> Option<StoreOutcome> {
    if let Some(rest) = line
        .strip_prefix("sent ")
        .and_then(|r| r.strip_prefix(path))
    {
        if rest.is_empty() {
            return Some(StoreOutcome::Sent);
        }
        let inner = rest.strip_prefix(" (")?.strip_suffix(')')?;
        if let Some(from) = inner.strip_prefix("decompressed from ") {
            return Some(StoreOutcome::Decompressed(from.to_owned()));
        }
        if let Some(conv) = inner.strip_prefix("converted from ") {
            return Some(StoreOutcome::Converted(conv.to_owned()));
        }
        return None;
    }
    let failure = |prefix: &str| -> Option<String> {
        Some(
            line.strip_prefix(prefix)?
                .strip_prefix(path)?
                .strip_prefix(": ")?
                .to_owned(),
        )
    };
    if let Some(why) = failure("refused ") {
        return Some(StoreOutcome::Refused(why));
    }
    if let Some(why) = failure("unreadable ") {
        return Some(StoreOutcome::Unreadable(why));
    }
    failure("not sent ").map(StoreOutcome::NotSent)
}

/// Per-file results of a `dcmsend +crf FILE` report (DCMTK 3.6.7 "Detailed Report on the
/// Transfer of Instances"): (`Filename`, `DIMSE Status`) of each numbered entry, e.g.
/// `("/x/CT_small.dcm", "0x0000 (Success)")` or `"<no acceptable presentation context>"`.
pub fn parse_dcmsend_report(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut file: Option<String> = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(" : ") else {
            continue;
        };
        match key.trim() {
            "Number" => file = None,
            "Filename" => file = Some(value.trim().to_owned()),
            "DIMSE Status" => {
                if let Some(f) = file.take() {
                    out.push((f, value.trim().to_owned()));
                }
            }
            _ => {}
        }
    }
    out
}

/// The directory of the test files shipped inside the installed pydicom package
/// (`pydicom/data/test_files`), if pydicom is importable and has it.
pub fn pydicom_test_files_dir() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, pydicom.data; print(os.path.join(os.path.dirname(pydicom.data.__file__), 'test_files'))",
        ])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (out.status.success() && dir.is_dir()).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_peer_skips_or_fails_per_env() {
        let missing = Peer::Dcmtk("no-such-dcmtk-tool");
        assert!(find_peer(missing).is_none());
        let outcome = std::panic::catch_unwind(|| require_peer(missing));
        if peers_required() {
            let message = *outcome.unwrap_err().downcast::<String>().unwrap();
            assert!(message.contains("DIMSE_REQUIRE_PEERS=1"), "{message}");
            assert!(message.contains("apt-get install dcmtk"), "{message}");
        } else {
            assert!(outcome.unwrap().is_none());
        }
    }

    #[test]
    fn manifest_partition() {
        let valid = valid_corpus_files();
        let broken = broken_corpus_files();
        assert_eq!(valid.len() + broken.len(), manifest().len());
        assert_eq!(valid.len(), 20, "{valid:#?}");
        assert_eq!(broken.len(), 10, "{broken:#?}");
        for name in [
            "MR_truncated.dcm",
            "no_meta.dcm",
            "rtstruct.dcm",
            "badVR.dcm",
        ] {
            assert!(broken.iter().any(|r| r.file == name), "{name}");
        }
        for row in &valid {
            assert!(row.path().is_file(), "{}", row.file);
        }
    }

    #[test]
    fn file_meta_of_valid_corpus_matches_manifest() {
        let mut instance_mismatches = Vec::new();
        for row in valid_corpus_files() {
            let meta = read_file_meta(&row.path()).unwrap();
            assert_eq!(meta.transfer_syntax, row.ts, "{}", row.file);
            assert_eq!(meta.sop_class, row.sop_class, "{}", row.file);
            assert!(meta.data_set_offset > 132);
            if meta.sop_instance != row.sop_instance {
                instance_mismatches.push(row.file.clone());
            }
            assert!(row.instance_uids().contains(&meta.sop_instance));
        }
        // The corpus files whose meta and data set disagree (see
        // `ManifestRow::instance_uids`).
        assert_eq!(instance_mismatches, ["rtdose.dcm", "rtplan.dcm"]);
        assert!(read_file_meta(&corpus_dir().join("no_meta.dcm")).is_err());
    }

    #[test]
    fn unique_instance_batches() {
        let valid = valid_corpus_files();
        let batches = batches_with_unique_instances(&valid);
        // Seven MR_small variants share one UID.
        assert_eq!(batches.len(), 7);
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), valid.len());
        for b in &batches {
            let mut uids: Vec<_> = b.iter().map(|r| &r.sop_instance).collect();
            uids.sort();
            uids.dedup();
            assert_eq!(uids.len(), b.len());
        }
    }

    #[test]
    fn dump_normalisation_rules() {
        let text = [
            "",
            "# Dicom-File-Format",
            "",
            "# Dicom-Meta-Information-Header",
            "(0002,0010) UI [1.2.840.10008.1.2]                      #  18, 1 TransferSyntaxUID",
            "# Dicom-Data-Set",
            "(0008,0000) UL 12                                       #   4, 1 GenericGroupLength",
            "(0008,1140) SQ (Sequence with undefined length #=1)     # u/l, 1 ReferencedImageSequence",
            "  (fffe,e000) na (Item with explicit length #=2)          #  94, 1 Item",
            "    (0040,a160) UT [two",
            "lines # 3, 1 X]                                             #  12, 1 TextValue",
            "  (fffe,e00d) na (ItemDelimitationItem)                   #   0, 0 ItemDelimitationItem",
            "(fffe,e0dd) na (SequenceDelimitationItem)               #   0, 0 SequenceDelimitationItem",
            "(3004,000c) DS [0.0\\5.0]                                # 242,15 GridFrameOffsetVector",
            "(3f03,1001) ?? fe\\ff                                    #   2, 1 Unknown Tag & Data",
            "(7fe0,0010) OW adab\\b09c                                #   4, 1 PixelData",
            "(fffc,fffc) OB 00\\00                                    #   2, 1 DataSetTrailingPadding",
        ]
        .join("\n");
        let got = normalise_dump(&text).unwrap();
        assert_eq!(
            got,
            vec![
                "(0008,1140) SQ (Sequence #=1) # 1 ReferencedImageSequence",
                "  (fffe,e000) na (Item #=2) # 1 Item",
                "    (0040,a160) UT [two\nlines # 3, 1 X] # 1 TextValue",
                "(3004,000c) DS [0.0\\5.0] # 15 GridFrameOffsetVector",
                "(3f03,1001) UN fe\\ff # 1 Unknown Tag & Data",
                "(7fe0,0010) OB ab\\ad\\9c\\b0 # 1 PixelData",
            ]
        );
    }
}
