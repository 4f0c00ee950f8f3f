//! Faults `dimse serve` commits on request, for developers testing their SCUs (DCMTK's
//! storescp offers the like with `--error-status`, `--refuse`, `--abort-after`). The
//! protocol-level ones live in the driver ([`dimse_driver::Faults`]); the status of C-STORE
//! is the handler's business, so it is a handler wrapper here.

use bytes::Bytes;
use dimse_core::commitment::{CommitmentReport, CommitmentRequest};
use dimse_core::dataset::DataSet;
use dimse_core::dimse::{NEventReportRq, Status};
use dimse_core::pdu::{AssociateRj, RejectReason, Rejection};
use dimse_driver::{
    FindRequest, Handler, Instances, Matches, NRequest, NResponse, Peer, RetrieveRequest,
    StoreRequest, StoreSink,
};

/// A handler answering every C-STORE with `status`: a failure stores nothing; a success or
/// warning stores as `inner` does (its own failure wins, so an acknowledged instance is
/// always on disk). Everything else goes to `inner` unchanged.
pub struct StoreStatus<H> {
    pub inner: H,
    pub status: Status,
}

/// Parses a status as a script writes it: `0xA700`, `A700` or decimal `42752`.
pub fn parse_status(text: &str) -> Result<Status, String> {
    let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    let value = match hex {
        Some(h) => u16::from_str_radix(h, 16),
        None if text.chars().any(|c| c.is_ascii_alphabetic()) => u16::from_str_radix(text, 16),
        None => text.parse(),
    };
    let status = value.map(Status).map_err(|_| {
        format!("{text:?}: expected a 16-bit status such as 0xA700 (hexadecimal with 0x)")
    })?;
    if status.is_pending() || status.is_cancel() {
        return Err(format!(
            "{text:?}: a C-STORE answers with success, a warning or a failure, not {status}"
        ));
    }
    Ok(status)
}

/// The rejections `--refuse-association` names, with their usual permanence.
const REFUSALS: [(&str, Rejection, RejectReason); 8] = [
    ("user", Rejection::Permanent, RejectReason::UserNoReason),
    (
        "app-context",
        Rejection::Permanent,
        RejectReason::ApplicationContextNotSupported,
    ),
    (
        "calling-ae",
        Rejection::Permanent,
        RejectReason::CallingAeNotRecognized,
    ),
    (
        "called-ae",
        Rejection::Permanent,
        RejectReason::CalledAeNotRecognized,
    ),
    ("acse", Rejection::Permanent, RejectReason::AcseNoReason),
    (
        "protocol-version",
        Rejection::Permanent,
        RejectReason::ProtocolVersionNotSupported,
    ),
    (
        "congestion",
        Rejection::Transient,
        RejectReason::TemporaryCongestion,
    ),
    (
        "local-limit",
        Rejection::Transient,
        RejectReason::LocalLimitExceeded,
    ),
];

/// Parses a refusal: a name from [`REFUSALS`] or `RESULT/SOURCE/REASON` numbers (PS3.8
/// Table 9-21), such as `2/3/1`.
pub fn parse_refusal(text: &str) -> Result<AssociateRj, String> {
    if let Some((_, result, reason)) = REFUSALS.iter().find(|(name, ..)| *name == text) {
        return Ok(AssociateRj::new(*result, *reason));
    }
    let numbers: Vec<u8> = text
        .split('/')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| refusal_help(text))?;
    match numbers[..] {
        [result @ (1 | 2), source @ 1..=3, reason] => Ok(AssociateRj {
            result,
            source,
            reason,
        }),
        _ => Err(refusal_help(text)),
    }
}

fn refusal_help(text: &str) -> String {
    let names: Vec<&str> = REFUSALS.iter().map(|(name, ..)| *name).collect();
    format!(
        "{text:?}: expected one of {} or RESULT/SOURCE/REASON (result 1 permanent or 2 transient, source 1-3)",
        names.join(", ")
    )
}

/// A refusal as a log line says it: `rejected-transient 2/3/1 (temporary congestion)`.
pub fn describe_refusal(rj: &AssociateRj) -> String {
    let kind = if rj.is_permanent() {
        "rejected-permanent"
    } else {
        "rejected-transient"
    };
    format!(
        "{kind} {}/{}/{} ({})",
        rj.result,
        rj.source,
        rj.reason,
        rj.reason()
    )
}

/// Parses seconds as a script writes them: `2`, `0.5`.
pub fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{text:?}: expected seconds, such as 2 or 0.5"))
}

impl<H: Handler> Handler for StoreStatus<H> {
    fn echo(&self, peer: &Peer) -> Status {
        self.inner.echo(peer)
    }

    fn store(&self, peer: &Peer, request: &StoreRequest) -> Result<Box<dyn StoreSink>, Status> {
        let inner = self.inner.store(peer, request)?;
        Ok(Box::new(Sink {
            inner,
            status: self.status,
        }))
    }

    fn find(&self, peer: &Peer, request: &FindRequest) -> Result<Matches, Status> {
        self.inner.find(peer, request)
    }

    fn retrieve(&self, peer: &Peer, request: &RetrieveRequest) -> Result<Instances, Status> {
        self.inner.retrieve(peer, request)
    }

    fn commit(&self, peer: &Peer, request: &CommitmentRequest) -> Result<CommitmentReport, Status> {
        self.inner.commit(peer, request)
    }

    fn n_service(&self, peer: &Peer, request: &NRequest) -> NResponse {
        self.inner.n_service(peer, request)
    }

    fn event_report(
        &self,
        peer: &Peer,
        request: &NEventReportRq,
        info: Option<&DataSet>,
    ) -> Status {
        self.inner.event_report(peer, request, info)
    }
}

struct Sink {
    inner: Box<dyn StoreSink>,
    status: Status,
}

impl StoreSink for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.inner.write(data)
    }

    fn write_bytes(&mut self, data: Bytes) -> std::io::Result<()> {
        self.inner.write_bytes(data)
    }

    fn finish(self: Box<Self>) -> Status {
        if !(self.status.is_success() || self.status.is_warning()) {
            self.inner.discard();
            return self.status;
        }
        match self.inner.finish() {
            stored if stored.is_success() => self.status,
            other => other,
        }
    }

    fn discard(self: Box<Self>) {
        self.inner.discard()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_as_scripts_write_them() {
        assert_eq!(parse_status("0xA700"), Ok(Status::OUT_OF_RESOURCES));
        assert_eq!(parse_status("b000"), Ok(Status::SUB_OPERATIONS_WARNING));
        assert_eq!(parse_status("0"), Ok(Status::SUCCESS));
        assert!(parse_status("0xFF00").unwrap_err().contains("not"));
        assert!(parse_status("0x1FFFF").is_err());
        assert!(parse_status("busy").is_err());
    }

    #[test]
    fn refusals_by_name_and_by_number() {
        let rj = parse_refusal("congestion").unwrap();
        assert_eq!((rj.result, rj.source, rj.reason), (2, 3, 1));
        let rj = parse_refusal("called-ae").unwrap();
        assert_eq!((rj.result, rj.source, rj.reason), (1, 1, 7));
        let rj = parse_refusal("2/1/1").unwrap();
        assert_eq!((rj.result, rj.source, rj.reason), (2, 1, 1));
        assert_eq!(
            describe_refusal(&rj),
            format!("rejected-transient 2/1/1 ({})", rj.reason())
        );
        for bad in ["3/1/1", "1/4/1", "1/1", "busy", "1/1/256"] {
            assert!(
                parse_refusal(bad)
                    .unwrap_err()
                    .contains("RESULT/SOURCE/REASON"),
                "{bad}"
            );
        }
        assert_eq!(
            parse_seconds("0.5"),
            Ok(std::time::Duration::from_millis(500))
        );
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
    }
}
