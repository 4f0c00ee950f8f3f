//! Query/Retrieve peers for the C-FIND interop tests: DCMTK `dcmqrscp` and
//! pynetdicom's `qrscp`, each loaded with corpus files, plus the expected
//! query results computed from those files and a small JSON reader for
//! `dimse find --json`.
//!
//! * [`qr_corpus`]: the valid corpus files with pairwise distinct SOP
//!   instance UIDs (the first batch of [`batches_with_unique_instances`]:
//!   only the first of the MR_small variants), which both archives would
//!   otherwise collapse into one instance.
//! * [`Archive`]: the patient/study/series/instance keys of the loaded files,
//!   read with DCMTK `dcmdump` (top-level elements only), and the expected
//!   answers derived from them.
//! * [`start_dcmqrscp`] / [`start_pynetdicom_qrscp`]: a loaded archive on a
//!   free port, killed (and its temp dir removed) on drop.
//! * [`parse_find_json`]: the matches of a DICOM JSON model array (PS3.18 F).
//! * [`findscu_matches`]: response identifiers from DCMTK `findscu`'s log,
//!   for the harness self-checks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{
    batches_with_unique_instances, find_peer, peers_required, run, temp_dir, valid_corpus_files,
    ManifestRow, Peer, PeerPath, Server, TempDir, CLIENT_TIMEOUT, FILE_TIMEOUT, LOCALHOST,
    READY_TIMEOUT,
};

/// AE title both Q/R SCPs are configured with.
pub const QRSCP_AET: &str = "QRSCP";

/// (0010,0010) Patient's Name, as DICOM JSON keys it.
pub const PATIENT_NAME: &str = "00100010";
/// (0010,0020) Patient ID.
pub const PATIENT_ID: &str = "00100020";
/// (0020,000D) Study Instance UID.
pub const STUDY_UID: &str = "0020000D";
/// (0020,000E) Series Instance UID.
pub const SERIES_UID: &str = "0020000E";
/// (0008,0018) SOP Instance UID.
pub const SOP_INSTANCE_UID: &str = "00080018";
/// (0008,0052) Query/Retrieve Level.
pub const QR_LEVEL: &str = "00080052";

// ---------------------------------------------------------------------------
// Expected contents
// ---------------------------------------------------------------------------

/// The valid corpus files loaded into the Q/R archives: those with pairwise
/// distinct SOP instance UIDs (14 of the 20 valid files).
pub fn qr_corpus() -> Vec<ManifestRow> {
    batches_with_unique_instances(&valid_corpus_files())
        .into_iter()
        .next()
        .expect("the valid corpus is not empty")
}

/// The query keys of one file's data set (top-level elements only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileKeys {
    /// Corpus file name.
    pub file: String,
    /// (0010,0020); `None` if absent, `Some("")` if present and empty.
    pub patient_id: Option<String>,
    /// (0010,0010); `None` if absent.
    pub patient_name: Option<String>,
    /// (0020,000D).
    pub study_uid: String,
    /// (0020,000E).
    pub series_uid: String,
    /// (0008,0018) of the data set (what the archives index, which differs
    /// from the meta's for rtdose.dcm and rtplan.dcm).
    pub sop_instance: String,
    /// (0008,0020) Study Date as stored; `None` if absent.
    pub study_date: Option<String>,
    /// (0008,0060) Modality; `None` if absent.
    pub modality: Option<String>,
}

impl FileKeys {
    /// Patient ID with absent read as empty (how both SCPs return it).
    pub fn patient_id_or_empty(&self) -> &str {
        self.patient_id.as_deref().unwrap_or("")
    }
}

/// Reads [`FileKeys`] of `path` with DCMTK `dcmdump -q +L -Un +p +P ...`:
/// `+P` prints every occurrence of the tags, `+p` prefixes nested ones with
/// their sequence path (`(0008,1115).(0020,000e) ...`), so only lines that
/// start with the tag itself are top-level.
#[track_caller]
pub fn read_file_keys(dcmdump: &PeerPath, path: &Path) -> FileKeys {
    let (found, stdout) = dump_top_level(
        dcmdump,
        path,
        &[
            "0010,0010",
            "0010,0020",
            "0020,000d",
            "0020,000e",
            "0008,0018",
            "0008,0020",
            "0008,0060",
        ],
    );
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let required = |tag: &str| -> String {
        match found.get(tag) {
            Some(v) if !v.is_empty() => v.clone(),
            _ => panic!("{file}: no top-level ({tag}) in dcmdump output:\n{stdout}"),
        }
    };
    FileKeys {
        patient_id: found.get("0010,0020").cloned(),
        patient_name: found.get("0010,0010").cloned(),
        study_uid: required("0020,000d"),
        series_uid: required("0020,000e"),
        sop_instance: required("0008,0018"),
        study_date: found.get("0008,0020").cloned(),
        modality: found.get("0008,0060").cloned(),
        file,
    }
}

/// The top-level values of `tags` (`gggg,eeee`, lower case) in `path`, read
/// with DCMTK `dcmdump -q +L -Un +p +P TAG...` (see [`read_file_keys`]):
/// tag → value (first occurrence; empty for a present, empty element), and
/// the raw dump for messages.
#[track_caller]
pub fn dump_top_level(
    dcmdump: &PeerPath,
    path: &Path,
    tags: &[&str],
) -> (BTreeMap<String, String>, String) {
    let mut cmd = dcmdump.command();
    cmd.args(["-q", "+L", "-Un", "+p"]);
    for tag in tags {
        cmd.args(["+P", tag]);
    }
    cmd.arg(path);
    let out = run(cmd, CLIENT_TIMEOUT);
    out.assert_success(&format!("dcmdump {}", path.display()));
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    for line in out.stdout.lines() {
        let Some((tag, value)) = parse_dump_line(line) else {
            continue;
        };
        found.entry(tag).or_insert(value);
    }
    (found, out.stdout)
}

/// `(gggg,eeee) VR [value] # ...` → (`gggg,eeee` lower case, value);
/// `(no value available)` → empty. `None` for nested or other lines.
fn parse_dump_line(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('(')?;
    let tag = rest.get(..9)?;
    let after = rest.get(9..)?;
    // Top-level: the tag is followed by ") VR"; nested lines continue
    // with ").(".
    let after = after.strip_prefix(") ")?;
    let body = after.get(3..)?; // skip "VR "
    let value = if body.starts_with("(no value available)") {
        String::new()
    } else {
        let start = body.find('[')?;
        let end = body.rfind(']')?;
        // Padding to even length (a space, or NUL for UI) is not part of
        // the value.
        body.get(start + 1..end)?
            .trim_end_matches([' ', '\0'])
            .to_owned()
    };
    Some((tag.to_ascii_lowercase(), value))
}

/// What an archive holds: the keys of every indexed file.
#[derive(Clone, Debug)]
pub struct Archive {
    /// One entry per indexed instance.
    pub files: Vec<FileKeys>,
}

impl Archive {
    /// Reads the keys of `rows` (see [`read_file_keys`]).
    #[track_caller]
    pub fn from_rows(rows: &[ManifestRow]) -> Archive {
        let dcmdump = find_peer(Peer::Dcmtk("dcmdump"))
            .unwrap_or_else(|| panic!("DCMTK dcmdump not found: apt-get install dcmtk"));
        Archive {
            files: rows
                .iter()
                .map(|r| read_file_keys(&dcmdump, &r.path()))
                .collect(),
        }
    }

    /// The study with the most instances among those held only in uncompressed syntaxes, and
    /// its instances' SOP instance UIDs. dcmqrscp cannot send an encapsulated instance to an SCP
    /// that did not accept its compressed syntax (it has no codecs for JPEG/RLE
    /// sub-operations), so a study with such instances ends in 0xB000 whatever the SCU does.
    pub fn biggest_uncompressed_study(&self) -> (String, Vec<String>) {
        let rows = qr_corpus();
        let compressed = |file: &str| rows.iter().any(|r| r.file == file && r.is_encapsulated());
        let study = self
            .studies()
            .into_iter()
            .filter(|s| {
                !self
                    .files
                    .iter()
                    .any(|f| &f.study_uid == s && compressed(&f.file))
            })
            .max_by_key(|s| self.files.iter().filter(|f| &f.study_uid == s).count())
            .expect("the archive has an uncompressed study");
        let instances = self
            .files
            .iter()
            .filter(|f| f.study_uid == study)
            .map(|f| f.sop_instance.clone())
            .collect();
        (study, instances)
    }

    /// (Study, Series, SOP Instance UID) of every file.
    pub fn instance_triples(&self) -> BTreeSet<(String, String, String)> {
        self.files
            .iter()
            .map(|f| {
                (
                    f.study_uid.clone(),
                    f.series_uid.clone(),
                    f.sop_instance.clone(),
                )
            })
            .collect()
    }

    /// The family name (before `^`) that the most distinct Patient IDs share (ties: first in
    /// file order), skipping names with wildcard characters and, with `needs_patient_id`,
    /// files without a Patient ID.
    pub fn most_shared_family(&self, needs_patient_id: bool) -> String {
        let mut best: Option<(String, usize)> = None;
        for f in &self.files {
            let Some((family, _)) = f.patient_name.as_deref().and_then(|n| n.split_once('^'))
            else {
                continue;
            };
            if family.is_empty()
                || family.contains(['*', '?', '\\'])
                || (needs_patient_id && f.patient_id_or_empty().is_empty())
            {
                continue;
            }
            let ids: BTreeSet<&str> = self
                .files
                .iter()
                .filter(|g| {
                    g.patient_name
                        .as_deref()
                        .is_some_and(|n| n.starts_with(&format!("{family}^")))
                })
                .map(FileKeys::patient_id_or_empty)
                .collect();
            if best.as_ref().is_none_or(|(_, n)| ids.len() > *n) {
                best = Some((family.to_owned(), ids.len()));
            }
        }
        best.expect("some corpus file has a Patient's Name with a family name")
            .0
    }

    /// Distinct Patient IDs (absent as empty).
    pub fn patient_ids(&self) -> BTreeSet<String> {
        self.files
            .iter()
            .map(|f| f.patient_id_or_empty().to_owned())
            .collect()
    }

    /// Distinct non-empty Patient IDs (the ones a single-value query can
    /// select: an empty key is universal matching).
    pub fn nonempty_patient_ids(&self) -> BTreeSet<String> {
        let mut ids = self.patient_ids();
        ids.remove("");
        ids
    }

    /// Distinct Study Instance UIDs.
    pub fn studies(&self) -> BTreeSet<String> {
        self.files.iter().map(|f| f.study_uid.clone()).collect()
    }

    /// Distinct Study Instance UIDs of the files `keep` selects.
    pub fn studies_where(&self, keep: impl Fn(&FileKeys) -> bool) -> BTreeSet<String> {
        self.files
            .iter()
            .filter(|f| keep(f))
            .map(|f| f.study_uid.clone())
            .collect()
    }

    /// Distinct Series Instance UIDs of study `study`.
    pub fn series_of(&self, study: &str) -> BTreeSet<String> {
        self.files
            .iter()
            .filter(|f| f.study_uid == study)
            .map(|f| f.series_uid.clone())
            .collect()
    }

    /// Every (study, series) pair.
    pub fn series_pairs(&self) -> BTreeSet<(String, String)> {
        self.files
            .iter()
            .map(|f| (f.study_uid.clone(), f.series_uid.clone()))
            .collect()
    }

    /// SOP Instance UIDs in series `series` of study `study`.
    pub fn instances_of(&self, study: &str, series: &str) -> BTreeSet<String> {
        self.files
            .iter()
            .filter(|f| f.study_uid == study && f.series_uid == series)
            .map(|f| f.sop_instance.clone())
            .collect()
    }

    /// Number of indexed instances `keep` selects.
    pub fn count_where(&self, keep: impl Fn(&FileKeys) -> bool) -> usize {
        self.files.iter().filter(|f| keep(f)).count()
    }
}

/// DICOM wildcard matching (PS3.4 C.2.2.2.4): `*` any sequence, `?` one
/// character; case-sensitive.
pub fn wildcard_match(pattern: &str, value: &str) -> bool {
    fn go(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|i| go(rest, &v[i..])),
            Some(('?', rest)) => !v.is_empty() && go(rest, &v[1..]),
            Some((c, rest)) => v.first() == Some(c) && go(rest, &v[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    go(&p, &v)
}

// ---------------------------------------------------------------------------
// DCMTK dcmqrscp
// ---------------------------------------------------------------------------

/// A running Q/R SCP loaded with [`QrPeer::archive`]'s files.
///
/// Dropping it kills the server, then removes its temp dir (field order).
pub struct QrPeer {
    /// The SCP process.
    pub server: Server,
    /// Port it listens on (127.0.0.1).
    pub port: u16,
    /// Its AE title ([`QRSCP_AET`]).
    pub aet: &'static str,
    /// What it holds.
    pub archive: Archive,
    /// Config, database and storage.
    pub dir: TempDir,
}

/// The `dcmqrscp.cfg` for one storage area: AE title [`QRSCP_AET`] with
/// read/write access, a quota far above the corpus (200 studies of 1 GB, so
/// nothing is ever evicted) and `ANY` peer. `UserName`/`GroupName` are left
/// out (as root, dcmqrscp would otherwise switch to that user, which need not
/// exist). The host table lists the C-MOVE `destinations`; the vendor table is empty.
pub fn dcmqrscp_config(port: u16, storage: &Path, destinations: &[(&str, u16)]) -> String {
    let hosts: String = destinations
        .iter()
        .enumerate()
        .map(|(i, (aet, port))| format!("dest{i} = ({aet}, 127.0.0.1, {port})\n"))
        .collect();
    format!(
        "NetworkTCPPort  = {port}\n\
         MaxPDUSize      = 16384\n\
         MaxAssociations = 16\n\
         HostTable BEGIN\n\
         {hosts}\
         HostTable END\n\
         VendorTable BEGIN\n\
         VendorTable END\n\
         AETable BEGIN\n\
         {QRSCP_AET} {} RW (200, 1024mb) ANY\n\
         AETable END\n",
        storage.display()
    )
}

/// Starts DCMTK `dcmqrscp` on a free port holding `rows`, and waits until it
/// accepts connections.
///
/// Loading: the files are copied into the storage area and registered with
/// `dcmqridx STORAGE FILE...` before the server starts; the index must then
/// list exactly `rows.len()` instances (`dcmqridx -p`). Not `storescu`:
/// dcmqrscp 3.6.7 accepts only uncompressed transfer syntaxes for incoming
/// C-STOREs unless one compressed syntax is preferred with `+x?`, and only
/// one can be, so the corpus's five compressed syntaxes cannot all arrive.
///
/// Server options (DCMTK 3.6.7 `dcmqrscp --help`): `-c FILE` the generated
/// [`dcmqrscp_config`], `-dhl` no reverse DNS lookups, `-v` log each
/// request, port positional. Default multi-process mode (a fork per
/// association): in `--single-process` mode 3.6.7 crashes (SIGSEGV) after
/// the first association release here.
#[track_caller]
pub fn start_dcmqrscp(dcmqrscp: &PeerPath, dcmqridx: &PeerPath, rows: &[ManifestRow]) -> QrPeer {
    start_dcmqrscp_with(dcmqrscp, dcmqridx, rows, &[])
}

/// [`start_dcmqrscp`] that also knows C-MOVE destinations (AE title, port on 127.0.0.1).
#[track_caller]
pub fn start_dcmqrscp_with(
    dcmqrscp: &PeerPath,
    dcmqridx: &PeerPath,
    rows: &[ManifestRow],
    destinations: &[(&str, u16)],
) -> QrPeer {
    let archive = Archive::from_rows(rows);
    let dir = temp_dir("dcmqrscp");
    let storage = dir.subdir("QRSCP");
    let mut copies = Vec::new();
    for row in rows {
        let dest = storage.join(&row.file);
        std::fs::copy(row.path(), &dest).unwrap_or_else(|e| panic!("copy {}: {e}", row.file));
        copies.push(dest);
    }
    let out = run(
        dcmqridx.command().arg(&storage).args(&copies),
        CLIENT_TIMEOUT,
    );
    out.assert_success("dcmqridx");
    assert!(
        !out.all().lines().any(|l| l.starts_with("E: ")),
        "dcmqridx logged errors:\n{}",
        out.all()
    );
    let listing = run(dcmqridx.command().arg("-p").arg(&storage), CLIENT_TIMEOUT);
    listing.assert_success("dcmqridx -p");
    let indexed: usize = listing
        .all()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("NumOfImages:"))
        .map(|n| n.trim().parse::<usize>().expect("NumOfImages count"))
        .sum();
    assert_eq!(
        indexed,
        rows.len(),
        "dcmqridx indexed {indexed} of {} files:\n{}",
        rows.len(),
        listing.all()
    );

    let port = crate::free_port();
    let config = dir.path().join("dcmqrscp.cfg");
    std::fs::write(&config, dcmqrscp_config(port, &storage, destinations))
        .expect("write dcmqrscp.cfg");
    let mut cmd = dcmqrscp.command();
    cmd.args(["-v", "-dhl", "-c"])
        .arg(&config)
        .arg(port.to_string())
        .current_dir(dir.path());
    let mut server = Server::spawn("DCMTK dcmqrscp", &mut cmd);
    server.wait_for_port(port, READY_TIMEOUT);
    QrPeer {
        server,
        port,
        aet: QRSCP_AET,
        archive,
        dir,
    }
}

// ---------------------------------------------------------------------------
// pynetdicom qrscp
// ---------------------------------------------------------------------------

/// Whether pynetdicom's `qrscp` can run: it imports SQLAlchemy, which
/// pynetdicom does not depend on (`python3 -m pip install sqlalchemy`).
pub fn pynetdicom_qrscp_runs() -> bool {
    Command::new("python3")
        .args(["-c", "import pynetdicom.apps.qrscp.qrscp"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// [`crate::require_peer()`] for pynetdicom's `qrscp`, which also needs
/// SQLAlchemy: `None` (after a loud SKIPPED line) when it cannot run, or a
/// panic when `DIMSE_REQUIRE_PEERS=1`.
pub fn require_pynetdicom_qrscp() -> Option<PeerPath> {
    let peer = crate::require_peer(Peer::Pynetdicom("qrscp"))?;
    if pynetdicom_qrscp_runs() {
        return Some(peer);
    }
    let hint = "python3 -m pip install sqlalchemy";
    if peers_required() {
        panic!("DIMSE_REQUIRE_PEERS=1 but pynetdicom qrscp cannot import its modules: {hint}");
    }
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    eprintln!(
        "\n*** SKIPPED: {test}: pynetdicom qrscp cannot run ({hint}; set DIMSE_REQUIRE_PEERS=1 to make this a failure) ***\n"
    );
    None
}

/// The ini file for pynetdicom's `qrscp` (format of its `default.ini`):
/// AE title [`QRSCP_AET`], `port`, loopback only, absolute
/// `instance_location` / `database_location` (the app joins them to its own
/// package directory, which leaves absolute paths unchanged), and
/// one `[AE]` section per C-MOVE destination: pynetdicom 3.0.4's qrscp reads every section
/// other than `[DEFAULT]` as one (`address`, `port`); a C-MOVE to any other AE gets 0xA801.
pub fn pynetdicom_qrscp_config(port: u16, dir: &Path, destinations: &[(&str, u16)]) -> String {
    let mut config = format!(
        "[DEFAULT]\n\
         ae_title: {QRSCP_AET}\n\
         port: {port}\n\
         max_pdu: 16382\n\
         acse_timeout: 30\n\
         dimse_timeout: 30\n\
         network_timeout: 30\n\
         bind_address: {LOCALHOST}\n\
         instance_location: {}\n\
         database_location: {}\n\
         log_identifier: True\n",
        dir.join("instances").display(),
        dir.join("instances.sqlite").display()
    );
    for (aet, dest_port) in destinations {
        config.push_str(&format!(
            "\n[{aet}]\naddress: {LOCALHOST}\nport: {dest_port}\n"
        ));
    }
    config
}

/// Whether pynetdicom 3.0.4's `qrscp` puts a file in its database:
/// `db.add_instance` requires Patient ID, Study/Series/SOP Instance UID
/// elements to be present (Patient ID may be empty). ExplVR_BigEnd.dcm has
/// no Patient ID: it is stored on disk but logged as "Unable to add instance
/// to the database" and never matches.
pub fn pynetdicom_indexes(f: &FileKeys) -> bool {
    f.patient_id.is_some()
}

/// The line pynetdicom's qrscp logs (with `-v`) per instance it indexed.
pub const PYNETDICOM_INDEXED: &str = "Instance added to database";

/// Starts pynetdicom's `qrscp` on a free port and loads `rows` into it with
/// one `python3 -m pynetdicom storescu -cx` run (`-cx` proposes each file's
/// own SOP class and transfer syntax, so compressed files go unconverted).
///
/// Server options (pynetdicom 3.0.4 `qrscp --help`): `-c FILE` the generated
/// [`pynetdicom_qrscp_config`], `-v` to log stores. Readiness is a port
/// probe. Loading is checked on the server's log: storescu exits 0 even when
/// a store fails, so the test waits for one [`PYNETDICOM_INDEXED`] line per
/// file [`pynetdicom_indexes`] accepts. [`QrPeer::archive`] holds only
/// those files.
///
/// Query behaviour (pynetdicom 3.0.4 `apps/qrscp/db.py`): one match per
/// stored *instance* at every level (a STUDY query returns a study's UID
/// once per instance); wildcard matching via SQL `LIKE` (case-insensitive
/// for ASCII); list-of-UID matching is broken (the multi-valued key goes to
/// single-value matching, SQLite rejects the list, the SCP answers 0xC320).
#[track_caller]
pub fn start_pynetdicom_qrscp(
    qrscp: &PeerPath,
    storescu: &PeerPath,
    rows: &[ManifestRow],
) -> QrPeer {
    start_pynetdicom_qrscp_with(qrscp, storescu, rows, &[])
}

/// [`start_pynetdicom_qrscp`] that also knows C-MOVE destinations (AE title, port on
/// 127.0.0.1).
#[track_caller]
pub fn start_pynetdicom_qrscp_with(
    qrscp: &PeerPath,
    storescu: &PeerPath,
    rows: &[ManifestRow],
    destinations: &[(&str, u16)],
) -> QrPeer {
    let mut archive = Archive::from_rows(rows);
    archive.files.retain(pynetdicom_indexes);
    let dir = temp_dir("pyn_qrscp");
    let port = crate::free_port();
    let config = dir.path().join("qrscp.ini");
    std::fs::write(
        &config,
        pynetdicom_qrscp_config(port, dir.path(), destinations),
    )
    .expect("write qrscp.ini");
    let mut cmd = qrscp.command();
    cmd.args(["-v", "-c"]).arg(&config).current_dir(dir.path());
    let mut server = Server::spawn("pynetdicom qrscp", &mut cmd);
    server.wait_for_port(port, READY_TIMEOUT);

    let mut send = storescu.command();
    send.args(["-cx", "-aet", "STORESCU", "-aec", QRSCP_AET, LOCALHOST])
        .arg(port.to_string())
        .args(rows.iter().map(ManifestRow::path));
    let out = run(send, CLIENT_TIMEOUT);
    out.assert_success("pynetdicom storescu → pynetdicom qrscp");
    let expected = archive.files.len();
    crate::retry_until(FILE_TIMEOUT, || {
        let got = server.output().matches(PYNETDICOM_INDEXED).count();
        if got == expected {
            Ok(())
        } else {
            Err(format!("{got} of {expected} instances indexed"))
        }
    })
    .unwrap_or_else(|e| {
        panic!(
            "pynetdicom qrscp: {e}\n--- storescu ---\n{}\n--- qrscp ---\n{}",
            out.all(),
            server.output()
        )
    });
    server.assert_running();
    QrPeer {
        server,
        port,
        aet: QRSCP_AET,
        archive,
        dir,
    }
}

// ---------------------------------------------------------------------------
// dimse serve as a PACS
// ---------------------------------------------------------------------------

/// AE title of the `dimse serve` archive in the archive tests.
pub const SERVE_AET: &str = "ARCHIVE";

/// A running `dimse serve` archive (Storage + Query/Retrieve SCP over an
/// SQLite index) and what it should hold.
///
/// Dropping it kills the server, then removes its temp dir (field order).
pub struct ServePacs {
    /// The SCP process.
    pub server: Server,
    /// Port it listens on (127.0.0.1).
    pub port: u16,
    /// Its AE title ([`SERVE_AET`]).
    pub aet: &'static str,
    /// Its `--dir`.
    pub dir: PathBuf,
    /// The arguments after `--dir DIR` (`--peer ...`), kept for restarts.
    pub extra_args: Vec<String>,
    /// The corpus files it was (or is to be) filled with ([`qr_corpus`]).
    pub rows: Vec<ManifestRow>,
    /// The keys of `rows`.
    pub archive: Archive,
    /// Holds `dir`.
    pub tmp: TempDir,
}

impl ServePacs {
    /// Starts an empty `dimse serve --aet ARCHIVE --port P --dir D` with one
    /// `--peer AET@127.0.0.1:PORT` per entry of `peers`, on a free port, and
    /// waits for its `listening on` line. Reads the keys of [`qr_corpus`]
    /// (needs DCMTK `dcmdump`).
    #[track_caller]
    pub fn start(peers: &[(&str, u16)]) -> ServePacs {
        let rows = qr_corpus();
        let archive = Archive::from_rows(&rows);
        let tmp = temp_dir("serve_pacs");
        let dir = tmp.subdir("archive");
        let extra_args: Vec<String> = peers
            .iter()
            .flat_map(|(aet, port)| crate::dimse_serve_peer_args(aet, *port))
            .collect();
        let port = crate::free_port();
        let server = crate::start_dimse_serve_with(port, SERVE_AET, &dir, &extra_args);
        ServePacs {
            server,
            port,
            aet: SERVE_AET,
            dir,
            extra_args,
            rows,
            archive,
            tmp,
        }
    }

    /// Sends every file of [`ServePacs::rows`] with its own DCMTK `storescu`
    /// run ([`crate::dcmtk_storescu_args`]: compressed files in their own
    /// syntax). Returns the failures: a non-zero exit or an `E: ` line.
    pub fn fill_with_storescu(&mut self, storescu: &PeerPath) -> Vec<String> {
        let mut failures = Vec::new();
        for row in &self.rows {
            let mut cmd = storescu.command();
            cmd.args(crate::dcmtk_storescu_args(
                row, "STORESCU", self.aet, self.port,
            ));
            let out = run(cmd, CLIENT_TIMEOUT);
            if !out.status.success() || out.all().lines().any(|l| l.starts_with("E: ")) {
                failures.push(format!(
                    "storescu {} ({}) failed ({}):\n{}",
                    row.file,
                    row.ts,
                    out.status,
                    out.all().trim()
                ));
            }
        }
        self.server.assert_running();
        failures
    }

    /// Kills the server (SIGKILL) and starts it again on the same `--dir`
    /// with the same peers, on a new free port.
    #[track_caller]
    pub fn restart(&mut self) {
        self.server.kill();
        self.port = crate::free_port();
        self.server =
            crate::start_dimse_serve_with(self.port, self.aet, &self.dir, &self.extra_args);
    }

    /// Where the archive must keep `f`:
    /// `<dir>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm`.
    pub fn stored_path(&self, f: &FileKeys) -> PathBuf {
        archive_path(&self.dir, f)
    }

    /// The corpus row `f` was read from.
    pub fn row_of(&self, f: &FileKeys) -> &ManifestRow {
        self.rows
            .iter()
            .find(|r| r.file == f.file)
            .expect("every archive file comes from a corpus row")
    }

    /// The last `max` characters of the server's output, for messages.
    pub fn output_tail(&self, max: usize) -> String {
        let out = self.server.output();
        let skip = out.chars().count().saturating_sub(max);
        out.chars().skip(skip).collect()
    }
}

/// `dimse serve`'s layout: `<dir>/<Study UID>/<Series UID>/<SOP Instance UID>.dcm`.
pub fn archive_path(dir: &Path, f: &FileKeys) -> PathBuf {
    dir.join(&f.study_uid)
        .join(&f.series_uid)
        .join(format!("{}.dcm", f.sop_instance))
}

/// A [`ServePacs`] filled with [`qr_corpus`] by DCMTK `storescu`; `None`
/// (the test skips, loudly) when `storescu` or `dcmdump` is missing, a
/// panic under `DIMSE_REQUIRE_PEERS=1`. Panics if any store fails.
#[track_caller]
pub fn filled_serve_pacs(peers: &[(&str, u16)]) -> Option<ServePacs> {
    let storescu = crate::require_peer(Peer::Dcmtk("storescu"))?;
    crate::require_peer(Peer::Dcmtk("dcmdump"))?;
    let mut pacs = ServePacs::start(peers);
    let failures = pacs.fill_with_storescu(&storescu);
    assert!(
        failures.is_empty(),
        "filling dimse serve with DCMTK storescu: {} of {} files failed:\n{}\n--- dimse serve ---\n{}",
        failures.len(),
        pacs.rows.len(),
        failures.join("\n"),
        pacs.output_tail(8000)
    );
    Some(pacs)
}

/// Checks that `file` is `f` (read from corpus `row`) as an archive or a
/// receiver must keep it: a Part 10 file whose meta names `f`'s SOP instance
/// (the data set's), in `row`'s transfer syntax if that is compressed, with
/// the same elements ([`crate::compare_elements`]).
pub fn check_same_instance(row: &ManifestRow, f: &FileKeys, file: &Path) -> Result<(), String> {
    let meta = crate::read_file_meta(file).map_err(|e| format!("{}: {e}", row.file))?;
    if meta.sop_instance != f.sop_instance {
        return Err(format!(
            "{}: {} names SOP instance {}, expected {}",
            row.file,
            file.display(),
            meta.sop_instance,
            f.sop_instance
        ));
    }
    if row.is_encapsulated() && meta.transfer_syntax != row.ts {
        return Err(format!(
            "{}: compressed file kept as {}, sent as {}",
            row.file, meta.transfer_syntax, row.ts
        ));
    }
    crate::compare_elements(&row.path(), file).map_err(|e| format!("{}: {e}", row.file))
}

/// The one Part 10 file under `dir` whose meta names `sop_instance`, waiting
/// up to [`FILE_TIMEOUT`] for it; an error if none or several arrive.
pub fn one_arrival(dir: &Path, sop_instance: &str) -> Result<PathBuf, String> {
    crate::retry_until(FILE_TIMEOUT, || {
        match crate::find_by_sop_instance(dir, sop_instance).as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(format!(
                "{sop_instance} did not arrive in {}",
                dir.display()
            )),
            many => Err(format!(
                "{sop_instance} arrived {} times: {many:?}",
                many.len()
            )),
        }
    })
}

// ---------------------------------------------------------------------------
// DCMTK findscu (harness self-checks)
// ---------------------------------------------------------------------------

/// Runs DCMTK `findscu -v` (`-S` study root or `-P` patient root) with
/// `keys` (`-k` arguments such as `QueryRetrieveLevel=STUDY`,
/// `StudyInstanceUID`) against `peer`, and returns the response identifiers
/// it logged, each as tag (`gggg,eeee`, lower case) → value.
///
/// DCMTK 3.6.7 findscu logs each pending response as a `Find Response: N
/// (Pending)` line followed by a dump of its identifier, and the end as
/// `Received Final Find Response (Success)`; the request identifier, logged
/// before the first response, is skipped.
#[track_caller]
pub fn findscu_matches(
    findscu: &PeerPath,
    peer: &QrPeer,
    model_flag: &str,
    keys: &[&str],
) -> Vec<BTreeMap<String, String>> {
    findscu_at(findscu, peer.aet, peer.port, model_flag, keys).unwrap_or_else(|e| panic!("{e}"))
}

/// [`findscu_matches`] against any SCP (`aet` on loopback `port`): the
/// response identifiers, or an error with findscu's whole output when it
/// exits non-zero or does not end with a final Success response.
#[track_caller]
pub fn findscu_at(
    findscu: &PeerPath,
    aet: &str,
    port: u16,
    model_flag: &str,
    keys: &[&str],
) -> Result<Vec<BTreeMap<String, String>>, String> {
    let mut cmd = findscu.command();
    cmd.args(["-v", model_flag, "-aet", "FINDSCU", "-aec", aet]);
    for k in keys {
        cmd.args(["-k", k]);
    }
    cmd.arg(LOCALHOST).arg(port.to_string());
    let out = run(cmd, CLIENT_TIMEOUT);
    let text = out.all();
    if !out.status.success() || !text.contains("Received Final Find Response (Success)") {
        return Err(format!(
            "DCMTK findscu {model_flag} {keys:?} failed or did not end with Success ({}):\n{text}",
            out.status
        ));
    }
    Ok(parse_findscu_log(&text))
}

/// The response identifiers in DCMTK `findscu -v` output (see
/// [`findscu_matches`]), each as tag (`gggg,eeee`, lower case) → value.
pub fn parse_findscu_log(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut matches = Vec::new();
    let mut current: Option<BTreeMap<String, String>> = None;
    for line in text.lines() {
        let body = line.strip_prefix("I: ").unwrap_or(line);
        if body.starts_with("Find Response:") || body.starts_with("Received Final Find Response") {
            matches.extend(current.take());
            if body.starts_with("Find Response:") {
                current = Some(BTreeMap::new());
            }
        } else if let (Some(m), Some((tag, value))) = (current.as_mut(), parse_dump_line(body)) {
            m.insert(tag, value);
        }
    }
    matches.extend(current);
    matches
}

// ---------------------------------------------------------------------------
// DICOM JSON (PS3.18 F)
// ---------------------------------------------------------------------------

/// A parsed JSON value (numbers kept as their text).
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Parses one JSON text (RFC 8259), surrounding whitespace allowed.
pub fn parse_json(text: &str) -> Result<Json, String> {
    let mut p = JsonParser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing characters at byte {}", p.i));
    }
    Ok(v)
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.i))
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            None => self.err("unexpected end"),
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.eat("}") {
                    return Ok(Json::Object(members));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return self.err("expected member name");
                    }
                    let key = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return self.err("expected ':'");
                    }
                    let v = self.value()?;
                    members.push((key, v));
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("}") {
                        return Ok(Json::Object(members));
                    }
                    return self.err("expected ',' or '}'");
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("]") {
                        return Ok(Json::Array(items));
                    }
                    return self.err("expected ',' or ']'");
                }
            }
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') if self.eat("true") => Ok(Json::Bool(true)),
            Some(b'f') if self.eat("false") => Ok(Json::Bool(false)),
            Some(b'n') if self.eat("null") => Ok(Json::Null),
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                if text.parse::<f64>().is_err() {
                    return self.err("bad number");
                }
                Ok(Json::Number(text.to_owned()))
            }
            Some(_) => self.err("unexpected character"),
        }
    }

    /// A string starting at the opening quote.
    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.i < self.s.len() && !matches!(self.s[self.i], b'"' | b'\\') {
                if self.s[self.i] < 0x20 {
                    return self.err("control character in string");
                }
                self.i += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).map_err(|e| format!("{e}"))?);
            match self.s.get(self.i) {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                _ => {
                    self.i += 1;
                    let Some(&c) = self.s.get(self.i) else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code) && self.eat("\\u") {
                                let low = self.hex4()?;
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            }
                            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                        _ => return self.err("bad escape"),
                    }
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let Some(h) = self.s.get(self.i..self.i + 4) else {
            return self.err("short \\u escape");
        };
        let h = std::str::from_utf8(h).map_err(|e| format!("{e}"))?;
        let v = u32::from_str_radix(h, 16).map_err(|e| format!("\\u{h}: {e}"))?;
        self.i += 4;
        Ok(v)
    }
}

/// One C-FIND match from `dimse find --json`: tag (8 upper-case hex digits,
/// as DICOM JSON keys it) → (VR, values as text). A PN value is its
/// `Alphabetic` group; numbers are kept as written; an attribute without
/// `Value` has no values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindMatch {
    /// The attributes of the match.
    pub attrs: BTreeMap<String, (String, Vec<String>)>,
}

impl FindMatch {
    /// The first value of `tag`, or `""` when absent or empty.
    pub fn first(&self, tag: &str) -> &str {
        self.attrs
            .get(tag)
            .and_then(|(_, v)| v.first())
            .map_or("", String::as_str)
    }

    /// Whether the match has attribute `tag` at all.
    pub fn has(&self, tag: &str) -> bool {
        self.attrs.contains_key(tag)
    }
}

/// Parses `dimse find --json` stdout: exactly one JSON array of DICOM JSON
/// model objects (PS3.18 F.2), each member `"GGGGEEEE": {"vr": ..,
/// "Value": [..]}`.
pub fn parse_find_json(stdout: &str) -> Result<Vec<FindMatch>, String> {
    let Json::Array(items) = parse_json(stdout)? else {
        return Err("top level is not an array".into());
    };
    items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            let Json::Object(members) = item else {
                return Err(format!("match {n} is not an object"));
            };
            let mut m = FindMatch::default();
            for (tag, attr) in members {
                if tag.len() != 8 || !tag.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("match {n}: key {tag:?} is not a tag"));
                }
                if tag.bytes().any(|b| b.is_ascii_lowercase()) {
                    return Err(format!("match {n}: key {tag:?} is not upper case"));
                }
                let Some(Json::String(vr)) = attr.get("vr") else {
                    return Err(format!("match {n}: {tag} has no \"vr\" string"));
                };
                let values = match attr.get("Value") {
                    None => Vec::new(),
                    Some(Json::Array(vs)) => vs
                        .iter()
                        .map(|v| match v {
                            Json::String(s) | Json::Number(s) => Ok(s.clone()),
                            Json::Null => Ok(String::new()),
                            Json::Object(_) if vr == "PN" => match v.get("Alphabetic") {
                                Some(Json::String(s)) => Ok(s.clone()),
                                None => Ok(String::new()),
                                Some(other) => Err(format!("{tag}: Alphabetic is {other:?}")),
                            },
                            other => Err(format!("match {n}: {tag} value {other:?}")),
                        })
                        .collect::<Result<_, _>>()?,
                    Some(other) => return Err(format!("match {n}: {tag} Value is {other:?}")),
                };
                m.attrs.insert(tag.clone(), (vr.clone(), values));
            }
            Ok(m)
        })
        .collect()
}

/// (Study, Series, SOP Instance UID) of each image a QueryBuilder walk found, to compare with
/// [`Archive::instance_triples`].
pub fn image_triples(images: &[dimse_std::ImageRecord]) -> BTreeSet<(String, String, String)> {
    images
        .iter()
        .map(|i| {
            (
                i.study_instance_uid.clone(),
                i.series_instance_uid.clone(),
                i.sop_instance_uid.clone(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_parser_reads_dicom_json() {
        let text = r#" [ {"0020000D": {"vr": "UI", "Value": ["1.2.3"]},
            "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^J\u00e9"}]},
            "00100020": {"vr": "LO"},
            "00201208": {"vr": "IS", "Value": [12]},
            "00081030": {"vr": "LO", "Value": ["a\"b\\c\n"]}}, {} ] "#;
        let matches = parse_find_json(text).unwrap();
        assert_eq!(matches.len(), 2);
        let m = &matches[0];
        assert_eq!(m.first(STUDY_UID), "1.2.3");
        assert_eq!(m.first(PATIENT_NAME), "Doe^Jé");
        assert_eq!(m.first(PATIENT_ID), "");
        assert!(m.has(PATIENT_ID));
        assert_eq!(m.first("00201208"), "12");
        assert_eq!(m.first("00081030"), "a\"b\\c\n");
        assert!(!matches[1].has(STUDY_UID));
        assert_eq!(parse_find_json("[]").unwrap(), vec![]);
        for bad in [
            "",
            "[",
            "[] []",
            "{}",
            "[{\"0020000d\": {\"vr\": \"UI\"}}]",
            "[{\"StudyInstanceUID\": {\"vr\": \"UI\"}}]",
            "[{\"0020000D\": {\"Value\": [\"1\"]}}]",
        ] {
            assert!(parse_find_json(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dump_lines() {
        assert_eq!(
            parse_dump_line(
                "(0010,0020) LO [1CT1]                                   #   4, 1 PatientID"
            ),
            Some(("0010,0020".into(), "1CT1".into()))
        );
        assert_eq!(
            parse_dump_line(
                "(0010,0020) LO (no value available)                     #   0, 0 PatientID"
            ),
            Some(("0010,0020".into(), String::new()))
        );
        assert_eq!(
            parse_dump_line("(0008,0052) CS [STUDY ]   #   6, 1 QueryRetrieveLevel"),
            Some(("0008,0052".into(), "STUDY".into()))
        );
        assert_eq!(
            parse_dump_line("(0020,000D) UI [1.2.3] # 1 StudyInstanceUID"),
            Some(("0020,000d".into(), "1.2.3".into()))
        );
        assert_eq!(
            parse_dump_line("(0008,1115).(0020,000e) UI [1.2] # 60, 1 SeriesInstanceUID"),
            None
        );
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("Comp*", "CompressedSamples^CT1"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a?c*", "abcd"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(!wildcard_match("comp*", "CompressedSamples^CT1"));
    }
}
