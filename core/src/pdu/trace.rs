//! A readable account of an association's bytes, both directions, PDU by PDU: what
//! `--trace` prints and what `dimse decode` makes of a capture.
//!
//! The tracer is fed the raw byte streams as they pass (in any slicing), finds the PDUs in
//! them itself and remembers what the association negotiated, so that a command set is shown
//! element by element and a data set can be read with its context's transfer syntax. It
//! never fails: bytes it cannot read are reported as such.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bytes::BytesMut;

use super::decode::{decode, peek_header, Limits};
use super::types::{AbortSource, Item, Pdu, Pdv, UserItem};
use crate::dataset::{dictionary, top_level_elements, Tag, Vr};
use crate::dimse::{command_name, tags, CommandSet};
use crate::uid::{self, TransferSyntax};

/// Which way bytes went: from the association's requestor (the side that connected) or to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the requestor to the acceptor; shown as `→`.
    FromRequestor,
    /// From the acceptor to the requestor; shown as `←`.
    FromAcceptor,
}

impl Direction {
    fn arrow(self) -> &'static str {
        match self {
            Direction::FromRequestor => "→",
            Direction::FromAcceptor => "←",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A PDU announcing more than this is reported, not gathered.
const MAX_TRACED_PDU: u32 = 64 << 20;
/// How much of a data set `show_data` decodes.
const MAX_SHOWN_DATA_SET: usize = 1 << 20;
/// Longest value shown on one line.
const MAX_VALUE_CHARS: usize = 64;

/// The tracer of one association (one TCP connection).
///
/// ```
/// use dimse_core::pdu::trace::{Direction, WireTrace};
///
/// let mut trace = WireTrace::new(false);
/// let lines = trace.feed(Direction::FromRequestor, &[0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
/// assert_eq!(lines, ["→ A-RELEASE-RQ"]);
/// // Bytes may arrive in any slicing: nothing is shown until a PDU is whole.
/// assert!(trace.feed(Direction::FromAcceptor, &[0x06, 0, 0, 0]).is_empty());
/// assert_eq!(trace.feed(Direction::FromAcceptor, &[0, 4, 0, 0, 0, 0]), ["← A-RELEASE-RP"]);
/// ```
#[derive(Debug, Default)]
pub struct WireTrace {
    show_data: bool,
    sides: [Side; 2],
    /// Proposed abstract syntaxes and accepted transfer syntaxes, by context ID.
    contexts: BTreeMap<u8, (String, Option<String>)>,
}

#[derive(Debug, Default)]
struct Side {
    pending: BytesMut,
    /// Set once the stream cannot be framed any more: the rest is not DICOM UL.
    lost: bool,
    command: Vec<u8>,
    data: Vec<u8>,
    data_len: usize,
    data_fragments: usize,
}

impl WireTrace {
    /// A tracer; `show_data` decodes data sets element by element (patient data included),
    /// where otherwise only their size is shown.
    pub fn new(show_data: bool) -> Self {
        WireTrace {
            show_data,
            ..WireTrace::default()
        }
    }

    /// Takes the next bytes that went `direction`; returns the lines of the PDUs they
    /// completed: a head line starting with the direction's arrow, details indented below.
    pub fn feed(&mut self, direction: Direction, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let side = &mut self.sides[direction.index()];
        if side.lost {
            return out;
        }
        side.pending.extend_from_slice(bytes);
        let limits = Limits {
            max_pdata_length: MAX_TRACED_PDU,
            max_associate_length: MAX_TRACED_PDU,
        };
        loop {
            let side = &mut self.sides[direction.index()];
            let header = peek_header(&side.pending);
            match decode(&mut side.pending, &limits) {
                Ok(None) => break,
                Ok(Some(pdu)) => self.show(direction, &pdu, &mut out),
                Err(e) => {
                    let arrow = direction.arrow();
                    match header {
                        Some((ty, len)) if !e.is_header_error() => out.push(format!(
                            "{arrow} unreadable {} ({} bytes): {e}",
                            super::pdu_name(ty),
                            len as u64 + 6
                        )),
                        _ => out.push(format!("{arrow} unreadable bytes: {e}")),
                    }
                    // A header that cannot be framed leaves the stream's PDU boundaries
                    // unknown; a body error consumed exactly its PDU, so reading goes on.
                    let side = &mut self.sides[direction.index()];
                    if header.is_some_and(|(_, len)| len > MAX_TRACED_PDU) || e.is_header_error() {
                        out.push(format!(
                            "{arrow} (the rest of this direction is not traced: {} bytes follow)",
                            side.pending.len()
                        ));
                        side.lost = true;
                        side.pending = BytesMut::new();
                        break;
                    }
                }
            }
        }
        out
    }

    /// What is left when the connection ends: a PDU cut short, if any.
    pub fn finish(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for direction in [Direction::FromRequestor, Direction::FromAcceptor] {
            let side = &mut self.sides[direction.index()];
            if !side.pending.is_empty() && !side.lost {
                let what = match peek_header(&side.pending) {
                    Some((ty, len)) => format!(
                        "{} cut short: {} of {} bytes",
                        super::pdu_name(ty),
                        side.pending.len(),
                        len as u64 + 6
                    ),
                    None => format!("{} bytes, not a whole PDU header", side.pending.len()),
                };
                out.push(format!("{} {what}", direction.arrow()));
            }
            side.pending = BytesMut::new();
        }
        out
    }

    fn show(&mut self, direction: Direction, pdu: &Pdu, out: &mut Vec<String>) {
        let arrow = direction.arrow();
        match pdu {
            Pdu::AssociateRq(rq) => {
                out.push(format!(
                    "{arrow} A-ASSOCIATE-RQ calling {:?} called {:?} protocol version {}",
                    rq.calling_ae.trimmed(),
                    rq.called_ae.trimmed(),
                    rq.protocol_version
                ));
                self.contexts.clear();
                for item in &rq.items {
                    if let Item::PresentationContextRq(pc) = item {
                        self.contexts
                            .insert(pc.id, (uid::trim(&pc.abstract_syntax).to_string(), None));
                    }
                    show_item(item, out);
                }
            }
            Pdu::AssociateAc(ac) => {
                out.push(format!(
                    "{arrow} A-ASSOCIATE-AC calling {:?} called {:?} protocol version {}",
                    ac.calling_ae.trimmed(),
                    ac.called_ae.trimmed(),
                    ac.protocol_version
                ));
                for item in &ac.items {
                    if let Item::PresentationContextAc(pc) = item {
                        if pc.result.code() == 0 {
                            let ts = uid::trim(&pc.transfer_syntax).to_string();
                            self.contexts.entry(pc.id).or_default().1 = Some(ts);
                        }
                    }
                    show_item(item, out);
                }
            }
            Pdu::AssociateRj(rj) => out.push(format!(
                "{arrow} A-ASSOCIATE-RJ {} source {} reason {} ({})",
                if rj.is_permanent() {
                    "rejected-permanent"
                } else {
                    "rejected-transient"
                },
                rj.source,
                rj.reason,
                rj.reason()
            )),
            Pdu::PData(data) => {
                out.push(format!("{arrow} P-DATA-TF, {} PDV(s)", data.pdvs.len()));
                for pdv in &data.pdvs {
                    self.show_pdv(direction, pdv, out);
                }
            }
            Pdu::ReleaseRq => out.push(format!("{arrow} A-RELEASE-RQ")),
            Pdu::ReleaseRp => out.push(format!("{arrow} A-RELEASE-RP")),
            Pdu::Abort(a) => {
                let who = match a.source {
                    AbortSource::ServiceUser => "service user",
                    AbortSource::ServiceProvider => "service provider",
                    AbortSource::Other(_) => "reserved source",
                };
                let mut line = format!(
                    "{arrow} A-ABORT source {} ({who}) reason {}",
                    a.source.code(),
                    a.reason
                );
                if a.source == AbortSource::ServiceProvider {
                    let _ = write!(line, " ({})", super::abort_reason::describe(a.reason));
                }
                out.push(line);
            }
        }
    }

    fn show_pdv(&mut self, direction: Direction, pdv: &Pdv, out: &mut Vec<String>) {
        let kind = if pdv.is_command() {
            "command"
        } else {
            "data set"
        };
        let last = if pdv.is_last() { ", last" } else { "" };
        out.push(format!(
            "    PDV context {} control 0x{:02X} ({kind}{last}), {} bytes",
            pdv.context_id,
            pdv.control,
            pdv.data.len()
        ));
        let ts = self.transfer_syntax(pdv.context_id);
        let side = &mut self.sides[direction.index()];
        if pdv.is_command() {
            side.command.extend_from_slice(&pdv.data);
            if pdv.is_last() {
                show_command(&std::mem::take(&mut side.command), out);
            }
            return;
        }
        side.data_len += pdv.data.len();
        side.data_fragments += 1;
        if self.show_data && side.data.len() < MAX_SHOWN_DATA_SET {
            let room = MAX_SHOWN_DATA_SET - side.data.len();
            side.data
                .extend_from_slice(&pdv.data[..pdv.data.len().min(room)]);
        }
        if pdv.is_last() {
            out.push(format!(
                "      data set of {} bytes in {} fragment(s){}",
                side.data_len,
                side.data_fragments,
                ts.map(|t| format!(", {}", t.name)).unwrap_or_default()
            ));
            let data = std::mem::take(&mut side.data);
            side.data_len = 0;
            side.data_fragments = 0;
            if self.show_data {
                match ts {
                    Some(ts) => show_data_set(&data, ts, out),
                    None => out.push(
                        "      (no accepted transfer syntax for this context: not decoded)".into(),
                    ),
                }
            }
        }
    }

    fn transfer_syntax(&self, context_id: u8) -> Option<&'static TransferSyntax> {
        let (_, ts) = self.contexts.get(&context_id)?;
        uid::transfer_syntax(ts.as_deref()?)
    }
}

fn uid_with_name(u: &str) -> String {
    let u = uid::trim(u);
    let name = uid::sop_class_name(u)
        .or_else(|| uid::transfer_syntax(u).map(|t| t.name))
        .or((u == uid::APPLICATION_CONTEXT_NAME).then_some("DICOM Application Context"));
    match name {
        Some(n) => format!("{u} ({n})"),
        None => u.to_string(),
    }
}

fn show_item(item: &Item, out: &mut Vec<String>) {
    match item {
        Item::ApplicationContext(name) => {
            out.push(format!("    application context {}", uid_with_name(name)))
        }
        Item::PresentationContextRq(pc) => {
            out.push(format!(
                "    presentation context {}: {}",
                pc.id,
                uid_with_name(&pc.abstract_syntax)
            ));
            for ts in &pc.transfer_syntaxes {
                out.push(format!("      transfer syntax {}", uid_with_name(ts)));
            }
        }
        Item::PresentationContextAc(pc) => {
            let result = match pc.result.code() {
                0 => "acceptance".to_string(),
                1 => "user rejection".to_string(),
                2 => "no reason (provider rejection)".to_string(),
                3 => "abstract syntax not supported".to_string(),
                4 => "transfer syntaxes not supported".to_string(),
                c => format!("undefined result {c}"),
            };
            let ts = if pc.result.code() == 0 {
                format!(", {}", uid_with_name(&pc.transfer_syntax))
            } else {
                String::new()
            };
            out.push(format!("    presentation context {}: {result}{ts}", pc.id));
        }
        Item::UserInformation(items) => {
            out.push("    user information".into());
            for u in items {
                out.push(format!("      {}", user_item(u)));
            }
        }
        Item::Unknown { item_type, data } => out.push(format!(
            "    unknown item 0x{item_type:02X}, {} bytes",
            data.len()
        )),
    }
}

fn user_item(u: &UserItem) -> String {
    match u {
        UserItem::MaxLength(n) => format!("maximum length {n}"),
        UserItem::ImplementationClassUid(u) => format!("implementation class UID {u}"),
        UserItem::AsyncOpsWindow { invoked, performed } => {
            format!("asynchronous operations window: invoked {invoked}, performed {performed}")
        }
        UserItem::RoleSelection {
            sop_class,
            scu,
            scp,
        } => format!(
            "role selection {}: SCU {scu}, SCP {scp}",
            uid_with_name(sop_class)
        ),
        UserItem::ImplementationVersionName(n) => format!("implementation version name {n:?}"),
        UserItem::SopClassExtended { sop_class, info } => format!(
            "SOP class extended negotiation {}: {} bytes",
            uid_with_name(sop_class),
            info.len()
        ),
        UserItem::SopClassCommonExtended {
            sop_class,
            service_class,
            related,
            ..
        } => format!(
            "SOP class common extended negotiation {}: service class {}, {} related",
            uid_with_name(sop_class),
            uid_with_name(service_class),
            related.len()
        ),
        UserItem::UserIdentityRq {
            kind,
            positive_response_requested,
            primary,
            secondary,
        } => format!(
            "user identity type {kind}, positive response requested {positive_response_requested}: primary {} bytes, secondary {} bytes (not shown)",
            primary.len(),
            secondary.len()
        ),
        UserItem::UserIdentityAc { response } => {
            format!("user identity response, {} bytes", response.len())
        }
        UserItem::Unknown { item_type, data } => {
            format!("unknown sub-item 0x{item_type:02X}, {} bytes", data.len())
        }
    }
}

fn show_command(bytes: &[u8], out: &mut Vec<String>) {
    let command = match CommandSet::decode(bytes) {
        Ok(c) => c,
        Err(e) => {
            out.push(format!("      unreadable command set: {e}"));
            return;
        }
    };
    let field = command.get_u16(tags::COMMAND_FIELD).unwrap_or(0);
    out.push(format!("      {}", command_name(field)));
    for (tag, value) in command.iter() {
        let vr = dictionary::vr_of(tag);
        out.push(format!(
            "      {tag} {vr} {:<28} {}",
            tag.keyword().unwrap_or("?"),
            render_value(vr, value, false)
        ));
    }
}

fn show_data_set(data: &[u8], ts: &TransferSyntax, out: &mut Vec<String>) {
    if ts.deflated {
        out.push("      (deflated: not decoded)".into());
        return;
    }
    let spans = match top_level_elements(data, ts) {
        Ok(spans) => spans,
        Err(e) => {
            out.push(format!("      data set not decoded whole: {e}"));
            return;
        }
    };
    for span in spans {
        let tag = span.tag;
        let vr = span.vr.unwrap_or_else(|| dictionary::vr_of(tag));
        let value = if span.is_undefined_length() || vr == Vr::SQ {
            format!("({} bytes)", span.end - span.value_offset)
        } else {
            render_value(vr, &data[span.value_offset..span.end], ts.big_endian)
        };
        out.push(format!(
            "      {tag} {vr} {:<28} {value}",
            tag.keyword().unwrap_or("?")
        ));
    }
}

/// A value as a line shows it: text trimmed, numbers decoded, anything else by its size.
fn render_value(vr: Vr, value: &[u8], big_endian: bool) -> String {
    macro_rules! numbers {
        ($t:ty, $n:literal) => {
            value
                .chunks_exact($n)
                .map(|c| {
                    let raw: [u8; $n] = c.try_into().expect("chunks of $n");
                    let v = if big_endian {
                        <$t>::from_be_bytes(raw)
                    } else {
                        <$t>::from_le_bytes(raw)
                    };
                    v.to_string()
                })
                .collect::<Vec<_>>()
                .join("\\")
        };
    }
    let text = match vr {
        Vr::US => numbers!(u16, 2),
        Vr::SS => numbers!(i16, 2),
        Vr::UL => numbers!(u32, 4),
        Vr::SL => numbers!(i32, 4),
        Vr::FL => numbers!(f32, 4),
        Vr::FD => numbers!(f64, 8),
        Vr::AT => value
            .chunks_exact(4)
            .map(|c| {
                let g = u16::from_le_bytes([c[0], c[1]]);
                let e = u16::from_le_bytes([c[2], c[3]]);
                Tag(g, e).to_string()
            })
            .collect::<Vec<_>>()
            .join("\\"),
        Vr::OB | Vr::OW | Vr::OD | Vr::OF | Vr::OL | Vr::OV | Vr::UN | Vr::SQ => {
            return format!("({} bytes)", value.len())
        }
        _ => {
            // Quoted as is (a backslash separates values), control characters made visible.
            let s = String::from_utf8_lossy(value);
            let shown: String = s
                .trim_end_matches(['\0', ' '])
                .chars()
                .map(|c| if c.is_control() { '·' } else { c })
                .collect();
            format!("\"{shown}\"")
        }
    };
    if text.chars().count() > MAX_VALUE_CHARS {
        let cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
        format!("{cut}… ({} bytes)", value.len())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assoc::{Proposal, ProposedContext};
    use crate::dimse::{CEchoRq, Message};
    use crate::pdu::encode;

    fn bytes(pdu: &Pdu) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode(pdu, &mut b);
        b.to_vec()
    }

    #[test]
    fn an_echo_request_shows_items_and_command_elements() {
        let mut p = Proposal::new("SCU", "SCP");
        p.contexts.push(ProposedContext::new(
            uid::VERIFICATION,
            &[uid::IMPLICIT_VR_LE],
        ));
        let rq = bytes(&Pdu::AssociateRq(p.to_request()));
        let mut trace = WireTrace::new(false);
        // One byte at a time: the framing is the tracer's.
        let mut lines = Vec::new();
        for b in &rq {
            lines.extend(trace.feed(Direction::FromRequestor, std::slice::from_ref(b)));
        }
        assert!(lines[0].starts_with("→ A-ASSOCIATE-RQ calling \"SCU\" called \"SCP\""));
        assert!(lines
            .iter()
            .any(|l| l.contains("presentation context 1: 1.2.840.10008.1.1 (Verification")));
        assert!(lines.iter().any(|l| l.contains("maximum length")));

        let echo = Message::CEchoRq(CEchoRq::new(7)).to_command().to_bytes();
        let pdata = Pdu::PData(crate::pdu::PData {
            pdvs: vec![Pdv {
                context_id: 1,
                control: Pdv::COMMAND | Pdv::LAST,
                data: echo,
            }],
        });
        let lines = trace.feed(Direction::FromRequestor, &bytes(&pdata));
        assert_eq!(lines[0], "→ P-DATA-TF, 1 PDV(s)");
        assert!(
            lines[1].contains("control 0x03 (command, last)"),
            "{lines:?}"
        );
        assert_eq!(lines[2], "      C-ECHO-RQ");
        assert!(
            lines
                .iter()
                .any(|l| l.contains("(0000,0110) US MessageID") && l.ends_with(" 7")),
            "{lines:?}"
        );
    }

    #[test]
    fn garbage_is_reported_and_tracing_stops_in_that_direction() {
        let mut trace = WireTrace::new(true);
        let lines = trace.feed(Direction::FromAcceptor, b"GET / HTTP/1.1\r\n\r\n");
        assert!(lines[0].starts_with("← unreadable"), "{lines:?}");
        assert!(lines.last().unwrap().contains("not traced"), "{lines:?}");
        assert!(trace
            .feed(Direction::FromAcceptor, &[5, 0, 0, 0, 0, 4, 0, 0, 0, 0])
            .is_empty());
        assert_eq!(
            trace
                .feed(Direction::FromRequestor, &[5, 0, 0, 0, 0, 4, 0, 0, 0, 0])
                .len(),
            1
        );
    }

    #[test]
    fn a_cut_pdu_is_reported_at_the_end() {
        let mut trace = WireTrace::new(false);
        assert!(trace
            .feed(Direction::FromRequestor, &[4, 0, 0, 0, 1, 0, 9])
            .is_empty());
        assert_eq!(trace.finish(), ["→ P-DATA-TF cut short: 7 of 262 bytes"]);
    }
}
