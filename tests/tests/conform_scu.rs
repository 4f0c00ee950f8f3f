//! `dimse conform --scu -- COMMAND` against real SCUs: DCMTK's echoscu, storescu and findscu,
//! pynetdicom's, and dimse's own echo, store and find.
//!
//! Each run writes JUnit XML; the test parses it, checks every scenario ran once, and compares
//! the failed ones with `conformance/scu-expected-failures.txt` (third-party SCUs) or with
//! nothing at all (dimse): a new failure fails the test, and so does a listed one that passes.

use std::collections::BTreeSet;
use std::time::Duration;

use dimse_conformance::{expected_scu_failures, SCU_COMMAND_SCENARIOS};
use dimse_tests::{corpus_dir, dimse, dimse_bin, require_peer, run, Peer, PeerPath};

/// Fifteen scenarios, two of which wait out the SCU's 2 s timeout, a few the 3 s of
/// pynetdicom's network timeout: well above the worst case.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// One scenario's line in the JUnit report.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Passed,
    Failed,
    Skipped,
}

/// The `<testcase>`s of a JUnit document: name and verdict, in order.
fn testcases(xml: &str) -> Vec<(String, Verdict)> {
    xml.split("<testcase ")
        .skip(1)
        .map(|case| {
            let name = case
                .split(" name=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("a testcase has a name")
                .to_string();
            // A case ends at `/>` (passed) or `</testcase>` (with a failure or skipped inside).
            let body = case.split("</testcase>").next().unwrap_or(case);
            let verdict = if body.contains("<failure") {
                Verdict::Failed
            } else if body.contains("<skipped") {
                Verdict::Skipped
            } else {
                Verdict::Passed
            };
            (name, verdict)
        })
        .collect()
}

/// The value of attribute `name` on the `<testsuite>` element.
fn suite_count(xml: &str, name: &str) -> usize {
    let suite = xml.split("<testsuite ").nth(1).expect("a testsuite");
    suite
        .split(&format!(" {name}=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name} count in:\n{xml}"))
}

/// Runs `dimse conform --scu --format junit -- program args...` and returns the names of the
/// failed scenarios, after checking the report is whole and agrees with itself.
fn conform_scu(label: &str, program: &str, args: &[String]) -> BTreeSet<String> {
    let mut cmd = dimse(["conform", "--scu", "--format", "junit", "--"]);
    cmd.arg(program).args(args);
    let out = run(cmd, RUN_TIMEOUT);
    println!("--- {label} ---\n{}", out.stdout);
    let cases = testcases(&out.stdout);
    let names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    let all: Vec<&str> = SCU_COMMAND_SCENARIOS.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        all,
        "{label}: every scenario once, in order\n{}",
        out.all()
    );
    let count = |v: Verdict| cases.iter().filter(|(_, c)| *c == v).count();
    let failed = count(Verdict::Failed);
    assert_eq!(suite_count(&out.stdout, "tests"), cases.len(), "{label}");
    assert_eq!(suite_count(&out.stdout, "failures"), failed, "{label}");
    assert_eq!(
        suite_count(&out.stdout, "skipped"),
        count(Verdict::Skipped),
        "{label}"
    );
    assert_eq!(out.status.success(), failed == 0, "{label}: exit status");
    cases
        .into_iter()
        .filter(|(_, v)| *v == Verdict::Failed)
        .map(|(n, _)| n)
        .collect()
}

/// Runs a third-party SCU and checks its failures are exactly the listed ones.
fn third_party(label: &str, peer: &PeerPath, args: &[&str]) {
    let mut words: Vec<String> = peer.prefix.clone();
    words.extend(args.iter().map(|a| a.to_string()));
    let program = peer.program.to_str().expect("a UTF-8 path");
    let mut failed = conform_scu(label, program, &words);
    let mut listed = BTreeSet::new();
    for (scenario, reason) in expected_scu_failures(label) {
        if reason.starts_with("sometimes:") {
            failed.remove(&scenario);
        } else {
            listed.insert(scenario);
        }
    }
    assert_eq!(
        failed, listed,
        "{label}: failed scenarios (left) against conformance/scu-expected-failures.txt (right)"
    );
}

fn ct_file() -> String {
    corpus_dir().join("CT_small.dcm").display().to_string()
}

const DCMTK_TIMEOUTS: [&str; 6] = ["-to", "{timeout}", "-ta", "{timeout}", "-td", "{timeout}"];
const PYNETDICOM_TIMEOUTS: [&str; 6] = ["-ta", "{timeout}", "-td", "{timeout}", "-tn", "{timeout}"];
const STUDY_QUERY: [&str; 6] = [
    "-k",
    "QueryRetrieveLevel=STUDY",
    "-k",
    "StudyInstanceUID=",
    "-k",
    "PatientName=",
];

#[test]
fn dcmtk_echoscu() {
    let Some(peer) = require_peer(Peer::Dcmtk("echoscu")) else {
        return;
    };
    let args = [
        &["-aec", "{aet}"][..],
        &DCMTK_TIMEOUTS,
        &["{host}", "{port}"],
    ]
    .concat();
    third_party("dcmtk-echoscu", &peer, &args);
}

#[test]
fn dcmtk_storescu() {
    let Some(peer) = require_peer(Peer::Dcmtk("storescu")) else {
        return;
    };
    let file = ct_file();
    let args = [
        &["-aec", "{aet}"][..],
        &DCMTK_TIMEOUTS,
        &["{host}", "{port}", &file],
    ]
    .concat();
    third_party("dcmtk-storescu", &peer, &args);
}

#[test]
fn dcmtk_findscu() {
    let Some(peer) = require_peer(Peer::Dcmtk("findscu")) else {
        return;
    };
    let args = [
        &["-S", "-aec", "{aet}"][..],
        &DCMTK_TIMEOUTS,
        &STUDY_QUERY,
        &["{host}", "{port}"],
    ]
    .concat();
    third_party("dcmtk-findscu", &peer, &args);
}

#[test]
fn pynetdicom_echoscu() {
    let Some(peer) = require_peer(Peer::Pynetdicom("echoscu")) else {
        return;
    };
    let args = [
        &["{host}", "{port}", "-aec", "{aet}"][..],
        &PYNETDICOM_TIMEOUTS,
    ]
    .concat();
    third_party("pynetdicom-echoscu", &peer, &args);
}

#[test]
fn pynetdicom_storescu() {
    let Some(peer) = require_peer(Peer::Pynetdicom("storescu")) else {
        return;
    };
    let file = ct_file();
    let args = [
        &["{host}", "{port}", &file, "-aec", "{aet}"][..],
        &PYNETDICOM_TIMEOUTS,
    ]
    .concat();
    third_party("pynetdicom-storescu", &peer, &args);
}

#[test]
fn pynetdicom_findscu() {
    let Some(peer) = require_peer(Peer::Pynetdicom("findscu")) else {
        return;
    };
    let args = [
        &["{host}", "{port}", "-S", "-aec", "{aet}"][..],
        &PYNETDICOM_TIMEOUTS,
        &STUDY_QUERY,
    ]
    .concat();
    third_party("pynetdicom-findscu", &peer, &args);
}

/// dimse's own SCUs pass every scenario that applies to them.
#[test]
fn dimse_scus_fail_nothing() {
    let common = [
        "--aec",
        "{aet}",
        "--acse-timeout",
        "{timeout}",
        "--dimse-timeout",
        "{timeout}",
        "{host}",
        "{port}",
    ];
    let file = ct_file();
    let study = ["--model", "study"];
    for (label, command, extra) in [
        ("dimse echo", "echo", &[][..]),
        ("dimse store", "store", &[file.as_str()][..]),
        (
            "dimse find",
            "find",
            &[&study[..], &STUDY_QUERY[..]].concat()[..],
        ),
    ] {
        let args: Vec<String> = [&[command][..], &common, extra]
            .concat()
            .into_iter()
            .map(String::from)
            .collect();
        let failed = conform_scu(label, dimse_bin().to_str().unwrap(), &args);
        assert!(failed.is_empty(), "{label} failed {failed:?}");
    }
}

#[test]
fn junit_parsing() {
    let xml = "<testsuite name=\"x\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\">\n\
               <testcase classname=\"x\" name=\"a\" time=\"0.1\"/>\n\
               <testcase classname=\"x\" name=\"b\" time=\"0.1\">\n<failure message=\"m\">t</failure>\n</testcase>\n\
               <testcase classname=\"x\" name=\"c\" time=\"0.1\">\n<skipped message=\"n\"/>\n</testcase>\n";
    assert_eq!(
        testcases(xml),
        vec![
            ("a".to_string(), Verdict::Passed),
            ("b".to_string(), Verdict::Failed),
            ("c".to_string(), Verdict::Skipped)
        ]
    );
    assert_eq!(suite_count(xml, "failures"), 1);
    assert_eq!(suite_count(xml, "skipped"), 1);
}

/// A scenario file playing the SCP (`role = "scp"`) for an SCU under test: the steps answer
/// what the SCU sends (an A-ASSOCIATE-AC built from its request, a response to its request
/// with a chosen status) and the exit status is judged. dimse's echo passes all three; DCMTK's
/// echoscu exits 0 after a Failure status, as `scu-failure-status` records for it.
#[test]
fn scenario_file_playing_the_scp() {
    let echoscu = require_peer!(Peer::Dcmtk("echoscu"));
    let dir = dimse_tests::temp_dir("scu_scenario_file");
    let file = dir.path().join("scu.toml");
    std::fs::write(
        &file,
        r#"
[[scenario]]
name = "file-echo"
role = "scp"
exit = "zero"
[[scenario.step]]
expect = "associate-rq"
[[scenario.step]]
send = "associate-ac"
max_pdu = 16384
[[scenario.step]]
expect = "p-data"
command = "C-ECHO-RQ"
[[scenario.step]]
send = "p-data"
pdvs = [{ message = "response", status = 0 }]
[[scenario.step]]
expect = "release-rq"
[[scenario.step]]
send = "release-rp"

[[scenario]]
name = "file-failure-status"
role = "scp"
exit = "non-zero"
[[scenario.step]]
expect = "associate-rq"
[[scenario.step]]
send = "associate-ac"
[[scenario.step]]
expect = "p-data"
command = "C-ECHO-RQ"
[[scenario.step]]
send = "p-data"
pdvs = [{ message = "response", status = 0x0110 }]
[[scenario.step]]
expect = "release-rq"
[[scenario.step]]
send = "release-rp"

[[scenario]]
name = "file-rejected"
role = "scp"
exit = "non-zero"
[[scenario.step]]
expect = "associate-rq"
[[scenario.step]]
send = "associate-rj"
result = 2
source = 3
reason = 1
[[scenario.step]]
expect = "closed"
"#,
    )
    .unwrap();
    let judge = |program: &str, args: &[&str]| -> Vec<(String, Verdict)> {
        let mut cmd = dimse(["conform", "--format", "junit", "--scu", "--scenario-file"]);
        cmd.arg(&file).arg("--").arg(program).args(args);
        let out = run(cmd, RUN_TIMEOUT);
        testcases(&out.stdout)
    };
    let ours = judge(
        dimse_bin().to_str().unwrap(),
        &["echo", "--aec", "{aet}", "{host}", "{port}"],
    );
    assert_eq!(
        ours,
        [
            ("file-echo".to_string(), Verdict::Passed),
            ("file-failure-status".to_string(), Verdict::Passed),
            ("file-rejected".to_string(), Verdict::Passed),
        ]
    );
    let theirs = judge(
        echoscu.program.to_str().unwrap(),
        &["-aec", "{aet}", "{host}", "{port}"],
    );
    assert_eq!(
        theirs,
        [
            ("file-echo".to_string(), Verdict::Passed),
            ("file-failure-status".to_string(), Verdict::Failed),
            ("file-rejected".to_string(), Verdict::Passed),
        ]
    );
}
