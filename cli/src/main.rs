//! `dimse`: DICOM networking from the command line.
#![forbid(unsafe_code)]
// Doc comments here are clap's --help text, read in a terminal: `<dir>` and `[:PORT]` are
// placeholders there, not HTML or links.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

mod commit;
mod conform;
mod decode;
mod echo;
mod faults;
mod find;
mod json_in;
mod nservice;
mod probe;
mod progress;
mod retrieve;
mod serve;
mod store;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "dimse",
    version,
    about = "DICOM networking: echo, store, find, move, get, commit, N-services, serve",
    after_help = "Exit status: 0 when everything asked for succeeded; 1 when anything failed \
                  (a file not sent, a failure status, a peer that could not be reached); 2 for \
                  a usage error (unknown option, bad value)."
)]
struct Cli {
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Print every PDU both ways on standard error, decoded: A-ASSOCIATE items, P-DATA PDVs
    /// with their control headers, command sets element by element, data sets by size.
    #[arg(long, global = true)]
    trace: bool,
    /// With --trace, show data sets element by element too (patient data included).
    #[arg(long, global = true)]
    trace_data: bool,
    #[command(subcommand)]
    command: Command,
}

/// Options every SCU command shares.
#[derive(clap::Args, Clone)]
pub struct ScuArgs {
    /// Our (calling) AE title.
    #[arg(long, default_value = "DIMSE")]
    pub aet: String,
    /// The peer's (called) AE title.
    #[arg(long, default_value = "ANY-SCP")]
    pub aec: String,
    /// Peer host name or address.
    pub host: String,
    /// Peer port.
    pub port: u16,
    /// The adapter that runs the association.
    #[arg(long, value_enum, env = "DIMSE_RUNTIME", default_value_t = RuntimeChoice::Tokio)]
    pub runtime: RuntimeChoice,
    /// Seconds to wait for the TCP connection (and TLS handshake).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Seconds to wait for each response (a pending response restarts the wait).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub dimse_timeout: u64,
    /// Seconds one request may take in all, pending responses included [default: no limit].
    #[arg(long, value_name = "SECS")]
    pub dimse_total_timeout: Option<u64>,
    /// Seconds to wait for the peer's answer to association and release requests.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub acse_timeout: u64,
    /// Present this user name (user identity negotiation, PS3.7 D.3.3.7).
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
    /// Passcode of --username.
    #[arg(long, value_name = "PASSCODE", requires = "username")]
    pub passcode: Option<String>,
    /// Connect with TLS (PS3.15 BCP 195 profile).
    #[arg(long)]
    pub tls: bool,
    /// Trust the certificates in this PEM file, or in every PEM file in this directory: CAs,
    /// and peers' own (self-signed) certificates, trusted as they are (DCMTK +cf, +cd).
    /// Repeatable [default: the system's CAs, unless --tls-pin is given].
    #[arg(long, value_name = "FILE|DIR", requires = "tls")]
    pub tls_ca: Vec<std::path::PathBuf>,
    /// Trust the peer certificate with this SHA-256 fingerprint: hex, colons allowed, as
    /// `openssl x509 -noout -fingerprint -sha256 -in CERT` prints it. Repeatable.
    #[arg(long, value_name = "SHA256", requires = "tls")]
    pub tls_pin: Vec<String>,
    /// Do not check that the peer's certificate names the host connected to.
    #[arg(long, requires = "tls")]
    pub tls_no_verify_name: bool,
    /// Accept any certificate the peer presents, unchecked (DCMTK -ic): for tests only.
    #[arg(long, requires = "tls")]
    pub tls_insecure: bool,
    /// PEM certificate (chain) to present when the peer asks for one.
    #[arg(long, value_name = "FILE", requires_all = ["tls", "tls_key"])]
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
}

/// The trust set the `--tls-ca`, `--tls-pin`, `--tls-no-verify-name` and `--tls-insecure`
/// options describe; with neither certificates nor pins, the system's CAs if `system` says
/// so (an SCU's default), else nothing.
pub fn tls_trust(
    cas: &[std::path::PathBuf],
    pins: &[String],
    no_verify_name: bool,
    insecure: bool,
    system: bool,
) -> Result<dimse_driver::Trust, String> {
    let tls = |e: dimse_driver::TlsError| format!("TLS: {e}");
    if insecure {
        eprintln!(
            "dimse: warning: --tls-insecure: peers' certificates are not checked, so anyone \
             can pose as them; for tests only"
        );
        return Ok(dimse_driver::Trust::insecure());
    }
    let mut trust = if cas.is_empty() && pins.is_empty() && system {
        dimse_driver::Trust::system().map_err(tls)?
    } else {
        dimse_driver::Trust::new()
    };
    for ca in cas {
        trust.add_pem(ca).map_err(tls)?;
    }
    for pin in pins {
        trust.pins.push(pin.parse().map_err(tls)?);
    }
    trust.verify_name = !no_verify_name;
    Ok(trust)
}

impl ScuArgs {
    /// TLS for an SCP of the command's own (the report listener of `dimse commit --listen`):
    /// with `--tls` and `--tls-cert`/`--tls-key` it serves TLS with that certificate (not
    /// asking for the peer's); otherwise plain TCP.
    pub fn listener_tls(&self) -> Result<Option<dimse_driver::ServerTls>, String> {
        let (true, Some(cert), Some(key)) = (self.tls, &self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let tls = |e: dimse_driver::TlsError| format!("TLS: {e}");
        let identity = dimse_driver::Identity::from_pem_files(cert, key).map_err(tls)?;
        dimse_driver::ServerTls::new(&identity, None)
            .map(Some)
            .map_err(tls)
    }

    /// The SCU these options describe (AE title, timeouts, TLS).
    pub fn scu<R: dimse_driver::Runtime>(&self) -> Result<dimse_driver::Scu<R>, String> {
        let secs = std::time::Duration::from_secs;
        let mut scu = dimse_driver::Scu::<R>::new(&self.aet);
        scu.connect_timeout = secs(self.connect_timeout);
        scu.config.dimse_timeout = Some(secs(self.dimse_timeout));
        scu.config.dimse_total_timeout = self.dimse_total_timeout.map(secs);
        scu.config.acse_timeout = Some(secs(self.acse_timeout));
        scu.user_identity = self.username.as_ref().map(|name| {
            let bytes = |s: &str| bytes::Bytes::copy_from_slice(s.as_bytes());
            dimse_core::assoc::UserIdentity {
                kind: if self.passcode.is_some() { 2 } else { 1 },
                positive_response_requested: false,
                primary: bytes(name),
                secondary: self.passcode.as_deref().map(bytes).unwrap_or_default(),
            }
        });
        scu.tls = self.client_tls()?;
        scu.wire_log = wire_log();
        Ok(scu)
    }

    /// The client TLS settings of `--tls` and its options; `None` without `--tls`.
    pub fn client_tls(&self) -> Result<Option<dimse_driver::ClientTls>, String> {
        if !self.tls {
            return Ok(None);
        }
        let trust = tls_trust(
            &self.tls_ca,
            &self.tls_pin,
            self.tls_no_verify_name,
            self.tls_insecure,
            true,
        )?;
        let identity = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(
                dimse_driver::Identity::from_pem_files(cert, key)
                    .map_err(|e| format!("TLS: {e}"))?,
            ),
            _ => None,
        };
        dimse_driver::ClientTls::new(&trust, identity.as_ref())
            .map(Some)
            .map_err(|e| format!("TLS: {e}"))
    }
}

/// Run `$f::<R>(args...)` to completion on the runtime `$choice` names.
#[macro_export]
macro_rules! on_runtime {
    ($choice:expr, $f:ident($($arg:expr),*)) => {
        match $choice {
            $crate::RuntimeChoice::Std => {
                dimse_std::block_on($f::<dimse_std::Blocking>($($arg),*))
            }
            $crate::RuntimeChoice::Tokio => {
                $crate::tokio_runtime()?.block_on($f::<dimse_tokio::Tokio>($($arg),*))
            }
            $crate::RuntimeChoice::Smol => smol::block_on($f::<dimse_smol::Smol>($($arg),*)),
        }
    };
}

/// A tokio runtime for one SCU command: one thread is all an association needs.
pub fn tokio_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))
}

#[derive(Subcommand)]
enum Command {
    /// Verify a peer with C-ECHO.
    Echo(echo::Args),
    /// Send DICOM files (and directories, recursively) with C-STORE over one association.
    Store(store::Args),
    /// Query a peer with C-FIND.
    Find(find::Args),
    /// Ask a peer to send instances to an AE with C-MOVE.
    Move(retrieve::MoveArgs),
    /// Retrieve instances into a directory with C-GET.
    Get(retrieve::GetArgs),
    /// Run a Storage and Query/Retrieve SCP over an archive directory with an SQLite index.
    Serve(serve::Args),
    /// Run protocol conformance scenarios against an SCP.
    Conform(conform::Args),
    /// What a peer accepts: every storage SOP class per transfer syntax family, the Q/R and
    /// other services, maximum PDU, window, roles, user identity, implementation.
    Probe(probe::Args),
    /// Ask a peer to commit instances (Storage Commitment) and print which it committed.
    Commit(commit::Args),
    /// N-GET: read attributes of a managed SOP instance.
    Nget(nservice::Args),
    /// N-SET: modify a managed SOP instance (e.g. complete an MPPS).
    Nset(nservice::Args),
    /// N-ACTION: ask a managed SOP instance to act.
    Naction(nservice::Args),
    /// N-CREATE: create a managed SOP instance (e.g. start an MPPS).
    Ncreate(nservice::Args),
    /// N-DELETE: delete a managed SOP instance.
    Ndelete(nservice::Args),
    /// Receive N-EVENT-REPORTs and print each as a JSON record.
    Nevents(nservice::EventsArgs),
    /// Print the DICOM upper-layer conversation in a packet capture (pcap or pcapng, TCP
    /// streams reassembled, any port) or raw byte dump, as --trace prints it.
    Decode(decode::Args),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `dimse man > dimse.1`.
    Man,
}

fn main() -> ExitCode {
    // `dimse conform --list` names the scenarios without a peer, and `--scu` is the peer:
    // HOST and PORT, which every other use of the SCU options needs, are optional there
    // (placeholders fill them).
    let command = Cli::command().mut_subcommand("conform", |c| {
        c.mut_arg("host", |a| {
            a.required(false)
                .required_unless_present_any(["list", "scu"])
                .default_value("")
        })
        .mut_arg("port", |a| {
            a.required(false)
                .required_unless_present_any(["list", "scu"])
                .default_value("0")
        })
    });
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let default = match cli.verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if cli.trace || cli.trace_data {
        let _ = WIRE_LOG.set(dimse_driver::WireLog::stderr(cli.trace_data));
    }
    let result = match cli.command {
        Command::Echo(a) => echo::run(a),
        Command::Store(a) => store::run(a),
        Command::Find(a) => find::run(a),
        Command::Move(a) => retrieve::run_move(a),
        Command::Get(a) => retrieve::run_get(a),
        Command::Serve(a) => serve::run(a),
        Command::Conform(a) => conform::run(a),
        Command::Probe(a) => probe::run(a),
        Command::Decode(a) => decode::run(a, cli.trace_data),
        Command::Commit(a) => commit::run(a),
        Command::Nget(a) => nservice::run(nservice::Service::Get, a),
        Command::Nset(a) => nservice::run(nservice::Service::Set, a),
        Command::Naction(a) => nservice::run(nservice::Service::Action, a),
        Command::Ncreate(a) => nservice::run(nservice::Service::Create, a),
        Command::Ndelete(a) => nservice::run(nservice::Service::Delete, a),
        Command::Nevents(a) => nservice::run_events(a),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            // Into a buffer first: generate() panics when its writer fails (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "dimse", &mut script);
            match std::io::Write::write_all(&mut std::io::stdout(), &script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(format!("cannot write the completion script: {e}"))
                }
                _ => Ok(ExitCode::SUCCESS),
            }
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(command)
                .render(&mut std::io::stdout())
                .map(|()| ExitCode::SUCCESS)
                .map_err(|e| format!("cannot write the man page: {e}"))
        }
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("dimse: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Which adapter runs the protocol: the behaviour is the same, the threading differs.
#[derive(clap::ValueEnum, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeChoice {
    /// tokio, multi-threaded: one task per association.
    #[default]
    Tokio,
    /// smol's executor over async-io: one task per association.
    Smol,
    /// Blocking sockets: one thread per association.
    Std,
}

static WIRE_LOG: std::sync::OnceLock<dimse_driver::WireLog> = std::sync::OnceLock::new();

/// The `--trace` log, if asked for: every association of the command or server uses it.
pub fn wire_log() -> Option<dimse_driver::WireLog> {
    WIRE_LOG.get().cloned()
}

/// Check an AE title given on the command line.
pub fn check_ae(what: &str, title: &str) -> Result<(), String> {
    dimse_core::ae::validate_ae_title(title).map_err(|e| format!("{what} {title:?}: {e}"))
}
