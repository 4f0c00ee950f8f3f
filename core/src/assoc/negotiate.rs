//! Association negotiation (PS3.7 Annex D, PS3.8 §9.3.2–9.3.4) as pure functions.
//!
//! The requestor turns a [`Proposal`] into an A-ASSOCIATE-RQ; the acceptor's [`AcceptorPolicy`]
//! turns that request into an A-ASSOCIATE-AC or a rejection; both sides then hold the same
//! [`Negotiated`] view of the association.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::pdu::{
    AeField, AssociateAc, AssociateRq, Item, PcResult, PresentationContextAc,
    PresentationContextRq, RejectReason, UserItem,
};
use crate::uid;

/// Largest P-DATA-TF we ask peers to send us, unless configured otherwise. Large PDUs cost
/// nothing in memory that a data set would not cost anyway and save per-PDU work.
pub const DEFAULT_MAX_PDU: u32 = 256 * 1024;

/// What we send when the peer says it has no maximum (0): the PDV loop needs a bound.
pub const UNLIMITED_SEND_PDU: u32 = 1024 * 1024;

/// The smallest maximum PDU a peer may announce: anything less cannot carry an even,
/// non-empty PDV fragment after the 6 bytes of PDV header.
pub const MIN_PEER_MAX_PDU: u32 = 8;

/// A presentation context the requestor proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedContext {
    /// Abstract syntax (SOP class) UID.
    pub abstract_syntax: String,
    /// Transfer syntaxes in order of preference.
    pub transfer_syntaxes: Vec<String>,
    /// SCP/SCU role selection to propose, as (scu, scp); `None` = default roles.
    pub roles: Option<(bool, bool)>,
}

impl ProposedContext {
    /// A context for `abstract_syntax` with the given transfer syntaxes and default roles.
    pub fn new(abstract_syntax: &str, transfer_syntaxes: &[&str]) -> Self {
        ProposedContext {
            abstract_syntax: abstract_syntax.to_string(),
            transfer_syntaxes: transfer_syntaxes.iter().map(|s| s.to_string()).collect(),
            roles: None,
        }
    }
}

/// User identity to present (PS3.7 D.3.3.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIdentity {
    /// 1 username, 2 username and passcode, 3 Kerberos, 4 SAML, 5 JWT.
    pub kind: u8,
    /// Ask the acceptor to confirm the identity.
    pub positive_response_requested: bool,
    /// Username, ticket, assertion or token.
    pub primary: Bytes,
    /// Passcode (kind 2 only).
    pub secondary: Bytes,
}

/// Decides on the requestor's user identity for an [`AcceptorPolicy`] (PS3.7 D.3.3.7).
///
/// The check gets the calling AE title and the identity presented (`None` when the requestor
/// sent none) and returns the server response to accept, or `None` to reject the association
/// (permanent, service user, no reason given, as D.3.3.7 prescribes). The response reaches the
/// requestor only if it asked for a positive response; it is empty for username kinds.
///
/// ```
/// use dimse_core::assoc::{AcceptorPolicy, IdentityVerifier};
///
/// let mut policy = AcceptorPolicy::new("PACS");
/// policy.identity = Some(IdentityVerifier::passcodes(&[("alice", "s3cret")]));
/// ```
#[derive(Clone)]
pub struct IdentityVerifier(Arc<IdentityCheck>);

type IdentityCheck = dyn Fn(&str, Option<&UserIdentity>) -> Option<Bytes> + Send + Sync;

impl IdentityVerifier {
    /// A verifier running `check(calling_ae, identity)`.
    pub fn new(
        check: impl Fn(&str, Option<&UserIdentity>) -> Option<Bytes> + Send + Sync + 'static,
    ) -> Self {
        IdentityVerifier(Arc::new(check))
    }

    /// Accept exactly these username and passcode pairs (user identity type 2); anything
    /// else, no identity included, is rejected.
    pub fn passcodes(users: &[(&str, &str)]) -> Self {
        let users: Vec<(Vec<u8>, Vec<u8>)> = users
            .iter()
            .map(|(u, p)| (u.as_bytes().to_vec(), p.as_bytes().to_vec()))
            .collect();
        IdentityVerifier::new(move |_, identity| {
            let id = identity.filter(|id| id.kind == 2)?;
            // Compare every entry in full so the time taken says nothing about near misses.
            let mut ok = false;
            for (user, pass) in &users {
                ok |= same_bytes(user, &id.primary) & same_bytes(pass, &id.secondary);
            }
            ok.then(Bytes::new)
        })
    }

    /// The decision on `identity` from `calling_ae`.
    pub fn check(&self, calling_ae: &str, identity: Option<&UserIdentity>) -> Option<Bytes> {
        (self.0)(calling_ae, identity)
    }
}

impl fmt::Debug for IdentityVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityVerifier")
    }
}

/// Equality whose time depends only on the lengths.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn identity_of(user: &[UserItem]) -> Option<UserIdentity> {
    user.iter().find_map(|u| match u {
        UserItem::UserIdentityRq {
            kind,
            positive_response_requested,
            primary,
            secondary,
        } => Some(UserIdentity {
            kind: *kind,
            positive_response_requested: *positive_response_requested != 0,
            primary: primary.clone(),
            secondary: secondary.clone(),
        }),
        _ => None,
    })
}

/// What a requestor asks for.
///
/// ```
/// use dimse_core::assoc::{Proposal, ProposedContext};
/// use dimse_core::uid;
///
/// let mut p = Proposal::new("MY_SCU", "PACS");
/// p.contexts.push(ProposedContext::new(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// let rq = p.to_request();
/// assert_eq!(rq.presentation_contexts().count(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// Our AE title.
    pub calling_ae: String,
    /// The peer's AE title.
    pub called_ae: String,
    /// Contexts, given IDs 1, 3, 5, … in this order.
    pub contexts: Vec<ProposedContext>,
    /// Largest P-DATA-TF we will receive (0 = no limit).
    pub max_pdu: u32,
    /// Asynchronous operations window (invoked, performed); `None` = synchronous.
    pub async_window: Option<(u16, u16)>,
    /// User identity, if any.
    pub user_identity: Option<UserIdentity>,
    /// Implementation class UID we announce.
    pub implementation_class_uid: String,
    /// Implementation version name we announce.
    pub implementation_version_name: Option<String>,
}

impl Proposal {
    /// A proposal with no contexts yet and our defaults.
    pub fn new(calling_ae: &str, called_ae: &str) -> Self {
        Proposal {
            calling_ae: calling_ae.to_string(),
            called_ae: called_ae.to_string(),
            contexts: Vec::new(),
            max_pdu: DEFAULT_MAX_PDU,
            async_window: None,
            user_identity: None,
            implementation_class_uid: uid::IMPLEMENTATION_CLASS_UID.to_string(),
            implementation_version_name: Some(uid::IMPLEMENTATION_VERSION_NAME.to_string()),
        }
    }

    /// The A-ASSOCIATE-RQ for this proposal. Context IDs are 1, 3, 5, …; more than 128
    /// contexts cannot be numbered and the excess is left out.
    pub fn to_request(&self) -> AssociateRq {
        let mut items = vec![Item::ApplicationContext(
            uid::APPLICATION_CONTEXT_NAME.to_string(),
        )];
        for (i, pc) in self.contexts.iter().take(128).enumerate() {
            items.push(Item::PresentationContextRq(PresentationContextRq {
                id: (2 * i + 1) as u8,
                abstract_syntax: pc.abstract_syntax.clone(),
                transfer_syntaxes: pc.transfer_syntaxes.clone(),
            }));
        }
        let mut user = vec![
            UserItem::MaxLength(self.max_pdu),
            UserItem::ImplementationClassUid(self.implementation_class_uid.clone()),
        ];
        if let Some((invoked, performed)) = self.async_window {
            user.push(UserItem::AsyncOpsWindow { invoked, performed });
        }
        let mut seen_roles: Vec<&str> = Vec::new();
        for pc in &self.contexts {
            if let Some((scu, scp)) = pc.roles {
                // One role item per SOP class, however many contexts carry it.
                if !seen_roles.contains(&pc.abstract_syntax.as_str()) {
                    seen_roles.push(&pc.abstract_syntax);
                    user.push(UserItem::RoleSelection {
                        sop_class: pc.abstract_syntax.clone(),
                        scu: scu as u8,
                        scp: scp as u8,
                    });
                }
            }
        }
        if let Some(name) = &self.implementation_version_name {
            user.push(UserItem::ImplementationVersionName(name.clone()));
        }
        if let Some(id) = &self.user_identity {
            user.push(UserItem::UserIdentityRq {
                kind: id.kind,
                positive_response_requested: id.positive_response_requested as u8,
                primary: id.primary.clone(),
                secondary: id.secondary.clone(),
            });
        }
        items.push(Item::UserInformation(user));
        AssociateRq {
            protocol_version: 1,
            called_ae: AeField::new(&self.called_ae),
            calling_ae: AeField::new(&self.calling_ae),
            items,
        }
    }
}

/// Which abstract syntaxes a supported-syntax rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbstractSyntaxMatch {
    /// Exactly this UID.
    Uid(String),
    /// Every storage SOP class ([`uid::is_storage_sop_class`]).
    AnyStorage,
    /// Any abstract syntax at all.
    Any,
}

/// How the acceptor picks a transfer syntax among those proposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferSyntaxChoice {
    /// The first of these (our order of preference) that the requestor proposed.
    Prefer(Vec<String>),
    /// The requestor's first proposal that is a transfer syntax we know. A storage SCP uses this
    /// to keep what the sender prefers: usually the file's own encoding, so nothing is converted.
    RequestorOrder,
}

/// One rule of what the acceptor supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedSyntax {
    /// Abstract syntaxes this rule covers.
    pub abstract_syntax: AbstractSyntaxMatch,
    /// Transfer syntax selection.
    pub transfer_syntaxes: TransferSyntaxChoice,
    /// Whether we accept acting as SCU for these SOP classes when the requestor proposes to be
    /// SCP (role selection; C-GET's storage sub-operations need it).
    pub accept_scu_role: bool,
}

impl SupportedSyntax {
    /// A rule for one SOP class with transfer syntaxes in our order of preference.
    pub fn uid(abstract_syntax: &str, transfer_syntaxes: &[&str]) -> Self {
        SupportedSyntax {
            abstract_syntax: AbstractSyntaxMatch::Uid(abstract_syntax.to_string()),
            transfer_syntaxes: TransferSyntaxChoice::Prefer(
                transfer_syntaxes.iter().map(|s| s.to_string()).collect(),
            ),
            accept_scu_role: false,
        }
    }

    fn matches(&self, abstract_syntax: &str) -> bool {
        match &self.abstract_syntax {
            AbstractSyntaxMatch::Uid(u) => u == abstract_syntax,
            AbstractSyntaxMatch::AnyStorage => uid::is_storage_sop_class(abstract_syntax),
            AbstractSyntaxMatch::Any => true,
        }
    }

    fn choose(&self, proposed: &[String]) -> Option<String> {
        match &self.transfer_syntaxes {
            TransferSyntaxChoice::Prefer(ours) => ours
                .iter()
                .find(|t| proposed.iter().any(|p| uid::trim(p) == t.as_str()))
                .cloned(),
            TransferSyntaxChoice::RequestorOrder => proposed
                .iter()
                .map(|p| uid::trim(p))
                .find(|p| uid::transfer_syntax(p).is_some())
                .map(str::to_string),
        }
    }
}

/// The acceptor's side of negotiation: who may associate and what they may use.
///
/// ```
/// use dimse_core::assoc::{AcceptorPolicy, Proposal, ProposedContext, SupportedSyntax};
/// use dimse_core::uid;
///
/// let mut policy = AcceptorPolicy::new("PACS");
/// policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// let mut p = Proposal::new("SCU", "PACS");
/// p.contexts.push(ProposedContext::new(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
/// let ac = policy.evaluate(&p.to_request()).unwrap();
/// assert_eq!(ac.presentation_contexts().next().unwrap().transfer_syntax, uid::IMPLICIT_VR_LE);
/// ```
#[derive(Debug, Clone)]
pub struct AcceptorPolicy {
    /// Our AE title.
    pub ae_title: String,
    /// Reject (1/1/7) requests whose called AE title is not ours.
    pub require_called_ae: bool,
    /// If set, only these calling AE titles may associate (others: 1/1/3).
    pub allowed_calling_aes: Option<Vec<String>>,
    /// Supported abstract syntaxes, first matching rule wins.
    pub supported: Vec<SupportedSyntax>,
    /// Largest P-DATA-TF we will receive (0 = no limit).
    pub max_pdu: u32,
    /// Asynchronous operations window we can honour (invoked, performed); 0 = unlimited.
    pub async_window: (u16, u16),
    /// Implementation class UID we announce.
    pub implementation_class_uid: String,
    /// Implementation version name we announce.
    pub implementation_version_name: Option<String>,
    /// Who may associate by user identity; `None` accepts any identity, or none.
    pub identity: Option<IdentityVerifier>,
}

impl AcceptorPolicy {
    /// A policy for `ae_title` that supports nothing yet, checks the called AE title and
    /// allows every caller.
    pub fn new(ae_title: &str) -> Self {
        AcceptorPolicy {
            ae_title: ae_title.to_string(),
            require_called_ae: true,
            allowed_calling_aes: None,
            supported: Vec::new(),
            max_pdu: DEFAULT_MAX_PDU,
            async_window: (1, 1),
            implementation_class_uid: uid::IMPLEMENTATION_CLASS_UID.to_string(),
            implementation_version_name: Some(uid::IMPLEMENTATION_VERSION_NAME.to_string()),
            identity: None,
        }
    }

    /// Decide on a request: the A-ASSOCIATE-AC to send, or why to reject it.
    ///
    /// Rejections are permanent except where the cause may pass (none here; congestion is
    /// decided by the server, which knows its load).
    pub fn evaluate(&self, rq: &AssociateRq) -> Result<AssociateAc, RejectReason> {
        match rq.application_context() {
            Some(name) if uid::trim(name) == uid::APPLICATION_CONTEXT_NAME => {}
            _ => return Err(RejectReason::ApplicationContextNotSupported),
        }
        // AE titles that no conforming peer sends (control characters, backslash, over 16
        // characters, all spaces) are refused before they reach logs or access lists.
        if crate::ae::validate_ae_title(&rq.calling_ae.trimmed()).is_err() {
            return Err(RejectReason::CallingAeNotRecognized);
        }
        if crate::ae::validate_ae_title(&rq.called_ae.trimmed()).is_err() {
            return Err(RejectReason::CalledAeNotRecognized);
        }
        if self.require_called_ae && rq.called_ae.trimmed() != self.ae_title.trim() {
            return Err(RejectReason::CalledAeNotRecognized);
        }
        if let Some(allowed) = &self.allowed_calling_aes {
            let calling = rq.calling_ae.trimmed();
            if !allowed.iter().any(|a| a.trim() == calling) {
                return Err(RejectReason::CallingAeNotRecognized);
            }
        }

        let user = rq.user_info();
        let identity = identity_of(user);
        let identity_reply = match &self.identity {
            None => None,
            Some(verifier) => {
                let response = verifier
                    .check(&rq.calling_ae.trimmed(), identity.as_ref())
                    .ok_or(RejectReason::UserNoReason)?;
                identity
                    .as_ref()
                    .filter(|id| id.positive_response_requested)
                    .map(|_| UserItem::UserIdentityAc { response })
            }
        };
        let requested_roles = role_items(user);
        let mut items = vec![Item::ApplicationContext(
            uid::APPLICATION_CONTEXT_NAME.to_string(),
        )];
        let mut role_replies: Vec<UserItem> = Vec::new();
        for pc in rq.presentation_contexts() {
            let abstract_syntax = uid::trim(&pc.abstract_syntax);
            let (result, ts) = match self.supported.iter().find(|s| s.matches(abstract_syntax)) {
                None => (PcResult::AbstractSyntaxNotSupported, String::new()),
                Some(rule) => match rule.choose(&pc.transfer_syntaxes) {
                    None => (PcResult::TransferSyntaxesNotSupported, String::new()),
                    Some(ts) => {
                        if let Some(&(scu, scp)) = requested_roles
                            .iter()
                            .find(|(uid, _)| *uid == abstract_syntax)
                            .map(|(_, r)| r)
                        {
                            // We always accept the requestor as SCU if it offered; we accept it
                            // as SCP (us as SCU) only where configured to.
                            let reply = UserItem::RoleSelection {
                                sop_class: abstract_syntax.to_string(),
                                scu: scu as u8,
                                scp: (scp && rule.accept_scu_role) as u8,
                            };
                            if !role_replies.contains(&reply) {
                                role_replies.push(reply);
                            }
                        }
                        (PcResult::Acceptance, ts)
                    }
                },
            };
            items.push(Item::PresentationContextAc(PresentationContextAc {
                id: pc.id,
                result,
                transfer_syntax: ts,
            }));
        }

        let mut reply = vec![
            UserItem::MaxLength(self.max_pdu),
            UserItem::ImplementationClassUid(self.implementation_class_uid.clone()),
        ];
        if let Some((invoked, performed)) = async_window(user) {
            // The acceptor's values may not exceed the requestor's (0 = unlimited on either).
            reply.push(UserItem::AsyncOpsWindow {
                invoked: min_window(invoked, self.async_window.0),
                performed: min_window(performed, self.async_window.1),
            });
        }
        reply.extend(role_replies);
        if let Some(name) = &self.implementation_version_name {
            reply.push(UserItem::ImplementationVersionName(name.clone()));
        }
        reply.extend(identity_reply);
        items.push(Item::UserInformation(reply));

        Ok(AssociateAc {
            protocol_version: 1,
            called_ae: rq.called_ae,
            calling_ae: rq.calling_ae,
            items,
        })
    }
}

fn min_window(theirs: u16, ours: u16) -> u16 {
    match (theirs, ours) {
        (0, o) => o,
        (t, 0) => t,
        (t, o) => t.min(o),
    }
}

fn async_window(user: &[UserItem]) -> Option<(u16, u16)> {
    user.iter().find_map(|u| match u {
        UserItem::AsyncOpsWindow { invoked, performed } => Some((*invoked, *performed)),
        _ => None,
    })
}

fn role_items(user: &[UserItem]) -> Vec<(&str, (bool, bool))> {
    user.iter()
        .filter_map(|u| match u {
            UserItem::RoleSelection {
                sop_class,
                scu,
                scp,
            } => Some((uid::trim(sop_class), (*scu != 0, *scp != 0))),
            _ => None,
        })
        .collect()
}

/// One presentation context after negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentationContext {
    /// Context ID.
    pub id: u8,
    /// Abstract syntax (SOP class) UID, as proposed.
    pub abstract_syntax: String,
    /// The accepted transfer syntax (empty when rejected).
    pub transfer_syntax: String,
    /// The acceptor's answer.
    pub result: PcResult,
    /// The requestor acts as SCU on this context.
    pub requestor_is_scu: bool,
    /// The requestor acts as SCP on this context (C-GET storage sub-operations).
    pub requestor_is_scp: bool,
}

impl PresentationContext {
    /// Whether the context was accepted.
    pub fn is_accepted(&self) -> bool {
        self.result == PcResult::Acceptance
    }
}

/// Both sides' view of an established association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The requestor's (calling) AE title.
    pub calling_ae: String,
    /// The acceptor's (called) AE title.
    pub called_ae: String,
    /// Every proposed context with its outcome, in proposal order.
    pub contexts: Vec<PresentationContext>,
    /// Largest P-DATA-TF the peer accepts from us (0 = no limit).
    pub peer_max_pdu: u32,
    /// Largest P-DATA-TF we accept from the peer (0 = no limit).
    pub local_max_pdu: u32,
    /// Asynchronous operations window agreed (invoked, performed); (1, 1) when not negotiated.
    pub async_window: (u16, u16),
    /// The peer's implementation class UID.
    pub peer_implementation_class_uid: Option<String>,
    /// The peer's implementation version name.
    pub peer_implementation_version_name: Option<String>,
    /// The requestor's user identity, if it sent one.
    pub user_identity: Option<UserIdentity>,
    /// The acceptor's user identity server response, if it sent one.
    pub user_identity_response: Option<Bytes>,
}

impl Negotiated {
    /// Combine a request and its acceptance (the same computation on both sides).
    pub fn from_exchange(rq: &AssociateRq, ac: &AssociateAc, requestor: bool) -> Self {
        let requested_roles = role_items(rq.user_info());
        let accepted_roles = role_items(ac.user_info());
        let contexts = rq
            .presentation_contexts()
            .map(|p| {
                let answer = ac.presentation_contexts().find(|a| a.id == p.id);
                let abstract_syntax = uid::trim(&p.abstract_syntax).to_string();
                let (req_scu, req_scp) = roles(&abstract_syntax, &requested_roles, &accepted_roles);
                PresentationContext {
                    id: p.id,
                    transfer_syntax: answer
                        .map(|a| uid::trim(&a.transfer_syntax).to_string())
                        .unwrap_or_default(),
                    // A context the acceptor did not answer counts as rejected.
                    result: answer.map(|a| a.result).unwrap_or(PcResult::NoReason),
                    abstract_syntax,
                    requestor_is_scu: req_scu,
                    requestor_is_scp: req_scp,
                }
            })
            .collect();
        let (peer_user, local_user) = if requestor {
            (ac.user_info(), rq.user_info())
        } else {
            (rq.user_info(), ac.user_info())
        };
        let max_of = |u: &[UserItem]| {
            u.iter()
                .find_map(|i| match i {
                    UserItem::MaxLength(n) => Some(*n),
                    _ => None,
                })
                .unwrap_or(0)
        };
        let text_of = |u: &[UserItem], want_version: bool| {
            u.iter().find_map(|i| match i {
                UserItem::ImplementationClassUid(s) if !want_version => {
                    Some(uid::trim(s).to_string())
                }
                UserItem::ImplementationVersionName(s) if want_version => {
                    Some(s.trim().to_string())
                }
                _ => None,
            })
        };
        Negotiated {
            calling_ae: rq.calling_ae.trimmed(),
            called_ae: rq.called_ae.trimmed(),
            contexts,
            peer_max_pdu: max_of(peer_user),
            local_max_pdu: max_of(local_user),
            async_window: async_window(ac.user_info()).unwrap_or((1, 1)),
            peer_implementation_class_uid: text_of(peer_user, false),
            peer_implementation_version_name: text_of(peer_user, true),
            user_identity: identity_of(rq.user_info()),
            user_identity_response: ac.user_info().iter().find_map(|u| match u {
                UserItem::UserIdentityAc { response } => Some(response.clone()),
                _ => None,
            }),
        }
    }

    /// The context with this ID, if it was proposed.
    pub fn context(&self, id: u8) -> Option<&PresentationContext> {
        self.contexts.iter().find(|c| c.id == id)
    }

    /// An accepted context for `abstract_syntax` whose transfer syntax satisfies `accept`,
    /// preferring the order of proposal.
    pub fn find_context(
        &self,
        abstract_syntax: &str,
        mut accept: impl FnMut(&str) -> bool,
    ) -> Option<&PresentationContext> {
        self.contexts.iter().find(|c| {
            c.is_accepted() && c.abstract_syntax == abstract_syntax && accept(&c.transfer_syntax)
        })
    }
}

/// Requestor roles (SCU, SCP) for a SOP class from the role items of both sides
/// (PS3.7 D.3.3.4): a role holds only if proposed and accepted; no item means the default
/// (requestor SCU only).
fn roles(
    sop_class: &str,
    requested: &[(&str, (bool, bool))],
    accepted: &[(&str, (bool, bool))],
) -> (bool, bool) {
    let req = requested.iter().find(|(u, _)| *u == sop_class).map(|r| r.1);
    let acc = accepted.iter().find(|(u, _)| *u == sop_class).map(|r| r.1);
    match (req, acc) {
        (Some((rq_scu, rq_scp)), Some((ac_scu, ac_scp))) => (rq_scu && ac_scu, rq_scp && ac_scp),
        _ => (true, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> AcceptorPolicy {
        let mut p = AcceptorPolicy::new("PACS");
        p.supported.push(SupportedSyntax::uid(
            uid::VERIFICATION,
            &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
        ));
        p.supported.push(SupportedSyntax {
            abstract_syntax: AbstractSyntaxMatch::AnyStorage,
            transfer_syntaxes: TransferSyntaxChoice::RequestorOrder,
            accept_scu_role: false,
        });
        p
    }

    #[test]
    fn acceptor_preference_and_rejection_reasons() {
        let mut prop = Proposal::new("SCU", "PACS");
        prop.contexts.push(ProposedContext::new(
            uid::VERIFICATION,
            &[uid::IMPLICIT_VR_LE, uid::EXPLICIT_VR_LE],
        ));
        prop.contexts
            .push(ProposedContext::new("1.2.3.4", &[uid::IMPLICIT_VR_LE]));
        prop.contexts.push(ProposedContext::new(
            "1.2.840.10008.5.1.4.1.1.2",
            &["1.2.3"],
        ));
        prop.contexts.push(ProposedContext::new(
            "1.2.840.10008.5.1.4.1.1.2",
            &["1.2.840.10008.1.2.4.70", uid::EXPLICIT_VR_LE],
        ));
        let rq = prop.to_request();
        let ac = policy().evaluate(&rq).unwrap();
        let n = Negotiated::from_exchange(&rq, &ac, true);
        assert_eq!(n.contexts[0].transfer_syntax, uid::EXPLICIT_VR_LE);
        assert_eq!(n.contexts[1].result, PcResult::AbstractSyntaxNotSupported);
        assert_eq!(n.contexts[2].result, PcResult::TransferSyntaxesNotSupported);
        assert_eq!(n.contexts[3].transfer_syntax, "1.2.840.10008.1.2.4.70");
        assert_eq!(n.peer_max_pdu, DEFAULT_MAX_PDU);
    }

    #[test]
    fn ae_checks() {
        let rq = Proposal::new("SCU", "OTHER").to_request();
        assert_eq!(
            policy().evaluate(&rq),
            Err(RejectReason::CalledAeNotRecognized)
        );
        let mut p = policy();
        p.allowed_calling_aes = Some(vec!["GOOD".into()]);
        let rq = Proposal::new("BAD", "PACS").to_request();
        assert_eq!(p.evaluate(&rq), Err(RejectReason::CallingAeNotRecognized));
        let mut rq = Proposal::new("GOOD", "PACS").to_request();
        rq.items[0] = Item::ApplicationContext("1.2.3".into());
        assert_eq!(
            p.evaluate(&rq),
            Err(RejectReason::ApplicationContextNotSupported)
        );
    }

    #[test]
    fn role_selection_and_async_window() {
        let mut p = policy();
        p.supported[1].accept_scu_role = true;
        p.async_window = (4, 0);
        let mut prop = Proposal::new("SCU", "PACS");
        prop.async_window = Some((0, 2));
        let mut ctx = ProposedContext::new("1.2.840.10008.5.1.4.1.1.4", &[uid::IMPLICIT_VR_LE]);
        ctx.roles = Some((true, true));
        prop.contexts.push(ctx);
        let rq = prop.to_request();
        let ac = p.evaluate(&rq).unwrap();
        let n = Negotiated::from_exchange(&rq, &ac, false);
        assert!(n.contexts[0].requestor_is_scu && n.contexts[0].requestor_is_scp);
        assert_eq!(n.async_window, (4, 2));

        // Not configured to act as SCU: the SCP role is refused, the default stays.
        let ac = policy().evaluate(&rq).unwrap();
        let n = Negotiated::from_exchange(&rq, &ac, true);
        assert!(n.contexts[0].requestor_is_scu && !n.contexts[0].requestor_is_scp);
    }
}
