//! pynetdicom's `qrscp` with C-MOVE destinations, for the retrieve interop tests.
//!
//! [`crate::qr::start_pynetdicom_qrscp`] writes an ini without move destinations. pynetdicom
//! 3.0.4's qrscp reads every ini *section* other than `[DEFAULT]` as one: the section name is
//! the destination's AE title, its `address` and `port` where to connect (`default.ini`:
//! `[STORESCP]` / `address: 127.0.0.1` / `port: 11113`). A C-MOVE naming any other AE title is
//! answered with 0xA801.

use std::path::Path;

use crate::qr::{
    pynetdicom_indexes, pynetdicom_qrscp_config, Archive, QrPeer, PYNETDICOM_INDEXED, QRSCP_AET,
};
use crate::{
    free_port, retry_until, run, temp_dir, ManifestRow, PeerPath, Server, CLIENT_TIMEOUT,
    FILE_TIMEOUT, LOCALHOST, READY_TIMEOUT,
};

/// [`pynetdicom_qrscp_config`] plus one `[AE]` section (`address: 127.0.0.1`, `port`) per
/// C-MOVE destination.
pub fn pynetdicom_qrscp_config_with(port: u16, dir: &Path, destinations: &[(&str, u16)]) -> String {
    let mut config = pynetdicom_qrscp_config(port, dir);
    for (aet, dest_port) in destinations {
        config.push_str(&format!(
            "\n[{aet}]\naddress: {LOCALHOST}\nport: {dest_port}\n"
        ));
    }
    config
}

/// [`crate::qr::start_pynetdicom_qrscp`] with C-MOVE `destinations` (AE title, port on
/// 127.0.0.1) in its ini; loading and its checks are the same (one `storescu -cx` run, one
/// [`PYNETDICOM_INDEXED`] line per file [`pynetdicom_indexes`] accepts).
#[track_caller]
pub fn start_pynetdicom_qrscp_with(
    qrscp: &PeerPath,
    storescu: &PeerPath,
    rows: &[ManifestRow],
    destinations: &[(&str, u16)],
) -> QrPeer {
    let mut archive = Archive::from_rows(rows);
    archive.files.retain(pynetdicom_indexes);
    let dir = temp_dir("pyn_qrscp_dest");
    let port = free_port();
    let config = dir.path().join("qrscp.ini");
    std::fs::write(
        &config,
        pynetdicom_qrscp_config_with(port, dir.path(), destinations),
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
    retry_until(FILE_TIMEOUT, || {
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
