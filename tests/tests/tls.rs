//! DICOM TLS through the command-line tool, with pynetdicom (Python's `ssl`, OpenSSL) and
//! DCMTK as the other end: `dimse serve --tls-cert --tls-key [--tls-ca]
//! [--tls-require-client-cert] [--tls-peer]` and the SCU commands' `--tls [--tls-ca]
//! [--tls-pin] [--tls-no-verify-name] [--tls-insecure] [--tls-cert --tls-key]`. Every
//! runtime's own TLS is covered in `runtimes.rs`. Certificates come from [`TlsFiles`] (a CA
//! and leaves) and [`SelfSigned`]: the one-command `openssl req -x509` certificate sites
//! actually use with DCMTK and Orthanc (CA:TRUE, trusted as it is).

use std::ffi::OsString;

use dimse_tests::qr::{one_arrival, qr_corpus, Archive};
use dimse_tests::*;

const DIMSE_AET: &str = "DIMSE";
const PY_AET: &str = "PYSCP";

/// pynetdicom C-ECHO then C-STORE of each file over one TLS association, presenting a client
/// certificate. Arguments: port, CA, client certificate, client key, called AE, files.
const TLS_SCU: &str = r#"
import ssl, sys
from pydicom import dcmread
from pynetdicom import AE
from pynetdicom.sop_class import Verification
port, ca, cert, key, called, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
ctx.load_cert_chain(cert, key)
ae = AE(ae_title="PYSCU")
ae.add_requested_context(Verification)
datasets = [dcmread(f) for f in files]
for ds in datasets:
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
assoc = ae.associate("localhost", port, ae_title=called, tls_args=(ctx, "localhost"))
if not assoc.is_established:
    sys.exit("association failed")
status = assoc.send_c_echo()
print("echo", hex(status.Status))
failed = status.Status != 0
for ds in datasets:
    status = assoc.send_c_store(ds)
    print("store", ds.SOPInstanceUID, hex(status.Status) if status else "none")
    failed |= not status or status.Status != 0
assoc.release()
sys.exit(1 if failed else 0)
"#;

/// A pynetdicom Storage SCP over TLS requiring client certificates, writing each instance as
/// a Part 10 file. Arguments: port, server certificate, server key, CA, output directory.
const TLS_SCP: &str = r#"
import os, ssl, sys
from pynetdicom import AE, evt, AllStoragePresentationContexts
from pynetdicom.sop_class import Verification
port, cert, key, ca, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca)
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.load_cert_chain(cert, key)
def on_store(event):
    uid = event.request.AffectedSOPInstanceUID
    with open(os.path.join(out, uid + ".dcm"), "wb") as f:
        f.write(event.encoded_dataset(include_meta=True))
    return 0x0000
ae = AE(ae_title="PYSCP")
ae.supported_contexts = AllStoragePresentationContexts
ae.add_supported_context(Verification)
ae.start_server(("127.0.0.1", port), ssl_context=ctx, evt_handlers=[(evt.EVT_C_STORE, on_store)])
"#;

fn first_uncompressed() -> ManifestRow {
    valid_corpus_files()
        .into_iter()
        .find(|r| !r.is_encapsulated())
        .unwrap()
}

/// pynetdicom and DCMTK as TLS SCUs of `dimse serve` with client certificates required; a
/// plain echoscu and a TLS client without a certificate are refused and the server serves on.
#[test]
fn dimse_serve_tls_for_pynetdicom_and_dcmtk() {
    let python = require_peer!(Peer::Pynetdicom("storescu"));
    let echoscu = require_peer!(Peer::Dcmtk("echoscu"));
    require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("tls_serve");
    let certs = TlsFiles::generate(&tmp.subdir("certs"));
    let archive = tmp.subdir("archive");
    let port = free_port();
    let tls: Vec<&std::ffi::OsStr> = vec![
        "--tls-cert".as_ref(),
        certs.server_cert.as_os_str(),
        "--tls-key".as_ref(),
        certs.server_key.as_os_str(),
        "--tls-ca".as_ref(),
        certs.ca.as_os_str(),
    ];
    let mut server = start_dimse_serve_with(port, DIMSE_AET, &archive, &tls);
    assert!(
        server.output().contains("TLS with client certificates"),
        "{}",
        server.output()
    );

    let row = first_uncompressed();
    let mut cmd = std::process::Command::new(&python.program);
    cmd.args(["-c", TLS_SCU, &port.to_string()])
        .args([&certs.ca, &certs.client_cert, &certs.client_key])
        .arg(DIMSE_AET)
        .arg(row.path());
    run(cmd, CLIENT_TIMEOUT).assert_success("pynetdicom C-ECHO and C-STORE over TLS");
    eventually(FILE_TIMEOUT, || check_received_elements(&row, &archive));

    let mut cmd = echoscu.command();
    cmd.args(certs.dcmtk_args(&certs.client_key, &certs.client_cert))
        .args(["-aec", DIMSE_AET, LOCALHOST, &port.to_string()]);
    run(cmd, CLIENT_TIMEOUT).assert_success("echoscu +tls");

    let plain = run(
        echoscu
            .command()
            .args(["-aec", DIMSE_AET, LOCALHOST, &port.to_string()]),
        CLIENT_TIMEOUT,
    );
    assert!(!plain.status.success(), "plain echoscu: {}", plain.all());
    let no_cert = run(
        dimse(["echo", "--aec", DIMSE_AET, "--tls", "--tls-ca"])
            .arg(&certs.ca)
            .args(["localhost", &port.to_string()]),
        CLIENT_TIMEOUT,
    );
    assert!(!no_cert.status.success(), "{}", no_cert.all());
    assert!(
        no_cert
            .all()
            .contains("the peer requires a client certificate; pass --tls-cert and --tls-key"),
        "{}",
        no_cert.all()
    );
    server.assert_running();
}

/// `dimse echo --tls` and `dimse store --tls` (with a client certificate) into a pynetdicom
/// TLS SCP; without `--tls` the association fails, and with a CA that did not sign the
/// server's certificate the handshake does.
#[test]
fn dimse_scu_tls_to_pynetdicom() {
    let python = require_peer!(Peer::Pynetdicom("storescp"));
    require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("tls_scu");
    let certs = TlsFiles::generate(&tmp.subdir("certs"));
    let out = tmp.subdir("received");
    let port = free_port();
    let mut cmd = std::process::Command::new(&python.program);
    cmd.args(["-c", TLS_SCP, &port.to_string()]).args([
        &certs.server_cert,
        &certs.server_key,
        &certs.ca,
        &out,
    ]);
    let mut server = Server::spawn("pynetdicom TLS SCP", &mut cmd);
    server.wait_for_port(port, READY_TIMEOUT);

    let tls_args = |ca: &std::path::Path| {
        vec![
            "--tls".into(),
            "--tls-ca".into(),
            ca.as_os_str().to_owned(),
            "--tls-cert".into(),
            certs.client_cert.as_os_str().to_owned(),
            "--tls-key".into(),
            certs.client_key.as_os_str().to_owned(),
        ]
    };
    let port_s = port.to_string();
    run(
        dimse(["echo", "--aec", PY_AET])
            .args(tls_args(&certs.ca))
            .args(["localhost", &port_s]),
        CLIENT_TIMEOUT,
    )
    .assert_success("dimse echo --tls");
    let row = first_uncompressed();
    run(
        dimse(["store", "--aec", PY_AET])
            .args(tls_args(&certs.ca))
            .args(["localhost", &port_s])
            .arg(row.path()),
        CLIENT_TIMEOUT,
    )
    .assert_success("dimse store --tls");
    eventually(FILE_TIMEOUT, || check_received_elements(&row, &out));

    let plain = run(
        dimse(["echo", "--aec", PY_AET, "localhost", &port_s]),
        CLIENT_TIMEOUT,
    );
    assert!(!plain.status.success(), "{}", plain.all());
    let wrong_ca = run(
        dimse(["echo", "--aec", PY_AET])
            .args(tls_args(&certs.other_ca))
            .args(["localhost", &port_s]),
        CLIENT_TIMEOUT,
    );
    assert!(!wrong_ca.status.success(), "{}", wrong_ca.all());
    assert!(
        wrong_ca.all().contains("TLS handshake")
            && wrong_ca
                .all()
                .contains("is issued by CN=dimse test ca, which is not in the trust set"),
        "{}",
        wrong_ca.all()
    );
    server.assert_running();
}

// ---------------------------------------------------------------------------
// Self-signed certificates made the usual way (issue 16)
// ---------------------------------------------------------------------------

const STORESCP_AET: &str = "STORESCP";

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// `--tls-ca PATH`.
fn trusting(cert: &std::path::Path) -> Vec<OsString> {
    vec!["--tls-ca".into(), cert.into()]
}

/// `dimse echo --tls` with `extra` options to `called` at `host:port`.
fn tls_echo(called: &str, extra: &[OsString], host: &str, port: u16) -> RunOutput {
    run(
        dimse(["echo", "--aec", called, "--tls"])
            .args(extra)
            .args([host, &port.to_string()]),
        CLIENT_TIMEOUT,
    )
}

#[track_caller]
fn assert_fails_saying(out: &RunOutput, what: &str, needle: &str) {
    assert!(!out.status.success(), "{what} succeeded:\n{}", out.all());
    assert!(
        out.all().contains(needle),
        "{what}: expected {needle:?} in:\n{}",
        out.all()
    );
}

/// `dimse echo`/`store --tls` to DCMTK `storescp +tls KEY CERT` with the `openssl req -x509`
/// certificate: trusted with `--tls-ca CERT` and its host names checked (DNS and IP
/// subjectAltName), by fingerprint with `--tls-pin`, or unchecked with `--tls-insecure`
/// (warned about); refused, with a message that says what to pass, when nothing trusts it or
/// when it names another host (unless `--tls-no-verify-name`).
#[test]
fn self_signed_certificate_from_dimse_scu_to_dcmtk_storescp() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("tls_self_signed_scu");
    let certs = tmp.subdir("certs");
    let site = SelfSigned::localhost(&certs, "site");
    let other = SelfSigned::generate(&certs, "other", "other.example", Some("DNS:other.example"));
    let received = tmp.subdir("received");
    let port = free_port();
    let mut tls = site.dcmtk_identity();
    tls.push("-ic".into()); // no client certificate asked for here
    let mut scp = start_dcmtk_storescp_tls(&storescp, port, STORESCP_AET, &received, &tls);

    for host in ["localhost", LOCALHOST] {
        tls_echo(STORESCP_AET, &trusting(&site.cert), host, port)
            .assert_success(&format!("dimse echo --tls --tls-ca self-signed.pem {host}"));
    }
    let row = first_uncompressed();
    run(
        dimse(["store", "--aec", STORESCP_AET, "--tls"])
            .args(trusting(&site.cert))
            .args(["localhost", &port.to_string()])
            .arg(row.path()),
        CLIENT_TIMEOUT,
    )
    .assert_success("dimse store --tls --tls-ca self-signed.pem");
    eventually(FILE_TIMEOUT, || check_received_elements(&row, &received));

    // A directory of PEM files trusts each (DCMTK +cd); keys beside them are skipped.
    tls_echo(STORESCP_AET, &trusting(&certs), "localhost", port)
        .assert_success("dimse echo --tls --tls-ca DIR");

    let untrusted = tls_echo(STORESCP_AET, &[], "localhost", port);
    assert_fails_saying(
        &untrusted,
        "echo trusting only the system's CAs",
        "is self-signed and not in the trust set; pass it with --tls-ca",
    );
    let wrong_trust = tls_echo(STORESCP_AET, &trusting(&other.cert), "localhost", port);
    assert_fails_saying(
        &wrong_trust,
        "echo trusting another certificate",
        "self-signed and not in the trust set",
    );

    let pin = site.fingerprint();
    tls_echo(STORESCP_AET, &os(&["--tls-pin", &pin]), "localhost", port)
        .assert_success("dimse echo --tls --tls-pin (openssl's fingerprint line)");
    let bare_pin = pin
        .rsplit_once('=')
        .unwrap()
        .1
        .replace(':', "")
        .to_lowercase();
    tls_echo(
        STORESCP_AET,
        &os(&["--tls-pin", &bare_pin]),
        "localhost",
        port,
    )
    .assert_success("dimse echo --tls --tls-pin (bare hex)");
    let wrong_pin = tls_echo(
        STORESCP_AET,
        &os(&["--tls-pin", &other.fingerprint()]),
        "localhost",
        port,
    );
    assert_fails_saying(&wrong_pin, "echo with another pin", "--tls-pin");

    let insecure = tls_echo(STORESCP_AET, &os(&["--tls-insecure"]), "localhost", port);
    insecure.assert_success("dimse echo --tls --tls-insecure");
    assert!(
        insecure.stderr.contains("warning: --tls-insecure"),
        "{}",
        insecure.all()
    );

    let other_port = free_port();
    let mut other_tls = other.dcmtk_identity();
    other_tls.push("-ic".into());
    let mut other_scp = start_dcmtk_storescp_tls(
        &storescp,
        other_port,
        STORESCP_AET,
        &tmp.subdir("other-received"),
        &other_tls,
    );
    let wrong_name = tls_echo(
        STORESCP_AET,
        &trusting(&other.cert),
        "localhost",
        other_port,
    );
    assert_fails_saying(
        &wrong_name,
        "echo to a certificate for other.example",
        "the certificate names other.example, not the host localhost you connected to \
         (--tls-no-verify-name to skip this check)",
    );
    let mut no_check = trusting(&other.cert);
    no_check.push("--tls-no-verify-name".into());
    tls_echo(STORESCP_AET, &no_check, "localhost", other_port)
        .assert_success("dimse echo --tls-no-verify-name");

    assert!(scp.output().contains(ECHO_LOGGED), "{}", scp.output());
    scp.assert_running();
    other_scp.assert_running();
}

/// DCMTK `echoscu` and `storescu +tla +cf CERT` into `dimse serve --tls-cert CERT --tls-key
/// KEY` with the `openssl req -x509` certificate; a DCMTK client that does not trust it is
/// refused by DCMTK, and serve's log says why.
#[test]
fn self_signed_certificate_from_dcmtk_scus_to_dimse_serve() {
    let echoscu = require_peer!(Peer::Dcmtk("echoscu"));
    let storescu = require_peer!(Peer::Dcmtk("storescu"));
    require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("tls_self_signed_serve");
    let site = SelfSigned::localhost(&tmp.subdir("certs"), "site");
    let archive = tmp.subdir("archive");
    let port = free_port();
    let mut server = start_dimse_serve_with(port, DIMSE_AET, &archive, &site.dimse_identity());
    assert!(server.output().contains("; TLS;"), "{}", server.output());

    let trust_site = [
        "+tla".to_string(),
        "+cf".into(),
        site.cert.display().to_string(),
    ];
    run(
        echoscu
            .command()
            .args(&trust_site)
            .args(["-aec", DIMSE_AET, LOCALHOST, &port.to_string()]),
        CLIENT_TIMEOUT,
    )
    .assert_success("echoscu +tla +cf self-signed.pem");
    let row = first_uncompressed();
    run(
        storescu
            .command()
            .args(&trust_site)
            .args(dcmtk_storescu_args(&row, "STORESCU", DIMSE_AET, port)),
        CLIENT_TIMEOUT,
    )
    .assert_success("storescu +tla +cf self-signed.pem");
    eventually(FILE_TIMEOUT, || check_received_elements(&row, &archive));

    let distrust = run(
        echoscu
            .command()
            .args(["+tla", "-aec", DIMSE_AET, LOCALHOST, &port.to_string()]),
        CLIENT_TIMEOUT,
    );
    assert!(!distrust.status.success(), "{}", distrust.all());
    server.wait_for_output("the client refused our certificate", READY_TIMEOUT);
    server.assert_running();
}

/// Mutual TLS with self-signed certificates both ways into `dimse serve
/// --tls-require-client-cert --tls-ca CLIENT.pem`: a client without a certificate is refused
/// (and told to pass --tls-cert and --tls-key), one with an untrusted certificate too; dimse,
/// DCMTK echoscu and pynetdicom (an `ssl.SSLContext`) with the trusted one get through.
#[test]
fn mutual_tls_with_self_signed_certificates_into_dimse_serve() {
    let echoscu = require_peer!(Peer::Dcmtk("echoscu"));
    let python = require_peer!(Peer::Pynetdicom("storescu"));
    require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("tls_mutual_serve");
    let certs = tmp.subdir("certs");
    let site = SelfSigned::localhost(&certs, "site");
    let client = SelfSigned::generate(&certs, "client", "dimse test client", None);
    let stranger = SelfSigned::generate(&certs, "stranger", "stranger", None);
    let archive = tmp.subdir("archive");
    let port = free_port();
    let mut args = site.dimse_identity();
    args.extend(trusting(&client.cert));
    args.push("--tls-require-client-cert".into());
    let mut server = start_dimse_serve_with(port, DIMSE_AET, &archive, &args);
    assert!(
        server
            .output()
            .contains("TLS with client certificates required"),
        "{}",
        server.output()
    );

    let no_cert = tls_echo(DIMSE_AET, &trusting(&site.cert), "localhost", port);
    assert_fails_saying(
        &no_cert,
        "echo without a client certificate",
        "the peer requires a client certificate; pass --tls-cert and --tls-key",
    );
    let mut with_cert = trusting(&site.cert);
    with_cert.extend(client.dimse_identity());
    tls_echo(DIMSE_AET, &with_cert, "localhost", port)
        .assert_success("dimse echo with a trusted self-signed client certificate");
    let mut with_stranger = trusting(&site.cert);
    with_stranger.extend(stranger.dimse_identity());
    let refused = tls_echo(DIMSE_AET, &with_stranger, "localhost", port);
    assert_fails_saying(
        &refused,
        "echo with an untrusted client certificate",
        "the peer refused our client certificate",
    );
    server.wait_for_output(
        "(CN=stranger) is self-signed and not in the trust set",
        READY_TIMEOUT,
    );

    let mut dcmtk = client.dcmtk_identity();
    dcmtk.extend(["+cf".to_string(), site.cert.display().to_string()]);
    run(
        echoscu
            .command()
            .args(&dcmtk)
            .args(["-aec", DIMSE_AET, LOCALHOST, &port.to_string()]),
        CLIENT_TIMEOUT,
    )
    .assert_success("echoscu +tls CLIENT +cf SITE");
    let anonymous = run(
        echoscu
            .command()
            .args(["+tla", "+cf"])
            .arg(&site.cert)
            .args(["-aec", DIMSE_AET, LOCALHOST, &port.to_string()]),
        CLIENT_TIMEOUT,
    );
    assert!(!anonymous.status.success(), "{}", anonymous.all());

    let row = first_uncompressed();
    let mut cmd = std::process::Command::new(&python.program);
    cmd.args(["-c", TLS_SCU, &port.to_string()])
        .args([&site.cert, &client.cert, &client.key])
        .arg(DIMSE_AET)
        .arg(row.path());
    run(cmd, CLIENT_TIMEOUT).assert_success("pynetdicom (ssl.SSLContext) with self-signed certs");
    eventually(FILE_TIMEOUT, || check_received_elements(&row, &archive));
    server.assert_running();
}

/// The other direction: a dimse SCU presents its self-signed certificate to DCMTK `storescp
/// +tls ... -rc +cf CLIENT.pem`, which requires one; without it the SCU is told what to pass.
#[test]
fn mutual_tls_from_dimse_scu_to_dcmtk_storescp() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let tmp = temp_dir("tls_mutual_scu");
    let certs = tmp.subdir("certs");
    let site = SelfSigned::localhost(&certs, "site");
    let client = SelfSigned::generate(&certs, "client", "dimse test client", None);
    let port = free_port();
    let mut tls = site.dcmtk_identity();
    tls.extend([
        "-rc".into(),
        "+cf".into(),
        client.cert.display().to_string(),
    ]);
    let mut scp =
        start_dcmtk_storescp_tls(&storescp, port, STORESCP_AET, &tmp.subdir("received"), &tls);
    let mut with_cert = trusting(&site.cert);
    with_cert.extend(client.dimse_identity());
    tls_echo(STORESCP_AET, &with_cert, "localhost", port)
        .assert_success("dimse echo --tls-cert to storescp -rc");
    let no_cert = tls_echo(STORESCP_AET, &trusting(&site.cert), "localhost", port);
    assert_fails_saying(
        &no_cert,
        "echo without a client certificate to storescp -rc",
        "pass --tls-cert and --tls-key",
    );
    scp.assert_running();
}

/// `dimse serve --tls-peer STORESCP@127.0.0.1:PORT`: C-MOVE sub-associations to a DCMTK
/// `storescp +tls` destination use TLS, presenting serve's own certificate (storescp
/// requires it: `-rc +cf SERVE.pem`) and trusting storescp's (serve's `--tls-ca`); every
/// instance of every study arrives once. A plain `--peer` beside it still gets plain TCP.
#[test]
fn cmove_from_dimse_serve_to_a_dcmtk_tls_peer() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("tls_move_peer");
    let certs = tmp.subdir("certs");
    let serve_cert = SelfSigned::localhost(&certs, "serve");
    let dest_cert = SelfSigned::localhost(&certs, "dest");
    let dest_dir = tmp.subdir("dest");
    let plain_dir = tmp.subdir("plain");
    let dest_port = free_port();
    let plain_port = free_port();
    let mut tls = dest_cert.dcmtk_identity();
    tls.extend([
        "-rc".into(),
        "+cf".into(),
        serve_cert.cert.display().to_string(),
    ]);
    let mut dest = start_dcmtk_storescp_tls(&storescp, dest_port, STORESCP_AET, &dest_dir, &tls);
    let mut plain = start_dcmtk_storescp(&storescp, plain_port, "PLAIN", &plain_dir);

    let port = free_port();
    let mut args = serve_cert.dimse_identity();
    args.extend(trusting(&dest_cert.cert));
    args.extend(os(&[
        "--tls-require-client-cert=false",
        "--tls-peer",
        &format!("{STORESCP_AET}@{LOCALHOST}:{dest_port}"),
        "--peer",
        &format!("PLAIN@{LOCALHOST}:{plain_port}"),
    ]));
    let mut server = start_dimse_serve_with(port, DIMSE_AET, &tmp.subdir("archive"), &args);
    assert!(
        server
            .output()
            .contains(&format!("{STORESCP_AET}@{LOCALHOST}:{dest_port} (TLS)")),
        "{}",
        server.output()
    );
    let scu_tls = trusting(&serve_cert.cert);
    let rows = qr_corpus();
    run(
        dimse(["store", "--aec", DIMSE_AET, "--tls"])
            .args(&scu_tls)
            .args(["localhost", &port.to_string()])
            .args(rows.iter().map(|r| r.path())),
        CLIENT_TIMEOUT,
    )
    .assert_success("dimse store --tls into serve");

    let archive = Archive::from_rows(&rows);
    let studies = archive.studies();
    for study in &studies {
        let out = run(
            dimse(["move", "--aec", DIMSE_AET, "--dest", STORESCP_AET, "--tls"])
                .args(&scu_tls)
                .args(["-k", &format!("StudyInstanceUID={study}")])
                .args(["localhost", &port.to_string()]),
            CLIENT_TIMEOUT,
        );
        out.assert_success(&format!("dimse move {study} to the TLS peer"));
        assert!(out.all().contains(" 0 failed"), "{}", out.all());
    }
    let mut missing = Vec::new();
    for f in &archive.files {
        if let Err(e) = one_arrival(&dest_dir, &f.sop_instance) {
            missing.push(e);
        }
    }
    assert!(
        missing.is_empty(),
        "{missing:#?}\n--- storescp ---\n{}\n--- serve ---\n{}",
        dest.output(),
        server.output()
    );
    assert_eq!(files_under(&dest_dir).len(), archive.files.len());

    // The plain peer in the same AE table: no TLS towards it.
    let study = studies.iter().next().unwrap();
    run(
        dimse(["move", "--aec", DIMSE_AET, "--dest", "PLAIN", "--tls"])
            .args(&scu_tls)
            .args(["-k", &format!("StudyInstanceUID={study}")])
            .args(["localhost", &port.to_string()]),
        CLIENT_TIMEOUT,
    )
    .assert_success("dimse move to the plain peer");
    let expected = archive.files.iter().filter(|f| &f.study_uid == study);
    for f in expected {
        one_arrival(&plain_dir, &f.sop_instance).unwrap();
    }
    dest.assert_running();
    plain.assert_running();
    server.assert_running();
}

/// `dimse conform --tls` runs the scenario suite through TLS: every scenario passes against
/// `dimse serve` serving TLS with the `openssl req -x509` certificate; without `--tls` each
/// one fails, saying the peer answered with TLS records.
#[test]
fn conform_over_tls_against_dimse_serve() {
    let tmp = temp_dir("tls_conform");
    let site = SelfSigned::localhost(&tmp.subdir("certs"), "site");
    let port = free_port();
    let mut server = start_dimse_serve_with(
        port,
        DIMSE_AET,
        &tmp.subdir("archive"),
        &site.dimse_identity(),
    );
    let conform = |extra: &[OsString]| {
        let mut cmd = dimse(["conform", "--aec", DIMSE_AET]);
        cmd.args(extra).args(["localhost", &port.to_string()]);
        run(cmd, CLIENT_TIMEOUT)
    };
    let mut tls = os(&["--tls"]);
    tls.extend(trusting(&site.cert));
    let out = conform(&tls);
    out.assert_success("dimse conform --tls against dimse serve over TLS");
    assert!(out.stdout.contains(" passed, 0 failed"), "{}", out.all());
    let plain = conform(&[]);
    assert!(!plain.status.success(), "{}", plain.all());
    assert!(
        plain.stdout.contains("does the peer expect TLS?"),
        "{}",
        plain.all()
    );
    server.assert_running();
}
