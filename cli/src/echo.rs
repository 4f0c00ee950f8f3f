//! `dimse echo`.

use std::process::ExitCode;
use std::time::Instant;

use dimse_core::Entity;
use dimse_driver::Runtime;

use crate::{check_ae, on_runtime, ScuArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
    /// Run this many associate/echo/release cycles and report the rate.
    #[arg(long, default_value_t = 1)]
    count: u32,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    on_runtime!(args.scu.runtime, run_on(args))
}

async fn run_on<R: Runtime>(args: Args) -> Result<ExitCode, String> {
    let a = args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let peer = Entity::new(&a.aec, &a.host, a.port);
    let scu = a.scu::<R>()?;
    let start = Instant::now();
    for i in 0..args.count.max(1) {
        let status = scu
            .echo(&peer)
            .await
            .map_err(|e| format!("C-ECHO to {peer} failed (cycle {}): {e}", i + 1))?;
        if !status.is_success() {
            return Err(format!("C-ECHO to {peer} answered {status}"));
        }
    }
    if args.count <= 1 {
        println!("echo: {peer}: success");
    } else {
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{} associations in {secs:.3} s: {:.0} associations/s",
            args.count,
            f64::from(args.count) / secs
        );
    }
    Ok(ExitCode::SUCCESS)
}
