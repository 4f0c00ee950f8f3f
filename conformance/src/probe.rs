//! What a peer accepts: every storage SOP class against each transfer syntax family, the
//! query/retrieve and other services, and its answers to the negotiation items (maximum PDU,
//! asynchronous operations window, role selection, user identity, implementation).
//!
//! Each association only negotiates and releases: nothing is stored or asked. The storage
//! contexts (170 classes × 8 families) go over as many associations as 127 contexts each
//! need.

use dimse_core::assoc::{Proposal, ProposedContext, UserIdentity};
use dimse_core::pdu::{AssociateAc, PcResult, Pdu, UserItem};
use dimse_core::uid::{self, STORAGE_SOP_CLASSES};

use crate::exchange::{associate, connect, observe, send, Target};

/// A family of transfer syntaxes offered together in one presentation context: the peer
/// picks the one it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// Short name for tables and JSON keys.
    pub name: &'static str,
    /// Its transfer syntaxes, in the order proposed.
    pub syntaxes: &'static [&'static str],
}

/// The families [`probe`] offers every storage class in.
pub const FAMILIES: &[Family] = &[
    Family {
        name: "uncompressed",
        syntaxes: &[
            uid::EXPLICIT_VR_LE,
            uid::IMPLICIT_VR_LE,
            "1.2.840.10008.1.2.2",
        ],
    },
    Family {
        name: "deflate",
        syntaxes: &["1.2.840.10008.1.2.1.99"],
    },
    Family {
        name: "jpeg",
        syntaxes: &[
            "1.2.840.10008.1.2.4.50",
            "1.2.840.10008.1.2.4.51",
            "1.2.840.10008.1.2.4.57",
            "1.2.840.10008.1.2.4.70",
        ],
    },
    Family {
        name: "jpeg-ls",
        syntaxes: &["1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"],
    },
    Family {
        name: "jpeg2000",
        syntaxes: &["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"],
    },
    Family {
        name: "htj2k",
        syntaxes: &[
            "1.2.840.10008.1.2.4.201",
            "1.2.840.10008.1.2.4.202",
            "1.2.840.10008.1.2.4.203",
        ],
    },
    Family {
        name: "rle",
        syntaxes: &["1.2.840.10008.1.2.5"],
    },
    Family {
        name: "mpeg",
        syntaxes: &[
            "1.2.840.10008.1.2.4.100",
            "1.2.840.10008.1.2.4.101",
            "1.2.840.10008.1.2.4.102",
            "1.2.840.10008.1.2.4.103",
            "1.2.840.10008.1.2.4.104",
            "1.2.840.10008.1.2.4.105",
            "1.2.840.10008.1.2.4.106",
            "1.2.840.10008.1.2.4.107",
            "1.2.840.10008.1.2.4.108",
        ],
    },
];

/// The services other than storage that [`probe`] asks about, as (SOP class UID, name).
pub const SERVICES: &[(&str, &str)] = &[
    (uid::VERIFICATION, "Verification"),
    (
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        "Storage Commitment Push Model",
    ),
    (uid::PATIENT_ROOT_QR_FIND, "Patient Root Q/R FIND"),
    (uid::PATIENT_ROOT_QR_MOVE, "Patient Root Q/R MOVE"),
    (uid::PATIENT_ROOT_QR_GET, "Patient Root Q/R GET"),
    (uid::STUDY_ROOT_QR_FIND, "Study Root Q/R FIND"),
    (uid::STUDY_ROOT_QR_MOVE, "Study Root Q/R MOVE"),
    (uid::STUDY_ROOT_QR_GET, "Study Root Q/R GET"),
    ("1.2.840.10008.5.1.4.31", "Modality Worklist FIND"),
    (
        "1.2.840.10008.3.1.2.3.3",
        "Modality Performed Procedure Step",
    ),
];

/// The asynchronous operations window [`probe`] proposes.
pub const PROPOSED_WINDOW: (u16, u16) = (16, 16);

/// The SOP class whose SCP role [`probe`] proposes (as C-GET's storage sub-operations need).
pub const ROLE_CLASS: &str = uid::CT_IMAGE_STORAGE;

/// Most presentation contexts in one A-ASSOCIATE-RQ: odd IDs 1 to 253 (PS3.8 9.3.2.2).
const CONTEXTS_PER_ASSOCIATION: usize = 127;

/// What the peer answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeReport {
    /// Its Implementation Class UID (PS3.7 D.3.3.2).
    pub implementation_class_uid: Option<String>,
    /// Its Implementation Version Name.
    pub implementation_version_name: Option<String>,
    /// The largest P-DATA-TF it receives (0: unlimited); `None` if it stated none.
    pub max_pdu: Option<u32>,
    /// Its answer to [`PROPOSED_WINDOW`]: `None` when it left the item out (one operation
    /// at a time).
    pub async_window: Option<(u16, u16)>,
    /// Its answer to SCU and SCP roles proposed for [`ROLE_CLASS`]: (SCU, SCP) accepted;
    /// `None` when it left the item out (default roles: we are SCU only).
    pub roles: Option<(bool, bool)>,
    /// What it did with a user identity (username, positive response requested).
    pub user_identity: IdentityAnswer,
    /// Per entry of [`SERVICES`], the transfer syntax accepted, if any.
    pub services: Vec<Option<String>>,
    /// Per entry of [`STORAGE_SOP_CLASSES`], per entry of [`FAMILIES`], the transfer syntax
    /// accepted, if any.
    pub storage: Vec<Vec<Option<String>>>,
    /// Associations opened.
    pub associations: usize,
}

/// A peer's answer to a user identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IdentityAnswer {
    /// Not probed (the first association failed).
    #[default]
    Unknown,
    /// Accepted with the positive response asked for.
    Confirmed,
    /// Accepted without a response (the item ignored, or not answered).
    Ignored,
    /// The association was rejected: the A-ASSOCIATE-RJ or what came instead.
    Rejected(String),
}

/// Probes `target`: see the module documentation. Fails only when the first association,
/// the one asking about the services, is not accepted.
pub fn probe(target: &Target) -> Result<ProbeReport, String> {
    let mut report = ProbeReport::default();
    let mut first = proposal(target);
    first.contexts = SERVICES
        .iter()
        .map(|(sop, _)| ProposedContext::new(sop, &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE]))
        .collect();
    let mut role = ProposedContext::new(ROLE_CLASS, &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE]);
    role.roles = Some((true, true));
    first.contexts.push(role);
    first.async_window = Some(PROPOSED_WINDOW);
    let ac = negotiate(target, &first, &mut report.associations)?;
    report.services = accepted(&ac, SERVICES.len());
    for item in ac.user_info() {
        match item {
            UserItem::MaxLength(n) => report.max_pdu = Some(*n),
            UserItem::ImplementationClassUid(u) => {
                report.implementation_class_uid = Some(u.clone())
            }
            UserItem::ImplementationVersionName(v) => {
                report.implementation_version_name = Some(v.clone())
            }
            UserItem::AsyncOpsWindow { invoked, performed } => {
                report.async_window = Some((*invoked, *performed))
            }
            UserItem::RoleSelection {
                sop_class,
                scu,
                scp,
            } if uid::trim(sop_class) == ROLE_CLASS => report.roles = Some((*scu == 1, *scp == 1)),
            _ => {}
        }
    }

    let mut identity = proposal(target);
    identity.contexts = vec![ProposedContext::new(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    )];
    identity.user_identity = Some(UserIdentity {
        kind: 1,
        positive_response_requested: true,
        primary: bytes::Bytes::from_static(b"dimse-probe"),
        secondary: bytes::Bytes::new(),
    });
    report.user_identity = match negotiate(target, &identity, &mut report.associations) {
        Ok(ac)
            if ac
                .user_info()
                .iter()
                .any(|i| matches!(i, UserItem::UserIdentityAc { .. })) =>
        {
            IdentityAnswer::Confirmed
        }
        Ok(_) => IdentityAnswer::Ignored,
        Err(e) => IdentityAnswer::Rejected(e),
    };

    let all: Vec<ProposedContext> = STORAGE_SOP_CLASSES
        .iter()
        .flat_map(|(sop, _)| {
            FAMILIES
                .iter()
                .map(move |f| ProposedContext::new(sop, f.syntaxes))
        })
        .collect();
    let mut answers = Vec::with_capacity(all.len());
    for chunk in all.chunks(CONTEXTS_PER_ASSOCIATION) {
        let mut p = proposal(target);
        p.contexts = chunk.to_vec();
        match negotiate(target, &p, &mut report.associations) {
            Ok(ac) => answers.extend(accepted(&ac, chunk.len())),
            // A peer that rejects a long proposal accepts none of it.
            Err(_) => answers.extend(chunk.iter().map(|_| None)),
        }
    }
    report.storage = answers.chunks(FAMILIES.len()).map(<[_]>::to_vec).collect();
    Ok(report)
}

fn proposal(t: &Target) -> Proposal {
    Proposal::new(&t.calling_ae, &t.called_ae)
}

/// The transfer syntax accepted for each of the first `n` contexts (IDs 1, 3, 5, ...).
fn accepted(ac: &AssociateAc, n: usize) -> Vec<Option<String>> {
    (0..n)
        .map(|i| {
            let id = (2 * i + 1) as u8;
            ac.presentation_contexts()
                .find(|pc| pc.id == id && pc.result == PcResult::Acceptance)
                .map(|pc| uid::trim(&pc.transfer_syntax).to_string())
        })
        .collect()
}

/// One association: request, answer, release. The A-ASSOCIATE-AC, or what came instead.
fn negotiate(t: &Target, p: &Proposal, count: &mut usize) -> Result<AssociateAc, String> {
    *count += 1;
    let mut peer = connect(t)?;
    let ac = associate(&mut peer, t, p.to_request())?;
    // A peer that does not answer the release is still probed: only the AC counts.
    if send(&mut peer, &Pdu::ReleaseRq).is_ok() {
        let _ = observe(&mut peer, t);
    }
    peer.shutdown();
    Ok(ac)
}
