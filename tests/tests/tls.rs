//! DICOM TLS through the command-line tool, with pynetdicom (Python's `ssl`, OpenSSL) and
//! DCMTK as the other end: `dimse serve --tls-cert --tls-key [--tls-ca]` and the SCU commands'
//! `--tls [--tls-ca] [--tls-cert --tls-key]`. Every runtime's own TLS is covered in
//! `runtimes.rs`; certificates come from [`TlsFiles`].

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
        no_cert.all().contains("CertificateRequired"),
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
        wrong_ca.all().contains("TLS handshake"),
        "{}",
        wrong_ca.all()
    );
    server.assert_running();
}
