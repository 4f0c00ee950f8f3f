//! `dimse serve`: a Storage and Query/Retrieve SCP over an archive directory.
//!
//! Settings come from defaults, then the `--config` file, then flags.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dimse_archive::{Access, Archive, Config, Duplicates, IndexLocation, Service};
use dimse_core::assoc::IdleAction;
use dimse_core::Entity;
use dimse_driver::{CommitmentReports, Decompress, Scp};
use serde::Deserialize;

use crate::{check_ae, RuntimeChoice};

#[derive(clap::Args)]
pub struct Args {
    /// TOML configuration file (see README: `[server]` and `[[peer]]` tables). Flags given
    /// on the command line override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Our AE title; associations must call it [default: DIMSE].
    #[arg(long)]
    aet: Option<String>,
    /// TCP port to listen on [default: 11112].
    #[arg(long)]
    port: Option<u16>,
    /// Address to listen on [default: 0.0.0.0].
    #[arg(long)]
    bind: Option<String>,
    /// Answer every C-STORE with this status (e.g. 0xA700, 0xB000), to test how SCUs take
    /// it: a failure stores nothing, a warning stores the instance as usual.
    #[arg(long, value_name = "STATUS", value_parser = crate::faults::parse_status)]
    store_status: Option<dimse_core::dimse::Status>,
    /// Refuse every association with this A-ASSOCIATE-RJ: user (1/1/1), app-context (1/1/2),
    /// calling-ae (1/1/3), called-ae (1/1/7), acse (1/2/1), protocol-version (1/2/2),
    /// congestion (2/3/1, transient), local-limit (2/3/2, transient), or RESULT/SOURCE/REASON
    /// numbers such as 2/1/1.
    #[arg(long, value_name = "REASON", value_parser = crate::faults::parse_refusal)]
    refuse_association: Option<dimse_core::pdu::AssociateRj>,
    /// Abort each association (A-ABORT) once its N-th request has arrived, without answering
    /// it; earlier requests are answered as usual.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    abort_after: Option<u32>,
    /// Wait SECS (fractions allowed) after each request arrives before answering it.
    #[arg(long, value_name = "SECS", value_parser = crate::faults::parse_seconds)]
    delay_response: Option<std::time::Duration>,
    /// Archive directory: instances by study and series, and the index [default: ./dimse-archive].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// A known peer, AET@HOST:PORT: a C-MOVE destination (repeatable).
    #[arg(long = "peer", value_name = "AET@HOST:PORT")]
    peers: Vec<String>,
    /// A known peer reached over TLS, AET@HOST:PORT (repeatable): C-MOVE sub-associations to
    /// it use TLS with our --tls-cert/--tls-key (if given) and trust set (--tls-ca,
    /// --tls-pin; the system's CAs without them).
    #[arg(long = "tls-peer", value_name = "AET@HOST:PORT")]
    tls_peers: Vec<String>,
    /// Accept any called AE title, not only ours.
    #[arg(long)]
    any_called_ae: bool,
    /// Most associations served at once [default: 64].
    #[arg(long)]
    max_associations: Option<usize>,
    /// Require user identity NAME:PASSCODE to associate (repeatable; PS3.7 D.3.3.7). Others
    /// are rejected (1/1/1).
    #[arg(long = "user", value_name = "NAME:PASSCODE")]
    users: Vec<String>,
    /// Most connections held at once, associated or not [default: 1024].
    #[arg(long)]
    max_connections: Option<usize>,
    /// Make each instance durable (fsync of file, directories and index) before answering.
    #[arg(long)]
    fsync: bool,
    /// Where the index lives: sqlite (<dir>/index.sqlite) or a PostgreSQL database,
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB, which several `dimse serve` over the same
    /// --dir may share [default: sqlite].
    #[arg(long, value_name = "sqlite|URL")]
    index: Option<IndexLocation>,
    /// A second instance with a stored SOP Instance UID: replace, keep or reject [default: replace].
    #[arg(long, value_name = "POLICY")]
    duplicates: Option<Duplicates>,
    /// The adapter that serves the associations [default: tokio].
    #[arg(long, value_enum, env = "DIMSE_RUNTIME")]
    runtime: Option<RuntimeChoice>,
    /// Seconds an association may stay idle (nothing in flight) before it is released or
    /// aborted; 0 = never [default: 300].
    #[arg(long, value_name = "SECS")]
    idle_timeout: Option<u64>,
    /// What an idle association gets: release or abort [default: release].
    #[arg(long, value_name = "ACTION")]
    idle_action: Option<IdleAction>,
    /// Seconds to wait for a peer's response to our requests (C-GET sub-operations,
    /// N-EVENT-REPORT) [default: 60].
    #[arg(long, value_name = "SECS")]
    dimse_timeout: Option<u64>,
    /// Seconds to wait for an A-ASSOCIATE-RQ after connecting (ARTIM) and for release replies
    /// [default: 30].
    #[arg(long, value_name = "SECS")]
    acse_timeout: Option<u64>,
    /// Largest P-DATA-TF PDU we accept, announced to peers [default: 262144].
    #[arg(long, value_name = "BYTES")]
    max_pdu: Option<u32>,
    /// Largest data set accepted in one request; a longer one aborts the association
    /// [default: 4 GiB].
    #[arg(long, value_name = "BYTES")]
    max_data_set: Option<u64>,
    /// Serve TLS (PS3.15 BCP 195 profile) with this PEM certificate (chain).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Trust the certificates in this PEM file, or in every PEM file in this directory
    /// (repeatable): clients' own certificates or their CAs, and TLS peers' (--tls-peer).
    /// Without --tls-require-client-cert it still requires client certificates, as it did
    /// before that option existed; say --tls-require-client-cert=false to not ask for them.
    #[arg(long, value_name = "FILE|DIR")]
    tls_ca: Vec<PathBuf>,
    /// Trust the certificate with this SHA-256 fingerprint (hex, colons allowed), as a
    /// client's or a TLS peer's (repeatable).
    #[arg(long, value_name = "SHA256")]
    tls_pin: Vec<String>,
    /// Require every client to present a certificate from the trust set (--tls-ca,
    /// --tls-pin): mutual TLS. =false: do not ask clients for one.
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    tls_require_client_cert: Option<bool>,
    /// Do not check that TLS peers' certificates name the host connected to.
    #[arg(long)]
    tls_no_verify_name: bool,
    /// Which stored compressed instances C-MOVE and C-GET decompress for a destination that
    /// accepts none of their own transfer syntax: never, lossless, lossy [default: lossless].
    #[arg(long, value_name = "POLICY")]
    decompress: Option<Decompress>,
    /// Where Storage Commitment reports go: on the request's association (same), or on a
    /// new association to the requestor, whose AE title must be a known peer (new)
    /// [default: same].
    #[arg(long, value_name = "same|new")]
    commit_report: Option<CommitmentReports>,
}

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    server: ServerSection,
    #[serde(default, rename = "peer")]
    peers: Vec<PeerSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    aet: Option<String>,
    port: Option<u16>,
    bind: Option<String>,
    dir: Option<PathBuf>,
    any_called_ae: Option<bool>,
    max_associations: Option<usize>,
    max_connections: Option<usize>,
    /// NAME:PASSCODE pairs that may associate.
    users: Option<Vec<String>>,
    fsync: Option<bool>,
    /// "sqlite" or "postgres://...": see `--index`.
    #[serde(default, deserialize_with = "parsed")]
    index: Option<IndexLocation>,
    #[serde(default, deserialize_with = "parsed")]
    duplicates: Option<Duplicates>,
    runtime: Option<RuntimeChoice>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    /// One PEM file or directory, or a list of them: see `--tls-ca`.
    tls_ca: Option<Paths>,
    /// SHA-256 fingerprints: see `--tls-pin`.
    tls_pin: Option<Vec<String>>,
    tls_require_client_cert: Option<bool>,
    /// false: see `--tls-no-verify-name`.
    tls_verify_name: Option<bool>,
    idle_timeout: Option<u64>,
    #[serde(default, deserialize_with = "parsed")]
    idle_action: Option<IdleAction>,
    dimse_timeout: Option<u64>,
    acse_timeout: Option<u64>,
    max_pdu: Option<u32>,
    max_data_set: Option<u64>,
    /// never, lossless (default) or lossy: see `--decompress`.
    #[serde(default, deserialize_with = "parsed")]
    decompress: Option<Decompress>,
    /// "same" (default) or "new": see `--commit-report`.
    #[serde(default, deserialize_with = "parsed")]
    commit_report: Option<CommitmentReports>,
    /// "any" (default): every caller may use every service; "peers": only `[[peer]]`
    /// entries may associate, each using the services it lists.
    #[serde(default, deserialize_with = "parsed")]
    callers: Option<Callers>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerSection {
    aet: String,
    host: String,
    port: u16,
    /// What the peer may ask of us when `callers = "peers"` (default: everything).
    #[serde(default, deserialize_with = "parsed_list")]
    services: Option<Vec<Service>>,
    /// Whether C-MOVE may send to it (default: yes).
    move_destination: Option<bool>,
    /// Whether associations to it use TLS (default: no).
    tls: Option<bool>,
}

/// One path or several (`tls_ca = "ca.pem"` or `tls_ca = ["a.pem", "certs/"]`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Paths {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

impl Paths {
    fn into_vec(self) -> Vec<PathBuf> {
        match self {
            Paths::One(p) => vec![p],
            Paths::Many(v) => v,
        }
    }
}

/// Who may associate: `callers = "any" | "peers"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Callers {
    Any,
    Peers,
}

impl std::str::FromStr for Callers {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "any" => Ok(Callers::Any),
            "peers" => Ok(Callers::Peers),
            other => Err(format!("{other:?}: expected \"any\" or \"peers\"")),
        }
    }
}

/// A string setting parsed where it is read, so that a bad value is reported with its line.
fn parsed<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = String>,
{
    Option::<String>::deserialize(d)?
        .map(|v| v.parse().map_err(serde::de::Error::custom))
        .transpose()
}

/// A list of string settings, each parsed as [`parsed`] does.
fn parsed_list<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = String>,
{
    Option::<Vec<String>>::deserialize(d)?
        .map(|list| {
            list.iter()
                .map(|v| v.parse().map_err(serde::de::Error::custom))
                .collect()
        })
        .transpose()
}

/// `AET@HOST:PORT`.
fn parse_peer(s: &str) -> Result<PeerSection, String> {
    let bad = || format!("--peer {s:?}: expected AET@HOST:PORT");
    let (aet, addr) = s.split_once('@').ok_or_else(bad)?;
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok(PeerSection {
        aet: aet.to_string(),
        host: host.to_string(),
        port,
        services: None,
        move_destination: None,
        tls: None,
    })
}

/// serve's TLS: what it serves with, and what it uses towards TLS peers.
struct ServeTls {
    server: Option<dimse_driver::ServerTls>,
    require_client_cert: bool,
    /// For `--tls-peer` and `[[peer]] tls = true`: our certificate, our trust set.
    peers: Option<dimse_driver::ClientTls>,
}

/// The TLS options, from the flags and the configuration file.
struct TlsSettings {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    cas: Vec<PathBuf>,
    pins: Vec<String>,
    require_client_cert: Option<bool>,
    no_verify_name: bool,
}

impl ServeTls {
    fn new(settings: TlsSettings, peers: &[PeerSection]) -> Result<ServeTls, String> {
        let tls = |e: dimse_driver::TlsError| format!("TLS: {e}");
        let TlsSettings {
            cert,
            key,
            cas,
            pins,
            require_client_cert,
            no_verify_name,
        } = settings;
        let identity = match (cert, key) {
            (Some(cert), Some(key)) => {
                Some(dimse_driver::Identity::from_pem_files(&cert, &key).map_err(tls)?)
            }
            (None, None) => None,
            _ => return Err("TLS needs both tls_cert and tls_key".into()),
        };
        let trust_given = !cas.is_empty() || !pins.is_empty();
        let require = match require_client_cert {
            Some(require) => require,
            // Before --tls-require-client-cert, --tls-ca meant exactly that: keep it.
            None if !cas.is_empty() && identity.is_some() => {
                eprintln!(
                    "dimse serve: note: --tls-ca without --tls-require-client-cert requires \
                     client certificates, as before; say --tls-require-client-cert (or =false) \
                     to make the choice explicit"
                );
                true
            }
            None => false,
        };
        if trust_given && identity.is_none() && !peers.iter().any(|p| p.tls == Some(true)) {
            return Err(
                "--tls-ca and --tls-pin need --tls-cert and --tls-key (to serve TLS) \
                        or a --tls-peer to use them for"
                    .into(),
            );
        }
        if require && identity.is_none() {
            return Err("--tls-require-client-cert needs --tls-cert and --tls-key".into());
        }
        if require && !trust_given {
            return Err(
                "--tls-require-client-cert needs --tls-ca (or --tls-pin): the client \
                        certificates, or their CAs, to accept"
                    .into(),
            );
        }
        let trust = crate::tls_trust(&cas, &pins, no_verify_name, false, false)?;
        let server = match &identity {
            Some(identity) => Some(
                dimse_driver::ServerTls::new(identity, require.then_some(&trust)).map_err(tls)?,
            ),
            None => None,
        };
        let peers = if peers.iter().any(|p| p.tls == Some(true)) {
            let mut trust = trust;
            if !trust_given {
                trust = dimse_driver::Trust::system().map_err(tls)?;
                trust.verify_name = !no_verify_name;
            }
            Some(dimse_driver::ClientTls::new(&trust, identity.as_ref()).map_err(tls)?)
        } else {
            None
        };
        Ok(ServeTls {
            server,
            require_client_cert: require,
            peers,
        })
    }
}

fn read_config(path: &Path) -> Result<File, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => File::default(),
    };
    let s = file.server;
    let aet = args.aet.or(s.aet).unwrap_or_else(|| "DIMSE".into());
    check_ae("--aet", &aet)?;
    let port = args.port.or(s.port).unwrap_or(11112);
    let bind = args.bind.or(s.bind).unwrap_or_else(|| "0.0.0.0".into());
    let dir = args
        .dir
        .or(s.dir)
        .unwrap_or_else(|| PathBuf::from("./dimse-archive"));
    let duplicates = args.duplicates.or(s.duplicates).unwrap_or_default();
    let mut peers = file.peers;
    for p in &args.peers {
        peers.push(parse_peer(p)?);
    }
    for p in &args.tls_peers {
        let mut peer = parse_peer(p).map_err(|e| e.replacen("--peer", "--tls-peer", 1))?;
        peer.tls = Some(true);
        peers.push(peer);
    }
    let mut access = Access::default();
    match s.callers.unwrap_or(Callers::Any) {
        Callers::Any => {}
        Callers::Peers => {
            for p in &peers {
                let services = match &p.services {
                    Some(list) => list.clone(),
                    None => vec![
                        Service::Echo,
                        Service::Store,
                        Service::Find,
                        Service::Move,
                        Service::Get,
                        Service::Commit,
                    ],
                };
                access.allow(&p.aet, &services);
            }
        }
    }

    let mut config = Config::new(&aet);
    config.durable = args.fsync || s.fsync.unwrap_or(false);
    config.duplicates = duplicates;
    config.access = access;
    if let Some(index) = args.index.or(s.index) {
        config.index = index;
    }
    let archive =
        Archive::open(&dir, config).map_err(|e| format!("cannot open the archive: {e}"))?;
    let counts = archive.counts().map_err(|e| format!("index: {e}"))?;
    let mut policy = archive.policy();
    policy.require_called_ae = !(args.any_called_ae || s.any_called_ae.unwrap_or(false));
    if let Some(max) = args.max_pdu.or(s.max_pdu) {
        policy.max_pdu = max;
    }
    let mut users = s.users.unwrap_or_default();
    users.extend(args.users);
    if !users.is_empty() {
        let pairs = users
            .iter()
            .map(|u| {
                u.split_once(':')
                    .filter(|(name, _)| !name.is_empty())
                    .ok_or_else(|| format!("user {u:?}: expected NAME:PASSCODE"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        policy.identity = Some(dimse_core::assoc::IdentityVerifier::passcodes(&pairs));
    }
    let mut scp = match args.store_status {
        Some(status) => {
            tracing::warn!("answering every C-STORE with {status} (--store-status)");
            Scp::new(
                policy,
                crate::faults::StoreStatus {
                    inner: archive,
                    status,
                },
            )
        }
        None => Scp::new(policy, archive),
    };
    scp.wire_log = crate::wire_log();
    scp.faults = dimse_driver::Faults {
        refuse: args.refuse_association,
        abort_after: args.abort_after,
        delay_response: args.delay_response,
    };
    if let Some(rj) = scp.faults.refuse {
        tracing::warn!(
            "refusing every association: {} (--refuse-association)",
            crate::faults::describe_refusal(&rj)
        );
    }
    if let Some(n) = scp.faults.abort_after {
        tracing::warn!("aborting each association at its request {n} (--abort-after)");
    }
    if let Some(d) = scp.faults.delay_response {
        tracing::warn!("delaying each response by {d:?} (--delay-response)");
    }
    scp.max_associations = args.max_associations.or(s.max_associations).unwrap_or(64);
    if let Some(n) = args.max_connections.or(s.max_connections) {
        scp.max_connections = n;
    }
    let secs = std::time::Duration::from_secs;
    match args.idle_timeout.or(s.idle_timeout) {
        Some(0) => scp.config.idle_timeout = None,
        Some(n) => scp.config.idle_timeout = Some(secs(n)),
        None => {}
    }
    scp.config.idle_action = args.idle_action.or(s.idle_action).unwrap_or_default();
    if let Some(n) = args.dimse_timeout.or(s.dimse_timeout) {
        scp.config.dimse_timeout = Some(secs(n));
    }
    if let Some(n) = args.acse_timeout.or(s.acse_timeout) {
        scp.config.artim_timeout = secs(n);
        scp.config.acse_timeout = Some(secs(n));
    }
    if let Some(n) = args.max_data_set.or(s.max_data_set) {
        scp.config.max_data_set_length = n;
    }
    if let Some(policy) = args.decompress.or(s.decompress) {
        scp.decompress = policy;
    }
    if let Some(where_to) = args.commit_report.or(s.commit_report) {
        scp.commitment_reports = where_to;
    }
    let mut tls_cas = s.tls_ca.map(Paths::into_vec).unwrap_or_default();
    tls_cas.extend(args.tls_ca);
    let mut tls_pins = s.tls_pin.unwrap_or_default();
    tls_pins.extend(args.tls_pin);
    let tls = ServeTls::new(
        TlsSettings {
            cert: args.tls_cert.or(s.tls_cert),
            key: args.tls_key.or(s.tls_key),
            cas: tls_cas,
            pins: tls_pins,
            require_client_cert: args.tls_require_client_cert.or(s.tls_require_client_cert),
            no_verify_name: args.tls_no_verify_name || s.tls_verify_name == Some(false),
        },
        &peers,
    )?;
    scp.tls = tls.server;
    let security = match (&scp.tls, tls.require_client_cert) {
        (None, _) => "no TLS",
        (Some(_), false) => "TLS",
        (Some(_), true) => "TLS with client certificates required",
    };
    let mut known = Vec::new();
    for p in &peers {
        check_ae("peer", &p.aet)?;
        let entity = Entity::new(&p.aet, &p.host, p.port);
        let tls_peer = p.tls.unwrap_or(false);
        if let (Some(client), true) = (&tls.peers, tls_peer) {
            scp.tls_destinations.insert(p.aet.clone(), client.clone());
        }
        if p.move_destination.unwrap_or(true) {
            scp = scp.with_destination(entity);
        } else {
            // Not a C-MOVE destination, but Storage Commitment reports may still go there.
            scp.report_destinations.insert(p.aet.clone(), entity);
        }
        let suffix = if tls_peer { " (TLS)" } else { "" };
        known.push(format!("{}@{}:{}{suffix}", p.aet, p.host, p.port));
    }
    let runtime = args.runtime.or(s.runtime).unwrap_or_default();
    let listen_error = |e: std::io::Error| format!("cannot listen on {bind}:{port}: {e}");
    let announce = |addr: std::net::SocketAddr| {
        eprintln!(
            "dimse serve: listening on {addr} as AE {aet}; archive {} holds {} instances in {} studies; peers: {}; {security}; runtime: {runtime:?}",
            dir.display(),
            counts.instances,
            counts.studies,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    };
    let addr = (bind.as_str(), port);
    match runtime {
        RuntimeChoice::Std => {
            let server = dimse_std::Scp::from(scp).bind(addr).map_err(listen_error)?;
            announce(server.local_addr());
            server.run();
        }
        RuntimeChoice::Tokio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start tokio: {e}"))?;
            rt.block_on(async {
                let server = dimse_tokio::Scp::from(scp)
                    .bind(addr)
                    .await
                    .map_err(listen_error)?;
                announce(server.local_addr());
                server.run().await;
                Ok::<(), String>(())
            })?;
        }
        RuntimeChoice::Smol => {
            // smol's global executor runs one thread unless told otherwise; handlers do
            // blocking file and index work, so give it one per core.
            if std::env::var_os("SMOL_THREADS").is_none() {
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                std::env::set_var("SMOL_THREADS", cores.to_string());
            }
            smol::block_on(async {
                let server = dimse_smol::Scp::from(scp)
                    .bind(addr)
                    .await
                    .map_err(listen_error)?;
                announce(server.local_addr());
                server.run().await;
                Ok::<(), String>(())
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse() {
        let p = parse_peer("STORESCP@127.0.0.1:11113").unwrap();
        assert_eq!(
            (p.aet.as_str(), p.host.as_str(), p.port),
            ("STORESCP", "127.0.0.1", 11113)
        );
        assert!(parse_peer("STORESCP@127.0.0.1").is_err());
        assert!(parse_peer("127.0.0.1:104").is_err());
        assert!(parse_peer("A@:104").is_err());
    }

    #[test]
    fn config_file_parses() {
        let f: File = toml::from_str(
            r#"
            [server]
            aet = "PACS"
            port = 4242
            duplicates = "reject"
            callers = "peers"

            [[peer]]
            aet = "CT1"
            host = "10.0.0.5"
            port = 104
            services = ["store", "echo"]
            move_destination = false

            [[peer]]
            aet = "ARCHIVE"
            host = "archive.example"
            port = 2762
            tls = true
            "#,
        )
        .unwrap();
        assert_eq!(f.server.aet.as_deref(), Some("PACS"));
        assert_eq!(f.peers.len(), 2);
        assert_eq!(f.peers[1].tls, Some(true));
        assert_eq!(f.peers[0].services.as_ref().unwrap().len(), 2);
        assert!(toml::from_str::<File>("[server]\nport = 1\nbogus = 2").is_err());
    }

    const EXAMPLE: &str = include_str!("../serve.example.toml");

    /// The example file parses as shipped, and with its optional settings switched on it
    /// sets every key there is: a key added to the file format must be shown there.
    #[test]
    fn the_example_config_shows_every_setting() {
        let shipped: File = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(shipped.server.callers, Some(Callers::Any));
        assert_eq!(shipped.server.tls_cert, None);
        let switched_on: String = EXAMPLE
            .lines()
            .map(|line| match line.strip_prefix('#') {
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let all: File = toml::from_str(&switched_on).unwrap();
        let server = format!("{:?}", all.server);
        assert!(
            !server.contains("None"),
            "a [server] key is missing: {server}"
        );
        let peer = format!("{:?}", all.peers[0]);
        assert!(!peer.contains("None"), "a [[peer]] key is missing: {peer}");
        assert_eq!(
            all.server.commit_report,
            Some(CommitmentReports::SameAssociation)
        );
        assert_eq!(
            all.peers[0].services.as_deref(),
            Some(&[Service::Echo, Service::Store, Service::Commit][..])
        );
    }

    /// A bad value or key in the file names the file, the line and what was expected.
    #[test]
    fn config_errors_name_the_file_and_line() {
        let dir = std::env::temp_dir().join(format!("dimse-serve-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("serve.toml");
        for (text, line, expected) in [
            ("[server]\nport = 104\nduplicates = \"twice\"\n", 3, "expected replace, keep or reject"),
            ("[server]\n\ncommit_report = \"later\"\n", 3, "\"same\" or a \"new\""),
            ("[server]\nindex = \"mysql://db\"\n", 2, "expected \"sqlite\" or a postgres:// URL"),
            ("[server]\nidle_action = \"hang\"\n", 2, "expected release or abort"),
            ("[server]\nport = 1\n\n[[peer]]\naet = \"A\"\nhost = \"h\"\nport = 1\nservices = [\"print\"]\n", 8, "unknown service \"print\""),
            ("[server]\nport = 1\nfsnyc = true\n", 3, "unknown field `fsnyc`"),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = read_config(&path).unwrap_err();
            assert!(error.starts_with(&path.display().to_string()), "{error}");
            assert!(error.contains(&format!("line {line}")), "{text}: {error}");
            assert!(error.contains(expected), "{text}: {error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tls_settings_parse() {
        let f: File = toml::from_str(
            r#"
            [server]
            tls_cert = "pacs.pem"
            tls_key = "pacs.key"
            tls_ca = ["modalities/", "archive.pem"]
            tls_pin = ["AB:CD"]
            tls_require_client_cert = true
            tls_verify_name = false
            "#,
        )
        .unwrap();
        let cas = f.server.tls_ca.unwrap().into_vec();
        assert_eq!(cas.len(), 2);
        assert_eq!(f.server.tls_require_client_cert, Some(true));
        let one: File = toml::from_str("[server]\ntls_ca = \"ca.pem\"").unwrap();
        assert_eq!(one.server.tls_ca.unwrap().into_vec().len(), 1);
    }
}
