//! A one-line progress display, shown only on a terminal.

use std::io::{IsTerminal, Write};

pub struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    enabled: bool,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        Progress {
            total,
            done: 0,
            failed: 0,
            enabled: std::io::stderr().is_terminal(),
        }
    }

    pub fn step(&mut self, ok: bool) {
        self.set(self.done + 1, self.failed + usize::from(!ok));
    }

    /// Show `done` of the total, `failed` of them failed.
    pub fn set(&mut self, done: usize, failed: usize) {
        self.done = done.min(self.total);
        self.failed = failed;
        if self.enabled {
            const WIDTH: usize = 30;
            let filled = WIDTH * self.done / self.total.max(1);
            eprint!(
                "\r[{}{}] {}/{} ({} failed)",
                "#".repeat(filled),
                " ".repeat(WIDTH - filled),
                self.done,
                self.total,
                self.failed
            );
            let _ = std::io::stderr().flush();
        }
    }

    /// Print a line on standard output without tearing the bar (which is on standard error).
    pub fn outln(&self, line: &str) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
        println!("{line}");
    }

    /// Print a line without tearing the bar.
    pub fn println(&self, line: &str) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
        eprintln!("{line}");
    }

    pub fn finish(&self) {
        if self.enabled {
            eprintln!();
        }
    }
}
