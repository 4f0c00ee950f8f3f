//! `dimse store` converting between uncompressed transfer syntaxes when the peer accepts only
//! another one, against DCMTK `storescp` restricted to a single transfer syntax.
//!
//! DCMTK 3.6.7 `storescp` options (checked against `--help`): `+xe` only *prefers* Explicit VR
//! Little Endian (it still accepts big endian and implicit), so the explicit-only peer is
//! configured with `-xf <config> <profile>` (a profile whose contexts list Explicit VR Little
//! Endian alone); `+xi` accepts Implicit VR Little Endian only. Both write what they receive
//! in the received syntax (the default `+t=`), with unique file names (`+uf`, several corpus
//! files share a SOP instance UID) into `-od <dir>`.

use std::path::Path;

use dimse_tests::*;

const SCP_AET: &str = "STORESCP";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";

/// A `storescp` configuration: one profile per single accepted syntax, for the SOP classes of
/// the corpus files sent here (MR, CT, Ultrasound) and Verification.
const CONFIG: &str = "\
[[TransferSyntaxes]]
[ExplicitLE]
TransferSyntax1 = LittleEndianExplicit
[[PresentationContexts]]
[ExplicitOnly]
PresentationContext1 = VerificationSOPClass\\ExplicitLE
PresentationContext2 = MRImageStorage\\ExplicitLE
PresentationContext3 = CTImageStorage\\ExplicitLE
PresentationContext4 = UltrasoundImageStorage\\ExplicitLE
[[Profiles]]
[ExplicitOnly]
PresentationContexts = ExplicitOnly
";

/// Starts `storescp` accepting one syntax: `restrict` are the options that say which.
fn start_storescp(storescp: &PeerPath, port: u16, dir: &Path, restrict: &[&str]) -> Server {
    let mut cmd = storescp.command();
    cmd.args(["-v", "+uf", "-aet", SCP_AET])
        .args(restrict)
        .arg("-od")
        .arg(dir)
        .arg(port.to_string())
        .current_dir(dir);
    let mut server = Server::spawn("DCMTK storescp", &mut cmd);
    server.wait_for_port(port, READY_TIMEOUT);
    server
}

fn row(file: &str) -> ManifestRow {
    valid_corpus_files()
        .into_iter()
        .find(|r| r.file == file)
        .unwrap_or_else(|| panic!("{file} not in the corpus manifest"))
}

fn store(port: u16, row: &ManifestRow) -> RunOutput {
    store_with(port, row, &[])
}

fn store_with(port: u16, row: &ManifestRow, options: &[&str]) -> RunOutput {
    let mut cmd = dimse(["store", "--aec", SCP_AET, LOCALHOST, &port.to_string()]);
    cmd.args(options).arg(row.path());
    run(cmd, CLIENT_TIMEOUT)
}

/// Sends each file alone and checks: success, the `sent` line naming both syntaxes, one
/// received file in `want_ts` whose elements equal the source's (DCMTK dcmdump, normalised as
/// [`dump_elements`] says: implicit VR cannot carry private VRs nor OB vs OW).
fn send_and_check(
    port: u16,
    dir: &Path,
    server: &mut Server,
    files: &[(&str, &str)],
    want_ts: &str,
    want_name: &str,
) -> Vec<String> {
    let mut failures = Vec::new();
    for (file, from_name) in files {
        let row = row(file);
        let out = store(port, &row);
        let expected_line = format!(
            "sent {} (converted from {from_name} to {want_name})",
            row.path().display()
        );
        if !out.status.success() || !out.stdout.contains("store: 1 sent, 0 failed") {
            failures.push(format!("{file}: dimse store failed:\n{}", out.all()));
        } else if !out.stdout.lines().any(|l| l.trim_end() == expected_line) {
            failures.push(format!(
                "{file}: no line {expected_line:?} on stdout:\n{}",
                out.stdout
            ));
        } else {
            let checked = retry_until(FILE_TIMEOUT, || {
                let received = check_received_elements(&row, dir)?;
                let ts = read_file_meta(&received)?.transfer_syntax;
                if ts != want_ts {
                    return Err(format!("{file}: arrived in {ts}, expected {want_ts}"));
                }
                Ok(())
            });
            if let Err(e) = checked {
                failures.push(e);
            }
        }
        for p in row.find_received(dir) {
            std::fs::remove_file(p).expect("clean received files");
        }
        server.assert_running();
    }
    failures
}

/// A peer accepting only Explicit VR Little Endian receives a big endian and an implicit VR
/// file, converted, element-identical; a compressed file is not converted, and fails when
/// decompression is off.
#[test]
fn converts_to_explicit_le_for_an_explicit_only_peer() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let tmp = temp_dir("store_convert_explicit");
    let dir = tmp.subdir("received");
    let config = tmp.path().join("explicit-only.cfg");
    std::fs::write(&config, CONFIG).unwrap();
    let port = free_port();
    let config_arg = config.display().to_string();
    let mut server = start_storescp(&storescp, port, &dir, &["-xf", &config_arg, "ExplicitOnly"]);
    let failures = send_and_check(
        port,
        &dir,
        &mut server,
        &[
            ("MR_small_bigendian.dcm", "Explicit VR Big Endian (Retired)"),
            ("ExplVR_BigEnd.dcm", "Explicit VR Big Endian (Retired)"),
            ("MR_small_implicit.dcm", "Implicit VR Little Endian"),
        ],
        EXPLICIT_LE,
        "Explicit VR Little Endian",
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // Compressed, decompression off: only its own syntax, refused, nothing converted.
    let rle = row("MR_small_RLE.dcm");
    let out = store_with(port, &rle, &["--decompress", "never"]);
    assert!(!out.status.success(), "{}", out.all());
    assert!(
        out.stdout.contains("store: 0 sent, 1 failed"),
        "{}",
        out.all()
    );
    let prefix = format!("not sent {}: ", rle.path().display());
    assert!(
        out.stdout.lines().any(|l| l.starts_with(&prefix)),
        "{}",
        out.all()
    );
    assert!(!out.all().contains("(converted from"), "{}", out.all());
    assert!(
        out.stdout
            .contains("--decompress lossless (the default) would send it"),
        "{}",
        out.all()
    );
    assert!(files_under(&dir).is_empty(), "{:?}", files_under(&dir));
}

/// A peer accepting only Implicit VR Little Endian (`storescp +xi`) receives a big endian and
/// an explicit VR little endian file, converted, element-identical.
#[test]
fn converts_to_implicit_le_for_an_implicit_only_peer() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let tmp = temp_dir("store_convert_implicit");
    let dir = tmp.subdir("received");
    let port = free_port();
    let mut server = start_storescp(&storescp, port, &dir, &["+xi", "-pm"]);
    let failures = send_and_check(
        port,
        &dir,
        &mut server,
        &[
            ("MR_small_bigendian.dcm", "Explicit VR Big Endian (Retired)"),
            ("CT_small.dcm", "Explicit VR Little Endian"),
        ],
        IMPLICIT_LE,
        "Implicit VR Little Endian",
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
