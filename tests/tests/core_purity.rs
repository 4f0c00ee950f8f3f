//! The core stays sans-IO: no runtime crates in its dependency tree, no sockets, threads or
//! clock reads in its sources.

use std::path::{Path, PathBuf};
use std::process::Command;

use dimse_tests::workspace_dir;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_sources_use_no_io_threads_or_clock() {
    let mut files = Vec::new();
    rust_files(&workspace_dir().join("core/src"), &mut files);
    assert!(files.len() > 5, "core sources not found");
    let forbidden = [
        "std::net",
        "std::thread",
        "Instant::now",
        "SystemTime",
        "std::fs",
    ];
    let mut hits = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            // Doc examples are the caller's code, built into doctest binaries: a caller
            // reading its clock to hand the core `now` is the design, not a breach of it.
            let doc = line.trim_start();
            if doc.starts_with("///") || doc.starts_with("//!") {
                continue;
            }
            for word in forbidden {
                if line.contains(word) {
                    hits.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "the core must stay pure:\n{}",
        hits.join("\n")
    );
}

#[test]
fn core_depends_on_no_runtime() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "dimse-core",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(workspace_dir())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    for name in ["tokio", "smol", "async-std", "async-io", "mio"] {
        assert!(
            !tree
                .lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "dimse-core depends on {name}:\n{tree}"
        );
    }
    assert!(
        tree.contains("nom"),
        "cargo tree output unexpected:\n{tree}"
    );
}
