//! User identity negotiation (PS3.7 D.3.3.7) at `dimse serve --user NAME:PASSCODE`, with
//! DCMTK's `storescu --user --password` and pynetdicom's `UserIdentityNegotiation` (which asks
//! for a positive response) as requestors, and `dimse echo --username --passcode`.

use dimse_tests::*;

const AET: &str = "GUARDED";

/// pynetdicom C-ECHO presenting a username and passcode with a positive response requested.
/// Arguments: port, called AE, username, passcode. Prints the server response's length.
const PY_IDENTITY_ECHO: &str = r#"
import sys
from pynetdicom import AE
from pynetdicom.pdu_primitives import UserIdentityNegotiation
from pynetdicom.sop_class import Verification
port, called, user, code = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ident = UserIdentityNegotiation()
ident.user_identity_type = 2
ident.primary_field = user.encode()
ident.secondary_field = code.encode()
ident.positive_response_requested = True
ae = AE(ae_title="PYSCU")
ae.add_requested_context(Verification)
assoc = ae.associate("127.0.0.1", port, ae_title=called, ext_neg=[ident])
if not assoc.is_established:
    sys.exit("association not established")
status = assoc.send_c_echo()
assoc.release()
sys.exit(0 if status and status.Status == 0 else 1)
"#;

#[test]
fn serve_requires_user_identity() {
    let storescu = require_peer!(Peer::Dcmtk("storescu"));
    let python = require_peer!(Peer::Pynetdicom("echoscu"));
    require_peer!(Peer::Dcmtk("dcmdump"));
    let tmp = temp_dir("user_identity");
    let port = free_port();
    let mut server = start_dimse_serve_with(port, AET, tmp.path(), &["--user", "alice:s3cret"]);
    let row = valid_corpus_files()
        .into_iter()
        .find(|r| !r.is_encapsulated())
        .unwrap();
    let store = |identity: &[&str]| {
        let mut cmd = storescu.command();
        cmd.args(identity)
            .args(dcmtk_storescu_args(&row, "STORESCU", AET, port));
        run(cmd, CLIENT_TIMEOUT)
    };

    for refused in [
        &["--user", "alice", "--password", "wrong"][..],
        &["--user", "mallory", "--password", "s3cret"][..],
        &[][..],
    ] {
        let out = store(refused);
        assert!(
            !out.status.success() || out.all().contains("Rejected"),
            "{refused:?}: {}",
            out.all()
        );
    }
    assert!(find_by_sop_instance(tmp.path(), &row.instance_uids()[0]).is_empty());

    store(&["--user", "alice", "--password", "s3cret"]).assert_success("storescu --user");
    eventually(FILE_TIMEOUT, || check_received_elements(&row, tmp.path()));

    let python_echo = |passcode: &str| {
        let mut cmd = std::process::Command::new(&python.program);
        let port = port.to_string();
        cmd.args(["-c", PY_IDENTITY_ECHO, &port, AET, "alice", passcode]);
        run(cmd, CLIENT_TIMEOUT)
    };
    python_echo("s3cret").assert_success("pynetdicom echo with user identity");
    assert!(!python_echo("nope").status.success());

    let port_s = port.to_string();
    run(
        dimse([
            "echo",
            "--aec",
            AET,
            "--username",
            "alice",
            "--passcode",
            "s3cret",
        ])
        .args([LOCALHOST, &port_s]),
        CLIENT_TIMEOUT,
    )
    .assert_success("dimse echo --username --passcode");
    let out = run(
        dimse(["echo", "--aec", AET, LOCALHOST, &port_s]),
        CLIENT_TIMEOUT,
    );
    assert!(
        !out.status.success() && out.all().contains("rejected (permanent): service user"),
        "{}",
        out.all()
    );
    server.assert_running();
}
