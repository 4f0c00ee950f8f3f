//! Modality Worklist C-FIND: `dimse find --model worklist` against DCMTK's wlmscpfs serving
//! the worklist in tests/peers/worklist, compared with what DCMTK findscu gets for the same
//! query.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use dimse_tests::*;

const WL_AET: &str = "OFFIS";

/// Our worklist items (text dumps), converted with dump2dcm into wlmscpfs's layout.
fn build_worklist(dump2dcm: &PeerPath, dir: &Path) -> usize {
    let examples = workspace_dir().join("tests/peers/worklist");
    let db = dir.join(WL_AET);
    std::fs::create_dir_all(&db).unwrap();
    std::fs::write(db.join("lockfile"), b"").unwrap();
    let mut n = 0;
    for entry in std::fs::read_dir(examples).expect("tests/peers/worklist") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "dump") {
            let out = db.join(path.file_stem().unwrap()).with_extension("wl");
            let mut cmd = dump2dcm.command();
            cmd.arg(&path).arg(&out);
            run(&mut cmd, Duration::from_secs(20)).assert_success("dump2dcm");
            n += 1;
        }
    }
    n
}

#[test]
fn dimse_worklist_find_matches_dcmtk_findscu() {
    let wlmscpfs = require_peer!(Peer::Dcmtk("wlmscpfs"));
    let dump2dcm = require_peer!(Peer::Dcmtk("dump2dcm"));
    let findscu = require_peer!(Peer::Dcmtk("findscu"));
    let tmp = temp_dir("worklist");
    assert_eq!(build_worklist(&dump2dcm, tmp.path()), 4);
    let port = free_port();
    let mut cmd = wlmscpfs.command();
    cmd.arg("-dfp").arg(tmp.path()).arg(port.to_string());
    let mut server = Server::spawn("DCMTK wlmscpfs", &mut cmd);
    server.wait_for_port(port, Duration::from_secs(20));

    for name in ["*", "ALPHA*"] {
        let out = run(
            dimse(["find", "--aec", WL_AET, "--model", "worklist", "--json"])
                .args(["-k", "PatientID", "-k", &format!("PatientName={name}")])
                .args(["-k", "ScheduledProcedureStepSequence"])
                .args(["127.0.0.1", &port.to_string()]),
            Duration::from_secs(30),
        );
        out.assert_success("dimse find --model worklist");
        let ours: Vec<String> = out
            .stdout
            .split("\"00100020\":{\"vr\":\"LO\",\"Value\":[\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect();

        let mut cmd = findscu.command();
        cmd.args(["-v", "-W", "-aec", WL_AET, "-k", "PatientID", "-k"])
            .arg(format!("PatientName={name}"))
            .args(["-k", "ScheduledProcedureStepSequence"])
            .args(["127.0.0.1", &port.to_string()]);
        let theirs_out = run(&mut cmd, Duration::from_secs(30));
        theirs_out.assert_success("DCMTK findscu -W");
        let theirs: Vec<String> = theirs_out
            .all()
            .lines()
            .filter(|l| l.contains("(0010,0020) LO ["))
            .map(|l| {
                l.split('[')
                    .nth(1)
                    .unwrap()
                    .split(']')
                    .next()
                    .unwrap()
                    .trim()
                    .to_string()
            })
            .collect();
        assert!(
            !ours.is_empty(),
            "no worklist matches for {name}:\n{}",
            out.all()
        );
        assert_eq!(ours.len(), theirs.len(), "match counts differ for {name}");
        assert_eq!(
            ours.iter().collect::<BTreeSet<_>>(),
            theirs.iter().collect::<BTreeSet<_>>()
        );
        let expected: &[&str] = if name == "*" {
            &["PID1", "PID1", "PID2", "PID3"]
        } else {
            &["PID1", "PID1"]
        };
        let mut sorted = ours.clone();
        sorted.sort();
        assert_eq!(sorted, expected, "worklist matches for {name}");
    }
}
