//! `dimse probe`: what a peer accepts, as a table or JSON (see `dimse_conformance::probe`).

use std::process::ExitCode;
use std::time::Duration;

use dimse_conformance::probe::{
    probe, IdentityAnswer, ProbeReport, FAMILIES, PROPOSED_WINDOW, ROLE_CLASS, SERVICES,
};
use dimse_conformance::Target;
use dimse_core::uid::{self, STORAGE_SOP_CLASSES};
use serde_json::json;

use crate::{check_ae, ScuArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    scu: ScuArgs,
    /// Longest wait, in seconds, for each answer.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// The whole report as one JSON object on standard output.
    #[arg(long)]
    json: bool,
    /// Show every storage SOP class, not only the counts per transfer syntax family.
    #[arg(long)]
    all: bool,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let a = &args.scu;
    check_ae("--aet", &a.aet)?;
    check_ae("--aec", &a.aec)?;
    let mut target = Target::new(&a.host, a.port, &a.aet, &a.aec);
    target.timeout = Duration::from_secs(args.timeout.max(1));
    target.tls = a.client_tls()?;
    let report = probe(&target).map_err(|e| {
        format!(
            "{}@{}:{} did not accept the first association: {e}",
            a.aec, a.host, a.port
        )
    })?;
    if args.json {
        println!("{}", as_json(&report));
    } else {
        print!("{}", as_table(&report, args.all));
    }
    Ok(ExitCode::SUCCESS)
}

fn ts_name(ts: &str) -> String {
    match uid::transfer_syntax(ts) {
        Some(t) => format!("{} ({})", t.name, t.uid),
        None => ts.to_string(),
    }
}

fn as_table(r: &ProbeReport, all: bool) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: String| out.push_str(&format!("{label:<22}{value}\n"));
    line(
        "implementation",
        format!(
            "{} {}",
            r.implementation_class_uid
                .as_deref()
                .unwrap_or("(none stated)"),
            r.implementation_version_name.as_deref().unwrap_or("")
        )
        .trim_end()
        .to_string(),
    );
    line(
        "max PDU",
        match r.max_pdu {
            Some(0) => "unlimited".into(),
            Some(n) => format!("{n} bytes"),
            None => "(none stated)".into(),
        },
    );
    line(
        "async window",
        match r.async_window {
            Some((i, p)) => format!(
                "{i} invoked / {p} performed (we proposed {} / {})",
                PROPOSED_WINDOW.0, PROPOSED_WINDOW.1
            ),
            None => "not negotiated: one operation at a time".into(),
        },
    );
    let yes = |b: bool| if b { "yes" } else { "no" };
    line(
        "role selection",
        match r.roles {
            Some((scu, scp)) => format!(
                "{}: we as SCU {}, as SCP {}",
                uid::sop_class_name(ROLE_CLASS).unwrap_or(ROLE_CLASS),
                yes(scu),
                yes(scp)
            ),
            None => "not answered: default roles (we are SCU only)".into(),
        },
    );
    line(
        "user identity",
        match &r.user_identity {
            IdentityAnswer::Confirmed => "accepted, with the response asked for".into(),
            IdentityAnswer::Ignored => {
                "accepted without a response (ignored or not checked)".into()
            }
            IdentityAnswer::Rejected(why) => format!("association refused: {why}"),
            IdentityAnswer::Unknown => "not probed".into(),
        },
    );
    line("associations", r.associations.to_string());
    out.push_str("\nservices\n");
    for ((_, name), ts) in SERVICES.iter().zip(&r.services) {
        let answer = match ts {
            Some(ts) => format!("yes  {}", ts_name(ts)),
            None => "no".into(),
        };
        out.push_str(&format!("  {name:<36}{answer}\n"));
    }
    out.push_str(&format!(
        "\nstorage: {} SOP classes, accepted per transfer syntax family\n",
        STORAGE_SOP_CLASSES.len()
    ));
    for (i, family) in FAMILIES.iter().enumerate() {
        let n = r.storage.iter().filter(|c| c[i].is_some()).count();
        out.push_str(&format!("  {:<14}{n:>4}\n", family.name));
    }
    let none = r
        .storage
        .iter()
        .filter(|c| c.iter().all(Option::is_none))
        .count();
    out.push_str(&format!("  {:<14}{none:>4}\n", "in none"));
    if all {
        out.push_str(&format!("\n  {:<62}", "SOP class"));
        for f in FAMILIES {
            out.push_str(&format!(" {:>12}", f.name));
        }
        out.push('\n');
        for ((_, name), families) in STORAGE_SOP_CLASSES.iter().zip(&r.storage) {
            let name: String = name.chars().take(60).collect();
            out.push_str(&format!("  {name:<62}"));
            for ts in families {
                // The accepted syntax's last component (".50", ".1" for explicit VR LE).
                let mark = match ts {
                    Some(ts) => ts
                        .rsplit('.')
                        .next()
                        .map_or("yes".into(), |t| format!(".{t}")),
                    None => "-".into(),
                };
                out.push_str(&format!(" {mark:>12}"));
            }
            out.push('\n');
        }
    }
    out
}

fn as_json(r: &ProbeReport) -> serde_json::Value {
    let services: Vec<_> = SERVICES
        .iter()
        .zip(&r.services)
        .map(|((sop, name), ts)| json!({"sop_class_uid": sop, "name": name, "transfer_syntax": ts}))
        .collect();
    let storage: Vec<_> = STORAGE_SOP_CLASSES
        .iter()
        .zip(&r.storage)
        .map(|((sop, name), families)| {
            let accepted: serde_json::Map<String, serde_json::Value> = FAMILIES
                .iter()
                .zip(families)
                .map(|(f, ts)| (f.name.to_string(), json!(ts)))
                .collect();
            json!({"sop_class_uid": sop, "name": name, "accepted": accepted})
        })
        .collect();
    let identity = match &r.user_identity {
        IdentityAnswer::Confirmed => json!({"result": "confirmed"}),
        IdentityAnswer::Ignored => json!({"result": "ignored"}),
        IdentityAnswer::Rejected(why) => json!({"result": "rejected", "detail": why}),
        IdentityAnswer::Unknown => json!({"result": "unknown"}),
    };
    json!({
        "implementation_class_uid": r.implementation_class_uid,
        "implementation_version_name": r.implementation_version_name,
        "max_pdu": r.max_pdu,
        "async_window": r.async_window.map(|(i, p)| json!({"invoked": i, "performed": p})),
        "roles": r.roles.map(|(scu, scp)| json!({"sop_class_uid": ROLE_CLASS, "scu": scu, "scp": scp})),
        "user_identity": identity,
        "associations": r.associations,
        "services": services,
        "families": FAMILIES.iter().map(|f| json!({"name": f.name, "transfer_syntaxes": f.syntaxes})).collect::<Vec<_>>(),
        "storage": storage,
    })
}
