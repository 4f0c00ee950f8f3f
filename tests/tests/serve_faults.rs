//! `dimse serve`'s fault options, as a developer testing an SCU uses them.

use std::time::Duration;

use dimse_tests::{corpus_dir, dimse, free_port, run, temp_dir, Server};

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
