//! `dimse serve`'s fault options, as a developer testing an SCU uses them.

use std::time::Duration;

use dimse_tests::{corpus_dir, dimse, free_port, require_peer, run, temp_dir, Peer, Server};

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn dcm_files_under(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| e.path())
        .map(|p| {
            if p.is_dir() {
                dcm_files_under(&p)
            } else {
                usize::from(p.extension().is_some_and(|x| x == "dcm"))
            }
        })
        .sum()
}

/// `--store-status 0xA700`: the SCU is told, nothing is stored. `--store-status 0xB000`: the
/// SCU gets the warning and the instance is in the archive.
#[test]
fn store_status_answers_every_c_store() {
    let tmp = temp_dir("serve_faults");
    let file = corpus_dir().join("CT_small.dcm");
    for (status, stored) in [("0xA700", false), ("0xB000", true)] {
        let dir = tmp.subdir(status);
        let port = free_port();
        let mut cmd = dimse(["serve", "--aet", "FAULTY", "--port", &port.to_string()]);
        cmd.args(["--store-status", status, "--dir"]).arg(&dir);
        let mut server = Server::spawn("dimse serve --store-status", &mut cmd);
        server.wait_for_output("listening on", READY_TIMEOUT);

        let mut store = dimse(["store", "--aec", "FAULTY", "127.0.0.1", &port.to_string()]);
        store.arg(&file);
        let out = run(store, RUN_TIMEOUT);
        let text = out.all();
        if stored {
            out.assert_success("dimse store into --store-status 0xB000");
            assert!(text.contains("with warning 0xB000"), "{text}");
            assert_eq!(dcm_files_under(&dir), 1, "{text}");
        } else {
            assert!(!out.status.success(), "{text}");
            assert!(
                text.contains("refused") && text.contains("0xA700"),
                "{text}"
            );
            assert_eq!(dcm_files_under(&dir), 0, "a refused instance is not kept");
        }
        assert!(
            server.output().contains("--store-status"),
            "serve says it is answering with a fault:\n{}",
            server.output()
        );
        server.assert_running();
    }
}

#[test]
fn store_status_must_be_a_final_status() {
    let out = run(
        dimse(["serve", "--store-status", "0xFF00", "--port", "1"]),
        RUN_TIMEOUT,
    );
    assert!(!out.status.success());
    assert!(out.stderr.contains("--store-status"), "{}", out.stderr);
}

fn serve_with(dir: &std::path::Path, fault: &[&str]) -> (Server, u16) {
    let port = free_port();
    let mut cmd = dimse(["serve", "--aet", "FAULTY", "--port", &port.to_string()]);
    cmd.args(fault).arg("--dir").arg(dir);
    let mut server = Server::spawn(&format!("dimse serve {}", fault.join(" ")), &mut cmd);
    server.wait_for_output("listening on", READY_TIMEOUT);
    (server, port)
}

/// `--refuse-association`: every A-ASSOCIATE-RQ gets the chosen A-ASSOCIATE-RJ, transient or
/// permanent, as dimse's and DCMTK's echoscu report it.
#[test]
fn refuse_association_rejects_with_the_chosen_reason() {
    let tmp = temp_dir("serve_refuse");
    let echoscu = require_peer(Peer::Dcmtk("echoscu"));
    for (reason, transient, dcmtk_says) in [
        ("congestion", true, "Rejected Transient"),
        ("calling-ae", false, "Rejected Permanent"),
        ("1/1/7", false, "Rejected Permanent"),
    ] {
        let (mut server, port) = serve_with(&tmp.subdir(reason), &["--refuse-association", reason]);
        let out = run(
            dimse(["echo", "--aec", "FAULTY", "127.0.0.1", &port.to_string()]),
            RUN_TIMEOUT,
        );
        let text = out.all().to_lowercase();
        assert!(!out.status.success(), "{reason}: {text}");
        assert!(text.contains("reject"), "{reason}: {text}");
        assert_eq!(text.contains("transient"), transient, "{reason}: {text}");
        if let Some(echoscu) = &echoscu {
            let mut cmd = echoscu.command();
            cmd.args(["-aec", "FAULTY", "127.0.0.1", &port.to_string()]);
            let out = run(cmd, RUN_TIMEOUT);
            assert!(!out.status.success(), "{reason}: {}", out.all());
            assert!(out.all().contains(dcmtk_says), "{reason}: {}", out.all());
        }
        assert!(
            server.output().contains("--refuse-association"),
            "{}",
            server.output()
        );
        server.assert_running();
    }
}

/// `--abort-after 2`: the first C-STORE is answered and kept, the second ends in an A-ABORT
/// and is not kept; the next association starts counting afresh.
#[test]
fn abort_after_answers_then_aborts() {
    let tmp = temp_dir("serve_abort_after");
    let dir = tmp.subdir("archive");
    let (mut server, port) = serve_with(&dir, &["--abort-after", "2"]);
    let files: Vec<_> = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"]
        .iter()
        .map(|f| corpus_dir().join(f))
        .collect();
    let mut store = dimse(["store", "--aec", "FAULTY", "127.0.0.1", &port.to_string()]);
    store.args(&files);
    let out = run(store, RUN_TIMEOUT);
    let text = out.all();
    assert!(!out.status.success(), "{text}");
    assert!(text.to_lowercase().contains("abort"), "{text}");
    assert_eq!(
        dcm_files_under(&dir),
        1,
        "only the answered instance is kept: {text}"
    );

    // A fresh association: one request is answered again.
    let mut store = dimse(["store", "--aec", "FAULTY", "127.0.0.1", &port.to_string()]);
    store.arg(&files[2]);
    run(store, RUN_TIMEOUT).assert_success("one C-STORE under --abort-after 2");
    assert_eq!(dcm_files_under(&dir), 2);
    assert!(
        server.output().contains("--abort-after"),
        "{}",
        server.output()
    );
    server.assert_running();
}

/// `--delay-response`: an SCU with a shorter DIMSE timeout gives up (and aborts); one with a
/// longer one gets its answer.
#[test]
fn delay_response_outlasts_a_short_dimse_timeout() {
    let tmp = temp_dir("serve_delay");
    let (mut server, port) = serve_with(&tmp.subdir("archive"), &["--delay-response", "2.5"]);
    let echo = |timeout: &str| {
        run(
            dimse([
                "echo",
                "--aec",
                "FAULTY",
                "--dimse-timeout",
                timeout,
                "127.0.0.1",
                &port.to_string(),
            ]),
            RUN_TIMEOUT,
        )
    };
    let out = echo("1");
    assert!(!out.status.success(), "{}", out.all());
    assert!(
        out.all().to_lowercase().contains("timeout")
            || out.all().to_lowercase().contains("timed out"),
        "{}",
        out.all()
    );
    echo("30").assert_success("C-ECHO with a DIMSE timeout longer than the delay");
    assert!(
        server.output().contains("--delay-response"),
        "{}",
        server.output()
    );
    server.assert_running();
}
