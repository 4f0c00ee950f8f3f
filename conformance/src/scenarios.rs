//! SCP-facing conformance scenarios (PS3.8 upper layer, PS3.7 Verification).
//!
//! Each scenario opens its own connection to the [`Target`], plays one exchange with a
//! [`RawPeer`](crate::RawPeer) and returns an [`Outcome`]: what PS3.8 expects, what came back, and whether
//! that conforms. Every wait is bounded by [`Target::timeout`]; nothing panics on what the SCP
//! sends.

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::ProposedContext;
use dimse_core::pdu::{AssociateRq, Item, PcResult, Pdu, UserItem};
use dimse_core::uid;

use crate::exchange::{
    associate, associate_verification, command_pdvs, connect, context_result, echo_command,
    echo_with_pdus, finish, observe, release_quietly, request, send, traced, verification, Outcome,
    Target, UNKNOWN_ABSTRACT_SYNTAX, UNKNOWN_TRANSFER_SYNTAX,
};
use crate::peer::Observed;

/// One scenario: its name and the function that runs it.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Short name, also the [`Outcome::name`] it reports.
    pub name: &'static str,
    /// Runs the scenario against a target.
    pub run: fn(&Target) -> Outcome,
}

impl Scenario {
    /// Runs it against `target`, timing it and keeping the trace of its connections.
    pub fn run_on(&self, target: &Target) -> Outcome {
        traced(&target.trace, || (self.run)(target))
    }
}

/// Every SCP-facing scenario, in the order [`run_all`] runs them.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "echo",
        run: echo,
    },
    Scenario {
        name: "unknown-abstract-syntax",
        run: unknown_abstract_syntax,
    },
    Scenario {
        name: "unknown-transfer-syntax",
        run: unknown_transfer_syntax,
    },
    Scenario {
        name: "unknown-user-info-sub-item",
        run: unknown_user_item,
    },
    Scenario {
        name: "protocol-version-0",
        run: protocol_version_zero,
    },
    Scenario {
        name: "unknown-pdu-type",
        run: unknown_pdu_type,
    },
    Scenario {
        name: "huge-pdu-length",
        run: huge_pdu_length,
    },
    Scenario {
        name: "command-in-8-byte-pdus",
        run: command_in_small_pdus,
    },
    Scenario {
        name: "command-in-3-pdvs",
        run: command_in_three_pdvs,
    },
    Scenario {
        name: "abort-after-associate",
        run: abort_after_associate,
    },
    Scenario {
        name: "async-window",
        run: async_window,
    },
    Scenario {
        name: "user-identity",
        run: user_identity,
    },
    Scenario {
        name: "abort-before-associate",
        run: abort_before_associate,
    },
    Scenario {
        name: "p-data-before-associate",
        run: pdata_before_associate,
    },
    Scenario {
        name: "second-associate-rq",
        run: second_associate_rq,
    },
    Scenario {
        name: "malformed-context-item",
        run: malformed_context_item,
    },
    Scenario {
        name: "transfer-syntax-from-proposal",
        run: transfer_syntax_from_proposal,
    },
    Scenario {
        name: "role-selection",
        run: role_selection,
    },
];

/// Runs every scenario in [`SCENARIOS`] against `target`, one connection each, in order.
pub fn run_all(target: &Target) -> Vec<Outcome> {
    SCENARIOS.iter().map(|s| s.run_on(target)).collect()
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// The built-in scenarios a scenario file can express, kept as one
/// (`conformance/scenarios/scp-facing.toml`).
const SCRIPTED: &str = include_str!("../scenarios/scp-facing.toml");

/// Runs the built-in scripted scenario `name` (those below that say so).
fn scripted(name: &str, t: &Target) -> Outcome {
    static FILE: std::sync::OnceLock<crate::script::ScenarioFile> = std::sync::OnceLock::new();
    let file = FILE.get_or_init(|| {
        crate::script::ScenarioFile::parse(SCRIPTED)
            .expect("scp-facing.toml parses (tested by built_in_scripts_parse)")
    });
    match file.scenarios.iter().find(|s| s.name == name) {
        Some(script) => script.run(t),
        None => Outcome::new(
            name,
            "a scenario",
            format!("internal: {name} is not in scp-facing.toml"),
            false,
        ),
    }
}

/// (a) Verification in implicit VR LE: accepted, C-ECHO succeeds, release confirmed.
pub fn echo(t: &Target) -> Outcome {
    scripted("echo", t)
}

/// (b) An abstract syntax no SCP supports, proposed alongside Verification: that context is
/// rejected (3, or the permitted 1/2 — reported), Verification accepted.
pub fn unknown_abstract_syntax(t: &Target) -> Outcome {
    let expected = "context 1 (1.2.3.4.5.6.7.8.9) rejected with result 3 (or 1/2), context 3 (Verification) accepted";
    let result = (|| {
        let mut peer = connect(t)?;
        let contexts = vec![
            ProposedContext::new(UNKNOWN_ABSTRACT_SYNTAX, &[uid::IMPLICIT_VR_LE]),
            verification(),
        ];
        let ac = associate(&mut peer, t, request(t, contexts))?;
        release_quietly(peer, t);
        let unknown = context_result(&ac, 1).map(|(r, _)| r.code());
        let verif = context_result(&ac, 3).map(|(r, _)| r.code());
        let show = |r: Option<u8>| r.map_or("missing".to_string(), |c| c.to_string());
        let got = format!(
            "A-ASSOCIATE-AC: context 1 result {}, context 3 result {}",
            show(unknown),
            show(verif)
        );
        let passed = matches!(unknown, Some(1..=3)) && verif == Some(0);
        Ok((got, passed))
    })();
    finish("unknown-abstract-syntax", expected, result)
}

/// (c) Verification offered only in an unknown transfer syntax: result 4.
pub fn unknown_transfer_syntax(t: &Target) -> Outcome {
    let expected = "A-ASSOCIATE-AC with context 1 result 4 (transfer syntaxes not supported)";
    let result = (|| {
        let mut peer = connect(t)?;
        let contexts = vec![ProposedContext::new(
            uid::VERIFICATION,
            &[UNKNOWN_TRANSFER_SYNTAX],
        )];
        send(&mut peer, &Pdu::AssociateRq(request(t, contexts)))?;
        let seen = observe(&mut peer, t)?;
        let out = match &seen {
            Observed::Pdu(Pdu::AssociateAc(ac)) => match context_result(ac, 1) {
                Some((r, _)) => (
                    format!("A-ASSOCIATE-AC with context 1 result {}", r.code()),
                    r == PcResult::TransferSyntaxesNotSupported,
                ),
                None => ("A-ASSOCIATE-AC without context 1".to_string(), false),
            },
            other => (other.to_string(), false),
        };
        if matches!(seen, Observed::Pdu(Pdu::AssociateAc(_))) {
            release_quietly(peer, t);
        }
        Ok(out)
    })();
    finish("unknown-transfer-syntax", expected, result)
}

/// (d) An unknown user information sub-item (0x5F): ignored, association accepted.
pub fn unknown_user_item(t: &Target) -> Outcome {
    let expected =
        "A-ASSOCIATE-AC accepting Verification (unknown sub-item 0x5F ignored, PS3.8 D.1)";
    let result = (|| {
        let mut peer = connect(t)?;
        let mut rq = request(t, vec![verification()]);
        for item in &mut rq.items {
            if let Item::UserInformation(sub) = item {
                sub.push(UserItem::Unknown {
                    item_type: 0x5F,
                    data: Bytes::from_static(&[0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02]),
                });
            }
        }
        let got = associate_verification(&mut peer, t, rq)?;
        release_quietly(peer, t);
        Ok((got, true))
    })();
    finish("unknown-user-info-sub-item", expected, result)
}

/// (e) Protocol version 0x0000 (bit 0, version 1, unset): A-ASSOCIATE-RJ, source 2 (ACSE)
/// reason 2 (protocol version not supported).
pub fn protocol_version_zero(t: &Target) -> Outcome {
    scripted("protocol-version-0", t)
}

/// (f) A PDU of unknown type (0x55) as the first PDU: A-ABORT (Sta2, Evt19, AA-1) or close.
pub fn unknown_pdu_type(t: &Target) -> Outcome {
    scripted("unknown-pdu-type", t)
}

/// (g) A P-DATA-TF header announcing 0xFFFFFFFF bytes before any association: the SCP must
/// not wait for 4 GiB; A-ABORT or close.
pub fn huge_pdu_length(t: &Target) -> Outcome {
    scripted("huge-pdu-length", t)
}

/// (h) A C-ECHO-RQ command split into 8-byte PDVs, each in its own P-DATA-TF.
pub fn command_in_small_pdus(t: &Target) -> Outcome {
    let expected = "C-ECHO-RSP status 0x0000 to a command sent as 8-byte PDVs, one per P-DATA-TF";
    let result = (|| {
        let mut peer = connect(t)?;
        associate_verification(&mut peer, t, request(t, vec![verification()]))?;
        let pdvs = command_pdvs(&echo_command(), 8);
        let n = pdvs.len();
        let got = echo_with_pdus(&mut peer, t, pdvs.into_iter().map(|p| vec![p]).collect())?;
        Ok((format!("{got} ({n} P-DATA-TF sent)"), true))
    })();
    finish("command-in-8-byte-pdus", expected, result)
}

/// (i) A C-ECHO-RQ command split into three PDVs of one P-DATA-TF.
pub fn command_in_three_pdvs(t: &Target) -> Outcome {
    let expected = "C-ECHO-RSP status 0x0000 to a command sent as 3 PDVs in one P-DATA-TF";
    let result = (|| {
        let mut peer = connect(t)?;
        associate_verification(&mut peer, t, request(t, vec![verification()]))?;
        let command = echo_command();
        // Even fragment sizes, so only the last may be odd; three fragments in all.
        let size = command.len().div_ceil(3).next_multiple_of(2);
        let pdvs = command_pdvs(&command, size);
        if pdvs.len() != 3 {
            return Err(format!("internal: split into {} PDVs", pdvs.len()));
        }
        let got = echo_with_pdus(&mut peer, t, vec![pdvs])?;
        Ok((got, true))
    })();
    finish("command-in-3-pdvs", expected, result)
}

/// (j) A-ABORT after association: the SCP closes the connection and sends nothing
/// (Sta6 + Evt16: AA-3).
pub fn abort_after_associate(t: &Target) -> Outcome {
    scripted("abort-after-associate", t)
}

/// Adds `item` to the user information of `rq`.
fn with_user_item(mut rq: AssociateRq, item: UserItem) -> AssociateRq {
    for i in &mut rq.items {
        if let Item::UserInformation(sub) = i {
            sub.push(item);
            return rq;
        }
    }
    rq.items.push(Item::UserInformation(vec![item]));
    rq
}

/// (k) An asynchronous operations window of 5/5 proposed: accepted; an answer, if the SCP
/// gives one, within what was proposed (PS3.7 D.3.3.3).
pub fn async_window(t: &Target) -> Outcome {
    let expected = "A-ASSOCIATE-AC accepting Verification; its window, if any, at most 5/5";
    let result = (|| {
        let mut peer = connect(t)?;
        let window = UserItem::AsyncOpsWindow {
            invoked: 5,
            performed: 5,
        };
        let rq = with_user_item(request(t, vec![verification()]), window);
        let ac = associate(&mut peer, t, rq)?;
        let accepted = matches!(context_result(&ac, 1), Some((PcResult::Acceptance, _)));
        let answer = ac.user_info().iter().find_map(|u| match u {
            UserItem::AsyncOpsWindow { invoked, performed } => Some((*invoked, *performed)),
            _ => None,
        });
        release_quietly(peer, t);
        let within = |n: u16| (1..=5).contains(&n);
        Ok(match answer {
            None => ("accepted, no window item (1/1)".to_string(), accepted),
            Some((i, p)) => (
                format!("accepted, window {i}/{p}"),
                accepted && within(i) && within(p),
            ),
        })
    })();
    finish("async-window", expected, result)
}

/// (l) A user identity (username, no response requested) from a caller the SCP does not
/// check: the association goes ahead (PS3.7 D.3.3.7).
pub fn user_identity(t: &Target) -> Outcome {
    let expected = "A-ASSOCIATE-AC accepting Verification (user identity, no response asked)";
    let result = (|| {
        let mut peer = connect(t)?;
        let identity = UserItem::UserIdentityRq {
            kind: 1,
            positive_response_requested: 0,
            primary: Bytes::from_static(b"conform"),
            secondary: Bytes::new(),
        };
        let rq = with_user_item(request(t, vec![verification()]), identity);
        let got = associate_verification(&mut peer, t, rq)?;
        release_quietly(peer, t);
        Ok((got, true))
    })();
    finish("user-identity", expected, result)
}

/// (m) A-ABORT as the first PDU: the SCP closes without answering (Sta2 + Evt16: AA-2).
pub fn abort_before_associate(t: &Target) -> Outcome {
    scripted("abort-before-associate", t)
}

/// (n) A P-DATA-TF before any association: invalid in Sta2 (Evt10: AA-1), A-ABORT or close.
pub fn pdata_before_associate(t: &Target) -> Outcome {
    scripted("p-data-before-associate", t)
}

/// (o) A second A-ASSOCIATE-RQ on an established association: unexpected in Sta6 (Evt6:
/// AA-8), A-ABORT (or close).
pub fn second_associate_rq(t: &Target) -> Outcome {
    scripted("second-associate-rq", t)
}

/// (p) An A-ASSOCIATE-RQ whose presentation context item claims 100 bytes more than the PDU
/// holds: refused (A-ABORT, A-ASSOCIATE-RJ or close), never accepted.
pub fn malformed_context_item(t: &Target) -> Outcome {
    let expected = "A-ABORT, A-ASSOCIATE-RJ or connection close; no A-ASSOCIATE-AC";
    let result = (|| {
        let mut bytes = BytesMut::new();
        dimse_core::pdu::encode(
            &Pdu::AssociateRq(request(t, vec![verification()])),
            &mut bytes,
        );
        // Items start after the 6-byte header and 68 bytes of fixed fields; the first is the
        // application context, the second the presentation context.
        let first_len = u16::from_be_bytes([bytes[76], bytes[77]]) as usize;
        let pc = 74 + 4 + first_len;
        if bytes.get(pc) != Some(&0x20) {
            return Err("internal: no presentation context item where expected".into());
        }
        let len = u16::from_be_bytes([bytes[pc + 2], bytes[pc + 3]]) + 100;
        bytes[pc + 2..pc + 4].copy_from_slice(&len.to_be_bytes());
        let mut peer = connect(t)?;
        peer.send_bytes(&bytes)
            .map_err(|e| format!("sending failed: {e}"))?;
        let seen = observe(&mut peer, t)?;
        let passed = matches!(
            &seen,
            Observed::Pdu(Pdu::Abort(_) | Pdu::AssociateRj(_))
                | Observed::Closed { .. }
                | Observed::Reset
        );
        Ok((seen.to_string(), passed))
    })();
    finish("malformed-context-item", expected, result)
}

/// (q) Verification proposed in Explicit then Implicit VR Little Endian: accepted in one of
/// the two (PS3.8 9.3.3.2: the acceptor picks one of the proposed syntaxes).
pub fn transfer_syntax_from_proposal(t: &Target) -> Outcome {
    let expected = "A-ASSOCIATE-AC accepting Verification in one of the proposed syntaxes";
    let result = (|| {
        let mut peer = connect(t)?;
        let offered = [uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE];
        let rq = request(t, vec![ProposedContext::new(uid::VERIFICATION, &offered)]);
        let ac = associate(&mut peer, t, rq)?;
        let answer = context_result(&ac, 1);
        release_quietly(peer, t);
        Ok(match answer {
            Some((PcResult::Acceptance, ts)) => {
                let ok = offered.contains(&uid::trim(&ts));
                (format!("accepted in {}", uid::trim(&ts)), ok)
            }
            Some((r, _)) => (format!("context 1 result {}", r.code()), false),
            None => ("no answer for context 1".to_string(), false),
        })
    })();
    finish("transfer-syntax-from-proposal", expected, result)
}

/// (r) Verification proposed with an SCP/SCU role selection item (SCU role only): accepted,
/// and a role selection answer, if any, grants no role that was not proposed (PS3.7 D.3.3.4).
pub fn role_selection(t: &Target) -> Outcome {
    let expected = "A-ASSOCIATE-AC accepting Verification; no role granted beyond SCU";
    let result = (|| {
        let mut peer = connect(t)?;
        let roles = UserItem::RoleSelection {
            sop_class: uid::VERIFICATION.to_string(),
            scu: 1,
            scp: 0,
        };
        let rq = with_user_item(request(t, vec![verification()]), roles);
        let ac = associate(&mut peer, t, rq)?;
        let accepted = matches!(context_result(&ac, 1), Some((PcResult::Acceptance, _)));
        let answer = ac.user_info().iter().find_map(|u| match u {
            UserItem::RoleSelection {
                sop_class,
                scu,
                scp,
            } if uid::trim(sop_class) == uid::VERIFICATION => Some((*scu, *scp)),
            _ => None,
        });
        release_quietly(peer, t);
        Ok(match answer {
            None => (
                "accepted, no role selection answer (default roles)".into(),
                accepted,
            ),
            Some((scu, scp)) => (
                format!("accepted, roles SCU {scu} SCP {scp}"),
                accepted && scp == 0,
            ),
        })
    })();
    finish("role-selection", expected, result)
}

#[cfg(test)]
mod scripted_tests {
    use super::*;

    #[test]
    fn built_in_scripts_parse_and_are_listed() {
        let file = crate::script::ScenarioFile::parse(SCRIPTED).unwrap();
        for script in &file.scenarios {
            assert!(
                SCENARIOS.iter().any(|s| s.name == script.name),
                "{} is in scp-facing.toml but not in SCENARIOS",
                script.name
            );
        }
        assert_eq!(file.scenarios.len(), 8);
    }
}
