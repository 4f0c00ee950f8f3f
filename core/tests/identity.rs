//! User identity negotiation on the acceptor (PS3.7 D.3.3.7): an [`IdentityVerifier`] accepts
//! or rejects (1/1/1), and a positive response goes back only when asked for.

use bytes::Bytes;
use dimse_core::assoc::{
    AcceptorPolicy, IdentityVerifier, Proposal, ProposedContext, SupportedSyntax, UserIdentity,
};
use dimse_core::pdu::{RejectReason, UserItem};
use dimse_core::uid;

fn policy(identity: Option<IdentityVerifier>) -> AcceptorPolicy {
    let mut p = AcceptorPolicy::new("PACS");
    p.supported.push(SupportedSyntax::uid(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    p.identity = identity;
    p
}

fn proposal(identity: Option<UserIdentity>) -> Proposal {
    let mut p = Proposal::new("MODALITY", "PACS");
    p.contexts.push(ProposedContext::new(
        uid::VERIFICATION,
        &[uid::IMPLICIT_VR_LE],
    ));
    p.user_identity = identity;
    p
}

fn password(user: &str, pass: &str, positive: bool) -> Option<UserIdentity> {
    Some(UserIdentity {
        kind: 2,
        positive_response_requested: positive,
        primary: Bytes::copy_from_slice(user.as_bytes()),
        secondary: Bytes::copy_from_slice(pass.as_bytes()),
    })
}

fn identity_reply(policy: &AcceptorPolicy, p: &Proposal) -> Result<Option<Bytes>, RejectReason> {
    let ac = policy.evaluate(&p.to_request())?;
    Ok(ac.user_info().iter().find_map(|u| match u {
        UserItem::UserIdentityAc { response } => Some(response.clone()),
        _ => None,
    }))
}

#[test]
fn without_a_verifier_any_identity_or_none_is_accepted() {
    let open = policy(None);
    assert_eq!(identity_reply(&open, &proposal(None)), Ok(None));
    assert_eq!(
        identity_reply(&open, &proposal(password("x", "y", true))),
        Ok(None),
        "no verifier: nothing was checked, so nothing is confirmed"
    );
}

#[test]
fn passcodes_accept_exactly_the_configured_pairs() {
    let guarded = policy(Some(IdentityVerifier::passcodes(&[
        ("alice", "s3cret"),
        ("bob", "hunter2"),
    ])));
    assert_eq!(
        identity_reply(&guarded, &proposal(password("alice", "s3cret", false))),
        Ok(None)
    );
    assert_eq!(
        identity_reply(&guarded, &proposal(password("bob", "hunter2", true))),
        Ok(Some(Bytes::new())),
        "a positive response for a username kind is empty"
    );
    for wrong in [
        password("alice", "hunter2", false),
        password("alice", "s3cre", false),
        password("carol", "s3cret", false),
        None,
    ] {
        assert_eq!(
            identity_reply(&guarded, &proposal(wrong.clone())),
            Err(RejectReason::UserNoReason),
            "{wrong:?}"
        );
    }
    let username_only = UserIdentity {
        kind: 1,
        positive_response_requested: false,
        primary: Bytes::from_static(b"alice"),
        secondary: Bytes::new(),
    };
    assert_eq!(
        identity_reply(&guarded, &proposal(Some(username_only))),
        Err(RejectReason::UserNoReason)
    );
}

#[test]
fn a_custom_verifier_sees_the_calling_ae_and_answers() {
    let jwt = policy(Some(IdentityVerifier::new(|calling, id| {
        let id = id?;
        (calling == "MODALITY" && id.kind == 5 && id.primary.starts_with(b"eyJ"))
            .then(|| Bytes::from_static(b"welcome"))
    })));
    let token = |positive| {
        Some(UserIdentity {
            kind: 5,
            positive_response_requested: positive,
            primary: Bytes::from_static(b"eyJhbGciOi"),
            secondary: Bytes::new(),
        })
    };
    assert_eq!(
        identity_reply(&jwt, &proposal(token(true))),
        Ok(Some(Bytes::from_static(b"welcome")))
    );
    assert_eq!(identity_reply(&jwt, &proposal(token(false))), Ok(None));
    let mut other = proposal(token(true));
    other.calling_ae = "INTRUDER".into();
    assert_eq!(
        identity_reply(&jwt, &other),
        Err(RejectReason::UserNoReason)
    );
}

/// AE titles that break PS3.5's rules for VR AE are rejected as not recognized.
#[test]
fn invalid_ae_titles_are_rejected() {
    let open = policy(None);
    for (calling, called, reason) in [
        ("MOD\u{1}", "PACS", RejectReason::CallingAeNotRecognized),
        ("MOD\\ALITY", "PACS", RejectReason::CallingAeNotRecognized),
        (
            "                ",
            "PACS",
            RejectReason::CallingAeNotRecognized,
        ),
        (
            "MODALITY",
            "PA\u{7f}CS",
            RejectReason::CalledAeNotRecognized,
        ),
    ] {
        let mut p = proposal(None);
        p.calling_ae = calling.into();
        p.called_ae = called.into();
        assert_eq!(
            open.evaluate(&p.to_request()).map(|_| ()),
            Err(reason),
            "{calling:?} -> {called:?}"
        );
    }
}
