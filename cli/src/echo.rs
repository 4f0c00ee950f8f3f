//! `dimse echo`.

use std::process::ExitCode;

use dimse_core::Entity;
use dimse_std::Scu;

use crate::{check_ae, ScuArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let a = args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let peer = Entity::new(&a.aec, &a.host, a.port);
    let status = Scu::new(&a.aet)
        .echo(&peer)
        .map_err(|e| format!("C-ECHO to {peer} failed: {e}"))?;
    if status.is_success() {
        println!("echo: {peer}: success");
        Ok(ExitCode::SUCCESS)
    } else {
        Err(format!("C-ECHO to {peer} answered {status}"))
    }
}
