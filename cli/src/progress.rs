//! Progress on a terminal (indicatif), nothing of it anywhere else.
//!
//! The bar lives on standard error; the per-item lines and summaries that scripts read go to
//! standard output, printed above the bar so it never tears them.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    failed: usize,
}

impl Progress {
    /// A bar counting `total` items, shown only when standard error is a terminal and not
    /// `quiet`.
    pub fn new(total: usize, quiet: bool) -> Self {
        Self::with_style(total as u64, quiet, "{pos}/{len} {msg}")
    }

    /// A bar for `files` files of `bytes` bytes in all: items, bytes, rate and time left.
    pub fn for_bytes(files: usize, bytes: u64, quiet: bool) -> Self {
        let mut p = Self::with_style(
            bytes,
            quiet,
            "{bytes}/{total_bytes} ({binary_bytes_per_sec}, {eta} left) {msg}",
        );
        p.set_message(&format!("0/{files} files"));
        p
    }

    fn with_style(total: u64, quiet: bool, counts: &str) -> Self {
        let shown = !quiet && std::io::stderr().is_terminal();
        let bar = shown.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let template = format!("[{{elapsed_precise}}] [{{wide_bar}}] {counts}");
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style.progress_chars("#>-"));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress { bar, failed: 0 }
    }

    /// One more item done (`amount` of the total: 1, or its bytes).
    pub fn step(&mut self, ok: bool, amount: u64) {
        self.failed += usize::from(!ok);
        if let Some(bar) = &self.bar {
            bar.inc(amount);
            if self.failed > 0 {
                bar.set_message(format!("{} failed", self.failed));
            }
        }
    }

    /// Where a peer reports counts itself (C-MOVE, C-GET): `done` of the total so far.
    pub fn set(&mut self, done: u64, failed: usize) {
        self.failed = failed;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            if failed > 0 {
                bar.set_message(format!("{failed} failed"));
            }
        }
    }

    pub fn set_message(&mut self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }

    /// A line on standard output, above the bar.
    pub fn outln(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{line}")),
            None => println!("{line}"),
        }
    }

    /// A line on standard error, above the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
