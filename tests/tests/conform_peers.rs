//! `dimse conform` against third-party SCPs: DCMTK storescp and pynetdicom storescp.
//!
//! Both runs must execute every scenario and print the report. Only what each peer was
//! observed to do is asserted (DCMTK 3.6.7 as the harness starts it, pynetdicom 3.0.4):
//!
//! - DCMTK storescp fails `unknown-abstract-syntax`: the harness runs it promiscuous (`-pm`),
//!   so it accepts 1.2.3.4.5.6.7.8.9 (result 0). It resets the connection for the unknown
//!   PDU type and the 0xFFFFFFFF length. It fails `malformed-context-item`: to an
//!   A-ASSOCIATE-RQ whose presentation context item claims 100 bytes more than the PDU holds,
//!   it says nothing for the whole 10 s wait. Everything else passes.
//! - pynetdicom storescp fails `unknown-user-info-sub-item` (answers A-ABORT 0/0 instead of
//!   ignoring sub-item 0x5F), `unknown-pdu-type` and `huge-pdu-length` (sends nothing and
//!   keeps the connection open for the whole 10 s wait). Everything else passes.

use std::time::Duration;

use dimse_tests::{
    dimse, free_port, require_peer, run, start_dcmtk_storescp, start_pynetdicom_storescp, temp_dir,
    Peer, RunOutput, Server,
};

/// The scenarios `dimse conform` runs, in report order (dimse-conformance's `SCENARIOS`).
const SCENARIOS: &[&str] = &[
    "echo",
    "unknown-abstract-syntax",
    "unknown-transfer-syntax",
    "unknown-user-info-sub-item",
    "protocol-version-0",
    "unknown-pdu-type",
    "huge-pdu-length",
    "command-in-8-byte-pdus",
    "command-in-3-pdvs",
    "abort-after-associate",
    "async-window",
    "user-identity",
    "abort-before-associate",
    "p-data-before-associate",
    "second-associate-rq",
    "malformed-context-item",
    "transfer-syntax-from-proposal",
    "role-selection",
];

/// Two scenarios can each wait out the 10 s bound; well above the worst case.
const RUN_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs `dimse conform` against 127.0.0.1:`port`, prints the report and checks its shape.
fn conform(port: u16, aec: &str) -> RunOutput {
    let out = run(
        dimse(["conform", "--aec", aec, "127.0.0.1", &port.to_string()]),
        RUN_TIMEOUT,
    );
    println!("{}", out.stdout);
    // A failed scenario's PDU trace follows its line, indented.
    let lines: Vec<&str> = out.stdout.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(lines.len(), SCENARIOS.len() + 1, "{}", out.all());
    for (line, s) in lines.iter().zip(SCENARIOS) {
        assert!(
            line.starts_with(&format!("PASS {s}:")) || line.starts_with(&format!("FAIL {s}:")),
            "{line}"
        );
    }
    out
}

fn verdict<'a>(out: &'a RunOutput, name: &str) -> &'a str {
    out.stdout
        .lines()
        .find(|l| {
            l.get(5..)
                .is_some_and(|rest| rest.starts_with(&format!("{name}:")))
        })
        .and_then(|l| l.get(..4))
        .unwrap_or_else(|| panic!("no line for {name}:\n{}", out.stdout))
}

fn assert_verdicts(out: &RunOutput, failing: &[&str]) {
    for s in SCENARIOS {
        let want = if failing.contains(s) { "FAIL" } else { "PASS" };
        assert_eq!(verdict(out, s), want, "{s}:\n{}", out.stdout);
    }
    let passed = SCENARIOS.len() - failing.len();
    let last = out.stdout.lines().last().unwrap();
    assert_eq!(
        last,
        format!("conform: {passed} passed, {} failed", failing.len())
    );
    assert_eq!(out.status.success(), failing.is_empty(), "{}", out.all());
}

#[test]
fn conform_against_dcmtk_storescp() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dir = temp_dir("conform_dcmtk");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, "STORESCP", dir.path());
    let out = conform(port, "STORESCP");
    assert_verdicts(&out, &["unknown-abstract-syntax", "malformed-context-item"]);
    server.assert_running();
}

#[test]
fn conform_against_pynetdicom_storescp() {
    let storescp = require_peer!(Peer::Pynetdicom("storescp"));
    let dir = temp_dir("conform_pynetdicom");
    let port = free_port();
    let mut server = start_pynetdicom_storescp(&storescp, port, "STORESCP", dir.path());
    let out = conform(port, "STORESCP");
    assert_verdicts(
        &out,
        &[
            "unknown-user-info-sub-item",
            "unknown-pdu-type",
            "huge-pdu-length",
        ],
    );
    server.assert_running();
}

/// The report options against DCMTK storescp: `--list` names every scenario, `--scenario`
/// picks by name and glob (a pattern matching nothing is a usage error), `--format json`
/// gives a record per scenario with its time, `--format junit` a JUnit document in which the
/// failed scenario carries the PDU trace that led to it.
#[test]
fn conform_report_formats_and_selection() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let listed = run(dimse(["conform", "--list"]), RUN_TIMEOUT);
    listed.assert_success("dimse conform --list");
    assert_eq!(listed.stdout.lines().collect::<Vec<_>>(), SCENARIOS);
    let none = run(
        dimse(["conform", "--scenario", "no-such-*", "127.0.0.1", "1"]),
        RUN_TIMEOUT,
    );
    assert_eq!(none.status.code(), Some(1), "{}", none.all());
    assert!(
        none.stderr.contains("matches no scenario"),
        "{}",
        none.all()
    );

    let dir = temp_dir("conform_formats");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, "STORESCP", dir.path());
    let conform = |format: &str| {
        let mut cmd = dimse(["conform", "--aec", "STORESCP", "--format", format]);
        cmd.args(["--scenario", "echo", "--scenario", "unknown-*-syntax"])
            .args(["127.0.0.1", &port.to_string()]);
        run(cmd, RUN_TIMEOUT)
    };

    let json = conform("json");
    let records: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let names: Vec<&str> = records
        .iter()
        .filter_map(|r| r["scenario"].as_str())
        .collect();
    assert_eq!(
        names,
        ["echo", "unknown-abstract-syntax", "unknown-transfer-syntax"],
        "{}",
        json.all()
    );
    for r in &records[..3] {
        assert!(r["ms"].is_u64() && r["trace"].is_array(), "{r}");
        assert_eq!(
            r["passed"],
            r["scenario"] != "unknown-abstract-syntax",
            "{r}"
        );
    }
    assert_eq!(records[3]["summary"]["failed"], 1, "{}", json.all());
    assert_eq!(json.status.code(), Some(1), "{}", json.all());

    let junit = conform("junit").stdout;
    assert!(junit.starts_with("<?xml"), "{junit}");
    assert!(
        junit.contains("<testsuite name=\"dimse conform\" tests=\"3\" failures=\"1\""),
        "{junit}"
    );
    assert!(junit.contains("name=\"echo\""), "{junit}");
    let failure = junit
        .split("name=\"unknown-abstract-syntax\"")
        .nth(1)
        .and_then(|rest| rest.split("</failure>").next())
        .unwrap_or_else(|| panic!("no failure element:\n{junit}"));
    assert!(failure.contains("#1 → A-ASSOCIATE-RQ"), "{junit}");
    assert!(failure.contains("#1 ← A-ASSOCIATE-AC"), "{junit}");
    server.assert_running();
}

/// `dimse probe --json` against DCMTK storescp (as the harness starts it: `+xa -pm`) and
/// `dimse serve`: implementation, window, roles and what each accepts, as observed. DCMTK
/// 3.6.7 knows no HTJ2K syntax; `dimse serve` accepts every family for every class (it keeps
/// what arrives, in the requestor's order) and answers the window (16 invoked, 1 performed)
/// and both roles.
#[test]
fn probe_reports_what_dcmtk_and_dimse_serve_accept() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let probe = |aec: &str, port: u16| -> serde_json::Value {
        let out = run(
            dimse([
                "probe",
                "--json",
                "--aec",
                aec,
                "127.0.0.1",
                &port.to_string(),
            ]),
            RUN_TIMEOUT,
        );
        out.assert_success("dimse probe --json");
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.all()))
    };
    let counts = |report: &serde_json::Value| -> Vec<(String, usize)> {
        let storage = report["storage"].as_array().unwrap();
        assert_eq!(storage.len(), 170);
        report["families"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let name = f["name"].as_str().unwrap().to_string();
                let n = storage
                    .iter()
                    .filter(|c| !c["accepted"][&name].is_null())
                    .count();
                (name, n)
            })
            .collect()
    };
    let service = |report: &serde_json::Value, name: &str| -> bool {
        let s = report["services"].as_array().unwrap();
        let entry = s.iter().find(|s| s["name"] == name).unwrap();
        !entry["transfer_syntax"].is_null()
    };

    let dir = temp_dir("probe_dcmtk");
    let port = free_port();
    let mut server = start_dcmtk_storescp(&storescp, port, "STORESCP", dir.path());
    let dcmtk = probe("STORESCP", port);
    assert!(
        dcmtk["implementation_class_uid"]
            .as_str()
            .is_some_and(|u| u.starts_with("1.2.276.0.7230010.3")),
        "{dcmtk}"
    );
    assert_eq!(dcmtk["max_pdu"], 16384, "{dcmtk}");
    assert!(dcmtk["async_window"].is_null(), "{dcmtk}");
    for (family, n) in counts(&dcmtk) {
        let want = if family == "htj2k" { 0 } else { 170 };
        assert_eq!(n, want, "{family}");
    }
    assert!(service(&dcmtk, "Verification"));
    assert!(!service(&dcmtk, "Study Root Q/R FIND"));
    server.assert_running();

    let archive = temp_dir("probe_serve");
    let port = free_port();
    let mut serve = dimse_tests::start_dimse_serve(port, "ARCHIVE", archive.path());
    let ours = probe("ARCHIVE", port);
    assert_eq!(ours["implementation_version_name"], "DIMSE_0.1", "{ours}");
    assert_eq!(ours["async_window"]["invoked"], 16, "{ours}");
    assert_eq!(ours["async_window"]["performed"], 1, "{ours}");
    assert_eq!(ours["roles"]["scp"], true, "{ours}");
    assert_eq!(ours["user_identity"]["result"], "ignored", "{ours}");
    assert!(counts(&ours).iter().all(|(_, n)| *n == 170), "{ours}");
    for name in [
        "Verification",
        "Storage Commitment Push Model",
        "Study Root Q/R GET",
    ] {
        assert!(service(&ours, name), "{name}");
    }
    assert!(!service(&ours, "Modality Worklist FIND"));
    serve.assert_running();
}

/// DCMTK storescp's acceptance policy as a `-xf` configuration file: four SOP classes, each
/// with its own transfer syntaxes. `dimse probe` must report exactly that policy: each class
/// in the families its syntaxes belong to, with storescp's first choice, and nothing else.
#[test]
fn probe_reports_exactly_a_dcmtk_configured_policy() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dir = temp_dir("probe_policy");
    let config = dir.path().join("policy.cfg");
    std::fs::write(
        &config,
        "[[TransferSyntaxes]]\n\
         [Uncompressed]\nTransferSyntax1 = LocalEndianExplicit\nTransferSyntax2 = LittleEndianImplicit\n\
         [JPEGOrExplicit]\nTransferSyntax1 = JPEGBaseline\nTransferSyntax2 = LocalEndianExplicit\n\
         [ImplicitOnly]\nTransferSyntax1 = LittleEndianImplicit\n\
         [[PresentationContexts]]\n\
         [Probed]\n\
         PresentationContext1 = VerificationSOPClass\\Uncompressed\n\
         PresentationContext2 = CTImageStorage\\JPEGOrExplicit\n\
         PresentationContext3 = MRImageStorage\\ImplicitOnly\n\
         PresentationContext4 = SecondaryCaptureImageStorage\\Uncompressed\n\
         [[Profiles]]\n\
         [Probed]\nPresentationContexts = Probed\n",
    )
    .unwrap();
    let port = free_port();
    let mut cmd = storescp.command();
    cmd.arg("-xf")
        .arg(&config)
        .args(["Probed", "-od"])
        .arg(dir.path())
        .arg(port.to_string());
    let mut server = Server::spawn("DCMTK storescp -xf", &mut cmd);
    server.wait_for_port(port, RUN_TIMEOUT);

    let out = run(
        dimse([
            "probe",
            "--json",
            "--aec",
            "ANY",
            "127.0.0.1",
            &port.to_string(),
        ]),
        RUN_TIMEOUT,
    );
    out.assert_success("dimse probe --json");
    let report: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.all()));

    // (SOP class, family, transfer syntax) as the file says, storescp choosing in its order.
    let expected = [
        (
            "1.2.840.10008.5.1.4.1.1.2",
            "uncompressed",
            "1.2.840.10008.1.2.1",
        ),
        (
            "1.2.840.10008.5.1.4.1.1.2",
            "jpeg",
            "1.2.840.10008.1.2.4.50",
        ),
        (
            "1.2.840.10008.5.1.4.1.1.4",
            "uncompressed",
            "1.2.840.10008.1.2",
        ),
        (
            "1.2.840.10008.5.1.4.1.1.7",
            "uncompressed",
            "1.2.840.10008.1.2.1",
        ),
    ];
    let mut found = Vec::new();
    for class in report["storage"].as_array().unwrap() {
        let sop = class["sop_class_uid"].as_str().unwrap();
        for (family, ts) in class["accepted"].as_object().unwrap() {
            if let Some(ts) = ts.as_str() {
                found.push((sop.to_string(), family.clone(), ts.to_string()));
            }
        }
    }
    found.sort();
    let mut want: Vec<_> = expected
        .iter()
        .map(|(s, f, t)| (s.to_string(), f.to_string(), t.to_string()))
        .collect();
    want.sort();
    assert_eq!(found, want, "{}", out.stdout);
    let services: Vec<&str> = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["transfer_syntax"].is_null())
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["Verification"], "{}", out.stdout);
    server.assert_running();
}

/// `dimse conform --scenario-file`: a tester's own scenarios, run against DCMTK storescp and
/// `dimse serve`. The deliberately failing step fails its scenario, with the step named and
/// the PDU trace in the JUnit failure; the others pass; a broken file is refused by name.
#[test]
fn scenario_files_run_and_a_failing_step_shows_its_trace() {
    let storescp = require_peer!(Peer::Dcmtk("storescp"));
    let dir = temp_dir("scenario_file");
    let file = dir.path().join("mine.toml");
    std::fs::write(
        &file,
        r#"
[[scenario]]
name = "mine-echo"
[[scenario.step]]
send = "associate-rq"
[[scenario.step]]
expect = "associate-ac"
accepted = [1]
[[scenario.step]]
send = "p-data"
pdvs = [{ context = 1, message = "c-echo-rq", message_id = 3 }]
[[scenario.step]]
expect = "p-data"
command = "C-ECHO-RSP"
status = 0
[[scenario.step]]
send = "release-rq"
[[scenario.step]]
expect = "release-rp"

[[scenario]]
name = "mine-wrong-length"
[[scenario.step]]
send = "release-rq"
length = 0xFFFFFFFF
[[scenario.step]]
expect = ["abort", "closed"]

[[scenario]]
name = "mine-deliberately-failing"
expected = "a C-STORE-RSP to a C-ECHO-RQ (no SCP sends one)"
[[scenario.step]]
send = "associate-rq"
[[scenario.step]]
expect = "associate-ac"
[[scenario.step]]
send = "p-data"
pdvs = [{ context = 1, message = "c-echo-rq" }]
[[scenario.step]]
expect = "p-data"
command = "C-STORE-RSP"
"#,
    )
    .unwrap();

    let listed = run(
        {
            let mut cmd = dimse(["conform", "--list", "--scenario-file"]);
            cmd.arg(&file);
            cmd
        },
        RUN_TIMEOUT,
    );
    listed.assert_success("dimse conform --list --scenario-file");
    assert_eq!(
        listed.stdout.lines().collect::<Vec<_>>(),
        [
            "mine-echo",
            "mine-wrong-length",
            "mine-deliberately-failing"
        ]
    );

    let port = free_port();
    let mut dcmtk = start_dcmtk_storescp(&storescp, port, "STORESCP", &dir.subdir("dcmtk"));
    let archive = temp_dir("scenario_file_serve");
    let serve_port = free_port();
    let mut serve = dimse_tests::start_dimse_serve(serve_port, "ARCHIVE", archive.path());
    for (aec, port) in [("STORESCP", port), ("ARCHIVE", serve_port)] {
        let mut cmd = dimse([
            "conform",
            "--format",
            "junit",
            "--aec",
            aec,
            "--scenario-file",
        ]);
        cmd.arg(&file).args(["127.0.0.1", &port.to_string()]);
        let out = run(cmd, RUN_TIMEOUT);
        assert!(
            !out.status.success(),
            "{aec}: a failing scenario fails the run"
        );
        let junit = out.stdout.as_str();
        assert!(
            junit.contains(r#"tests="3" failures="1""#),
            "{aec}: {junit}"
        );
        let failure = junit
            .split("<testcase")
            .find(|t| t.contains("mine-deliberately-failing"))
            .unwrap();
        assert!(
            failure.contains("step 4 failed: C-ECHO-RSP, not C-STORE-RSP"),
            "{aec}: {failure}"
        );
        for line in [
            "#1 → A-ASSOCIATE-RQ",
            "#1 ← A-ASSOCIATE-AC",
            "#1 → P-DATA-TF",
            "#1 ← P-DATA-TF",
        ] {
            assert!(failure.contains(line), "{aec}: {line} missing in {failure}");
        }
        for passing in ["mine-echo", "mine-wrong-length"] {
            let case = junit
                .split("<testcase")
                .find(|t| t.contains(passing))
                .unwrap();
            assert!(!case.contains("<failure"), "{aec}: {case}");
        }
    }

    std::fs::write(
        &file,
        "[[scenario]]\nname = 'x'\n[[scenario.step]]\nsend = 'hello'\n",
    )
    .unwrap();
    let mut cmd = dimse(["conform", "--scenario-file"]);
    cmd.arg(&file).args(["127.0.0.1", &port.to_string()]);
    let out = run(cmd, RUN_TIMEOUT);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("mine.toml")
            && out.stderr.contains("step 1")
            && out.stderr.contains("hello"),
        "{}",
        out.stderr
    );
    dcmtk.assert_running();
    serve.assert_running();
}
