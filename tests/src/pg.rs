//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary directory, `pg_ctl`
//! on a free port with trust authentication on 127.0.0.1 only, stopped (`-m immediate`) and
//! deleted on drop.
//!
//! PostgreSQL refuses to run as root, so when the tests run as root (as CI does) the server
//! runs as the `postgres` user the Debian package creates (`runuser -u postgres --`), in a
//! directory given to that user. The binaries are found under `/usr/lib/postgresql/<version>/bin`
//! (Debian keeps them off `PATH`), else through `pg_config --bindir`. Without them a test skips
//! loudly (`SKIPPED: ...` on stderr), and fails when `DIMSE_REQUIRE_PEERS=1` (CI).
//!
//! This file uses nothing but `std`, so that `archive/tests/` can include it too
//! (`#[path = "../../tests/src/pg.rs"] mod pg;`) without depending on this crate.

#![allow(dead_code)]

use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The superuser the cluster is made with; tests connect as it.
pub const PG_USER: &str = "dimse";

/// A running throwaway cluster, stopped and deleted when dropped.
pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// `Some("postgres")` when the server runs as that user (we are root).
    run_as: Option<String>,
}

/// The directory holding `initdb`, `pg_ctl` and `psql`, if PostgreSQL is installed.
pub fn pg_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (out.status.success() && bin.join("initdb").is_file()).then_some(bin)
}

/// Skips (prints `SKIPPED`, returns `None`) or, under `DIMSE_REQUIRE_PEERS=1`, panics.
fn missing(why: &str) -> Option<PgCluster> {
    if std::env::var("DIMSE_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
        panic!("DIMSE_REQUIRE_PEERS=1 but {why} (apt-get install postgresql)");
    }
    let test = std::thread::current().name().unwrap_or("?").to_string();
    eprintln!(
        "\n*** SKIPPED: {test}: {why} (apt-get install postgresql; set DIMSE_REQUIRE_PEERS=1 \
         to make this a failure) ***\n"
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// `(uid, gid)` of `user`, read with `id`.
fn ids_of(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, user]).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().parse().ok())?
    };
    Some((id("-u")?, id("-g")?))
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

#[track_caller]
fn check(what: &str, out: std::io::Result<Output>) -> Output {
    let out = out.unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl PgCluster {
    /// Creates and starts a cluster (`label` names its directory), or `None` when PostgreSQL
    /// is missing and peers are optional. Tests need no durability: it runs with `fsync=off`.
    #[track_caller]
    pub fn start(label: &str) -> Option<PgCluster> {
        PgCluster::start_with(label, &["fsync=off", "full_page_writes=off"])
    }

    /// [`PgCluster::start`] with these `name=value` server settings (`&[]`: PostgreSQL's
    /// defaults, durable, for benchmarks).
    #[track_caller]
    pub fn start_with(label: &str, settings: &[&str]) -> Option<PgCluster> {
        let Some(bin) = pg_bin_dir() else {
            return missing("PostgreSQL (initdb, pg_ctl) not found");
        };
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        let run_as = if root {
            if ids_of("postgres").is_none() {
                return missing("running as root and there is no `postgres` user to run it as");
            }
            Some("postgres".to_string())
        } else {
            None
        };
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dimse-pg-{}-{}-{label}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the cluster's directory");
        let data = dir.join("data");
        if let Some(user) = &run_as {
            let (uid, gid) = ids_of(user).expect("checked above");
            chown_tree(&dir, uid, gid);
        }
        let mut cluster = PgCluster {
            bin,
            dir,
            data,
            port: 0,
            run_as,
        };
        let data = cluster.data.display().to_string();
        check(
            "initdb",
            cluster
                .server_command("initdb")
                .args(["-D", &data, "-U", PG_USER, "-A", "trust", "-E", "UTF8"])
                .args(["--locale=C", "--no-sync"])
                .output(),
        );
        // A free port may be taken between our look and the server's bind: try a few.
        for attempt in 0.. {
            cluster.port = free_port();
            let mut options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
                cluster.port,
                cluster.dir.display()
            );
            for setting in settings {
                options += &format!(" -c {setting}");
            }
            let log = cluster.dir.join("server.log").display().to_string();
            let out = cluster
                .server_command("pg_ctl")
                .args([
                    "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start",
                ])
                .output();
            match out {
                Ok(o) if o.status.success() => break,
                _ if attempt < 3 => continue,
                out => {
                    let log =
                        std::fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default();
                    check("pg_ctl start", out);
                    panic!("pg_ctl start failed:\n{log}");
                }
            }
        }
        Some(cluster)
    }

    /// A command running a server binary as the server's user.
    fn server_command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        };
        cmd.current_dir(&self.dir).stdin(Stdio::null());
        cmd
    }

    /// The URL of database `db`: `postgres://dimse@127.0.0.1:PORT/db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{PG_USER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `name` and returns its URL.
    #[track_caller]
    pub fn create_database(&self, name: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
        self.url(name)
    }

    /// Runs `sql` in database `db` with `psql` and returns its unaligned, tuples-only output.
    #[track_caller]
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = check(
            &format!("psql {sql:?}"),
            Command::new(self.bin.join("psql"))
                .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"])
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-U", PG_USER, "-d", db, "-c", sql])
                .stdin(Stdio::null())
                .output(),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = self
            .server_command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "-t", "30", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
