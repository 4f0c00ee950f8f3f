//! The embedding example (`examples/mio_echo.rs`) works: the core driven by hand from a mio
//! readiness loop echoes a dimse SCP in process, and DCMTK's storescp.

use std::net::SocketAddr;
use std::time::Duration;

use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
use dimse_core::uid;
use dimse_std::{Handler, Scp};
use dimse_tests::*;

#[path = "../examples/mio_echo.rs"]
mod mio_echo;

struct EchoOnly;
impl Handler for EchoOnly {}

#[test]
fn mio_loop_echoes_a_dimse_scp() {
    let mut policy = AcceptorPolicy::new("EMBED-SCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    let server = Scp::new(policy, EchoOnly)
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap();
    let status = mio_echo::echo(
        server.local_addr(),
        "MIO",
        "EMBED-SCP",
        Duration::from_secs(20),
    )
    .unwrap();
    assert!(status.is_success(), "{status:?}");
    // A called AE title the SCP does not answer to: the rejection comes back as an error.
    let err = mio_echo::echo(
        server.local_addr(),
        "MIO",
        "SOMEONE",
        Duration::from_secs(20),
    )
    .unwrap_err();
    assert!(err.contains("rejected"), "{err}");
    server.stop();
}

#[test]
fn mio_loop_echoes_dcmtk_storescp() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let port = free_port();
    let dir = temp_dir("embedding_storescp");
    let mut server = start_dcmtk_storescp(&storescp, port, "STORESCP", dir.path());
    let addr: SocketAddr = format!("{LOCALHOST}:{port}").parse().unwrap();
    let status = mio_echo::echo(addr, "MIO", "STORESCP", Duration::from_secs(20)).unwrap();
    assert!(status.is_success(), "{status:?}");
    server.wait_for_output(ECHO_LOGGED, Duration::from_secs(10));
}
