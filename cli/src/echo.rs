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
    /// One JSON record on standard output: the status, cycles and time taken.
    #[arg(long)]
    json: bool,
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
    let cycles = args.count.max(1);
    for i in 0..cycles {
        let result = scu.echo(&peer).await;
        let failure = match &result {
            Ok(status) if status.is_success() => None,
            Ok(status) => Some(format!("C-ECHO to {peer} answered {status}")),
            Err(e) => Some(format!("C-ECHO to {peer} failed (cycle {}): {e}", i + 1)),
        };
        if let (true, Some(why)) = (args.json, &failure) {
            let status = result.as_ref().ok().map(|s| format!("0x{:04X}", s.0));
            println!(
                "{}",
                serde_json::json!({"peer": peer.to_string(), "result": "failed", "status": status,
                    "cycle": i + 1, "reason": why})
            );
        }
        if let Some(why) = failure {
            return Err(why);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    if args.json {
        println!(
            "{}",
            serde_json::json!({"peer": peer.to_string(), "result": "success", "status": "0x0000",
                "cycles": cycles, "seconds": secs})
        );
    } else if args.count <= 1 {
        println!("echo: {peer}: success");
    } else {
        println!(
            "{} associations in {secs:.3} s: {:.0} associations/s",
            args.count,
            f64::from(args.count) / secs
        );
    }
    Ok(ExitCode::SUCCESS)
}
