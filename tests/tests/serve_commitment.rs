//! Storage Commitment against `dimse serve` (PS3.4 Annex J): the archive commits what it
//! holds under the requested SOP class and reports the rest as failed, on the request's
//! association (the default) or, with `--commit-report new`, on an association it opens to
//! the requestor as a known peer, over TLS when that peer is a `--tls-peer`.
//!
//! Interface under test: `dimse serve --commit-report same|new [--peer|--tls-peer
//! AET@HOST:PORT]`; `dimse commit [--listen PORT] [--tls --tls-cert --tls-key --tls-ca] --json`
//! (records `"file"`, `"sop_instance_uid"`, `"result"`: `committed`/`failed`/`unreported`,
//! `"failure_reason"`, then `{"summary": {"committed", "failed", "unreported"}}`; exit 0 only
//! when all were committed). The other requestors: dimse's library SCU (a reference under the
//! wrong SOP class) and pynetdicom's (`tests/peers/commitment_scu.py`).

use std::ffi::OsString;

use dimse_core::assoc::ProposedContext;
use dimse_core::commitment::{
    CommitmentRequest, SopRef, CLASS_INSTANCE_CONFLICT, NO_SUCH_INSTANCE,
};
use dimse_core::{uid, Entity};
use dimse_std::Scu;
use dimse_tests::*;
use serde_json::Value;

const SERVE_AET: &str = "ARCHIVE";
const REQUESTOR: &str = "COMMITSCU";

/// Two instances the archive is given, then one it never sees.
fn rows() -> Vec<ManifestRow> {
    let valid = valid_corpus_files();
    ["CT_small.dcm", "MR_small.dcm", "SC_rgb_rle.dcm"]
        .iter()
        .map(|n| valid.iter().find(|r| r.file == *n).unwrap().clone())
        .collect()
}

fn store(port: u16, tls: &[OsString], rows: &[ManifestRow]) {
    let mut cmd = dimse(["store", "--aet", REQUESTOR, "--aec", SERVE_AET]);
    cmd.args(tls)
        .args([LOCALHOST, &port.to_string()])
        .args(rows.iter().map(|r| r.path()));
    run(cmd, CLIENT_TIMEOUT).assert_success("dimse store into dimse serve");
}

fn commit(port: u16, extra: &[OsString], rows: &[ManifestRow]) -> RunOutput {
    let mut cmd = dimse([
        "commit", "--aet", REQUESTOR, "--aec", SERVE_AET, "--wait", "30", "--json",
    ]);
    cmd.args(extra)
        .args([LOCALHOST, &port.to_string()])
        .args(rows.iter().map(|r| r.path()));
    run(cmd, CLIENT_TIMEOUT)
}

/// The first two of [`rows`] committed, the third failed as unknown; exit status 1.
fn check_report(out: &RunOutput, rows: &[ManifestRow], serve: &Server) {
    let shown = || format!("{}\n--- dimse serve ---\n{}", out.all(), serve.output());
    assert_eq!(
        out.status.code(),
        Some(1),
        "one instance failed:\n{}",
        shown()
    );
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", shown())))
        .collect();
    let expected = [
        ("committed", None),
        ("committed", None),
        ("failed", Some("0x0112")),
    ];
    for (row, (result, reason)) in rows.iter().zip(expected) {
        let file = row.path().display().to_string();
        let record = lines
            .iter()
            .find(|r| r["file"] == file.as_str())
            .unwrap_or_else(|| panic!("no record for {file}\n{}", shown()));
        assert_eq!(
            record["sop_instance_uid"],
            row.sop_instance.as_str(),
            "{}",
            shown()
        );
        assert_eq!(record["result"], result, "{file}\n{}", shown());
        assert_eq!(
            record["failure_reason"].as_str(),
            reason,
            "{file}\n{}",
            shown()
        );
    }
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(
        (
            &summary["committed"],
            &summary["failed"],
            &summary["unreported"]
        ),
        (&Value::from(2), &Value::from(1), &Value::from(0)),
        "{}",
        shown()
    );
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Report on the request's association: `dimse commit` after `dimse store`; the library SCU
/// naming a stored instance under another SOP class gets 0x0119, an unknown one 0x0112;
/// pynetdicom's SCU gets its report too.
#[test]
fn commitment_on_the_same_association() {
    let tmp = temp_dir("serve_commit_same");
    let port = free_port();
    let mut serve = start_dimse_serve(port, SERVE_AET, &tmp.subdir("archive"));
    let rows = rows();
    store(port, &[], &rows[..2]);
    check_report(&commit(port, &[], &rows), &rows, &serve);

    let peer = Entity::local(SERVE_AET, port);
    let context = ProposedContext::new(uid::STORAGE_COMMITMENT_PUSH_MODEL, &[uid::EXPLICIT_VR_LE]);
    let mut assoc = Scu::new(REQUESTOR).associate(&peer, vec![context]).unwrap();
    let request = CommitmentRequest {
        transaction_uid: "2.25.20261205".into(),
        references: vec![
            SopRef::new(&rows[1].sop_class, &rows[0].sop_instance),
            SopRef::new(&rows[1].sop_class, &rows[1].sop_instance),
            SopRef::new(&rows[1].sop_class, "2.25.1"),
        ],
    };
    assert!(assoc.request_commitment(&request).unwrap().is_success());
    let report = assoc.wait_commitment_report().unwrap();
    assoc.release().unwrap();
    assert_eq!(report.transaction_uid, request.transaction_uid);
    assert_eq!(report.committed, [request.references[1].clone()]);
    assert_eq!(
        report.failed,
        [
            (request.references[0].clone(), CLASS_INSTANCE_CONFLICT),
            (request.references[2].clone(), NO_SUCH_INSTANCE),
        ]
    );

    if require_peer(Peer::Pynetdicom("echoscu")).is_none() {
        return;
    }
    // commitment_scu.py references CT Image Storage instances: the CT is held, 2.25.2 is not.
    let script = workspace_dir().join("tests/peers/commitment_scu.py");
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(script)
        .arg(port.to_string())
        .args([SERVE_AET, &rows[0].sop_instance, "2.25.2"]);
    let out = run(cmd, CLIENT_TIMEOUT);
    out.assert_success("pynetdicom commitment SCU → dimse serve");
    let text = out.all();
    assert!(text.contains("action status 0x0"), "{text}");
    assert!(
        text.contains(&format!("committed {}", rows[0].sop_instance)),
        "{text}"
    );
    assert!(text.contains("failed 2.25.2 0x112"), "{text}");
    serve.assert_running();
}

/// `--commit-report new`: the report goes on an association serve opens to the requestor
/// (a `--peer` that is not a C-MOVE destination through the config file would do as well);
/// an unknown requestor gets no report, and serve says why.
#[test]
fn commitment_report_on_a_new_association() {
    let tmp = temp_dir("serve_commit_new");
    let (port, listen) = (free_port(), free_port());
    let peer = format!("{REQUESTOR}@{LOCALHOST}:{listen}");
    let mut serve = start_dimse_serve_with(
        port,
        SERVE_AET,
        &tmp.subdir("archive"),
        &["--commit-report", "new", "--peer", &peer],
    );
    let rows = rows();
    store(port, &[], &rows[..2]);
    let out = commit(port, &os(&["--listen", &listen.to_string()]), &rows);
    check_report(&out, &rows, &serve);
    serve.wait_for_output(
        "Storage Commitment report sent on a new association",
        READY_TIMEOUT,
    );

    let mut cmd = dimse([
        "commit", "--aet", "STRANGER", "--aec", SERVE_AET, "--wait", "3", "--listen",
    ]);
    cmd.arg(free_port().to_string())
        .args([LOCALHOST, &port.to_string()])
        .arg(rows[0].path());
    let out = run(cmd, CLIENT_TIMEOUT);
    assert_eq!(out.status.code(), Some(1), "{}", out.all());
    assert!(
        out.all().contains("no commitment report arrived"),
        "{}",
        out.all()
    );
    serve.wait_for_output("no address for the requestor's AE title", READY_TIMEOUT);
    serve.assert_running();
}

/// `--tls-peer`: serve (mutual TLS with self-signed certificates) sends the report over TLS
/// to the requestor's listener, presenting its own certificate and checking the listener's.
#[test]
fn commitment_report_over_tls_to_a_tls_peer() {
    let tmp = temp_dir("serve_commit_tls");
    let certs = tmp.subdir("certs");
    let site = SelfSigned::localhost(&certs, "site");
    let requestor = SelfSigned::localhost(&certs, "requestor");
    let (port, listen) = (free_port(), free_port());
    let mut args: Vec<OsString> = site.dimse_identity();
    args.extend(os(&["--tls-ca"]));
    args.push(requestor.cert.clone().into());
    args.extend(os(&[
        "--tls-require-client-cert",
        "--commit-report",
        "new",
        "--tls-peer",
        &format!("{REQUESTOR}@{LOCALHOST}:{listen}"),
    ]));
    let mut serve = start_dimse_serve_with(port, SERVE_AET, &tmp.subdir("archive"), &args);
    let mut tls: Vec<OsString> = os(&["--tls", "--tls-ca"]);
    tls.push(site.cert.clone().into());
    tls.extend(requestor.dimse_identity());
    let rows = rows();
    store(port, &tls, &rows[..2]);
    let mut extra = tls.clone();
    extra.extend(os(&["--listen", &listen.to_string()]));
    check_report(&commit(port, &extra, &rows), &rows, &serve);
    serve.wait_for_output(
        "Storage Commitment report sent on a new association",
        READY_TIMEOUT,
    );
    serve.assert_running();
}
