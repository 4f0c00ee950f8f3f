//! `dimse serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use dimse_std::{DirectoryStore, Scp};

use crate::check_ae;

#[derive(clap::Args)]
pub struct Args {
    /// Our AE title; associations must call it.
    #[arg(long, default_value = "DIMSE")]
    aet: String,
    /// TCP port to listen on.
    #[arg(long, default_value_t = 11112)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    bind: String,
    /// Directory received instances are written to.
    #[arg(long, default_value = "./dimse-archive")]
    dir: PathBuf,
    /// Accept any called AE title, not only ours.
    #[arg(long)]
    any_called_ae: bool,
    /// Most associations served at once.
    #[arg(long, default_value_t = 64)]
    max_associations: usize,
    /// Make each instance durable (fsync) before answering success.
    #[arg(long)]
    fsync: bool,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    check_ae("--aet", &args.aet)?;
    let mut store = DirectoryStore::new(&args.dir)
        .map_err(|e| format!("cannot create {}: {e}", args.dir.display()))?;
    store.fsync = args.fsync;
    let mut policy = DirectoryStore::policy(&args.aet);
    policy.require_called_ae = !args.any_called_ae;
    let mut scp = Scp::new(policy, store);
    scp.max_associations = args.max_associations;
    let server = scp
        .bind((args.bind.as_str(), args.port))
        .map_err(|e| format!("cannot listen on {}:{}: {e}", args.bind, args.port))?;
    let addr = server.local_addr().map_err(|e| e.to_string())?;
    eprintln!(
        "dimse serve: listening on {addr} as AE {}, storing into {}",
        args.aet,
        args.dir.display()
    );
    server.run();
    Ok(ExitCode::SUCCESS)
}
