//! The SCP-facing scenarios against dimse-std's own SCP, in process over loopback.

use dimse_conformance::{report, run_all, Target, SCENARIOS};
use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
use dimse_core::uid;
use dimse_std::{Handler, Scp};

/// Answers C-ECHO with the default (success) and nothing else.
struct EchoOnly;
impl Handler for EchoOnly {}

#[test]
fn every_scenario_passes_against_dimse_std() {
    let mut policy = AcceptorPolicy::new("CONFORM-SCP");
    policy.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE, uid::EXPLICIT_VR_LE],
    ));
    let server = Scp::new(policy, EchoOnly)
        .bind("127.0.0.1:0")
        .unwrap()
        .spawn()
        .unwrap();
    let target = Target::new(
        "127.0.0.1",
        server.local_addr().port(),
        "CONFORM",
        "CONFORM-SCP",
    );
    let outcomes = run_all(&target);
    let text = report(&outcomes);
    println!("{text}");
    assert_eq!(outcomes.len(), SCENARIOS.len());
    for (o, s) in outcomes.iter().zip(SCENARIOS) {
        assert_eq!(o.name, s.name);
    }
    assert!(outcomes.iter().all(|o| o.passed), "{text}");
    assert!(
        text.ends_with(&format!("conform: {} passed, 0 failed\n", SCENARIOS.len())),
        "{text}"
    );
    server.stop();
}

#[test]
fn report_counts_failures() {
    let outcomes = vec![
        dimse_conformance::Outcome::new("a", "x", "x".into(), true),
        dimse_conformance::Outcome::new("b", "x", "y".into(), false),
    ];
    assert_eq!(
        report(&outcomes),
        "PASS a: expected x; got x\nFAIL b: expected x; got y\nconform: 1 passed, 1 failed\n"
    );
}

#[test]
fn nothing_listening_fails_every_scenario_without_panicking() {
    // Bind then drop: the port refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let outcomes = run_all(&Target::new("127.0.0.1", port, "A", "B"));
    assert_eq!(outcomes.len(), SCENARIOS.len());
    assert!(outcomes.iter().all(|o| !o.passed), "{}", report(&outcomes));
    assert!(
        outcomes[0].got.contains("cannot connect"),
        "{:?}",
        outcomes[0]
    );
}
