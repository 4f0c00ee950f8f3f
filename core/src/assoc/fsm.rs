//! The DICOM Upper Layer protocol state machine (PS3.8 §9.2).
//!
//! This module is pure data: the 13 states (Tables 9-1…9-5), the 19 events,
//! the 28 actions (Tables 9-6…9-9) and the state transition table
//! (Table 9-10) as one literal table in [`transition`]. It performs no I/O and
//! keeps no state; the association driver feeds it `(state, event)` pairs and
//! performs the returned action.
//!
//! Two cells in the standard have a conditional next state:
//!
//! * **AE-6** (Sta2 + Evt6, A-ASSOCIATE-RQ received): the standard's next
//!   state is Sta3 when the DUL provider finds the request acceptable, or Sta13
//!   after it sends an A-ASSOCIATE-RJ itself (e.g. unsupported protocol
//!   version). [`transition`] returns **Sta3**; a caller whose provider-level
//!   check rejects the request sends the RJ, starts ARTIM and moves to
//!   [`State::Sta13`] itself.
//! * **AR-8** (Sta7 + Evt12, release collision): the next state depends on
//!   which side of the association this is, which is why [`transition`] takes
//!   a [`Side`]: requestor → Sta9, acceptor → Sta10.
//!
//! The 124 cells the standard leaves empty return `None`. The standard does
//! not define behaviour for them; most are local primitives issued in an
//! impossible state (API misuse) or PDUs arriving before a connection exists,
//! so the caller should report an error rather than abort the peer.

use core::fmt;

/// Upper-layer protocol states (PS3.8 Tables 9-1…9-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Idle. No association and no transport connection.
    Sta1,
    /// Acceptor: transport connection accepted; waiting for the peer's
    /// A-ASSOCIATE-RQ PDU (ARTIM running).
    Sta2,
    /// Acceptor: A-ASSOCIATE-RQ delivered to the local user; waiting for the
    /// local user's accept/reject response.
    Sta3,
    /// Requestor: transport connect issued; waiting for the local transport
    /// to report that the connection is open.
    Sta4,
    /// Requestor: A-ASSOCIATE-RQ sent; waiting for the peer's A-ASSOCIATE-AC
    /// or A-ASSOCIATE-RJ PDU.
    Sta5,
    /// Data transfer: association established; P-DATA may flow both ways.
    Sta6,
    /// Release: the local side sent A-RELEASE-RQ; waiting for A-RELEASE-RP
    /// (incoming P-DATA is still delivered).
    Sta7,
    /// Release: the peer's A-RELEASE-RQ was delivered to the local user;
    /// waiting for the local release response (local P-DATA may still be
    /// sent).
    Sta8,
    /// Release collision, requestor side: both sides sent A-RELEASE-RQ; this
    /// side (association requestor) waits for its local user's release
    /// response.
    Sta9,
    /// Release collision, acceptor side: both sides sent A-RELEASE-RQ; this
    /// side (association acceptor) waits for the peer's A-RELEASE-RP.
    Sta10,
    /// Release collision, requestor side: the requestor has sent its
    /// A-RELEASE-RP; waiting for the peer's A-RELEASE-RP.
    Sta11,
    /// Release collision, acceptor side: the acceptor received the peer's
    /// A-RELEASE-RP; waiting for its local user's release response.
    Sta12,
    /// Wait for close: the association no longer exists; waiting for the
    /// transport connection to close (ARTIM normally running).
    Sta13,
}

impl State {
    /// All states in numeric order (Sta1 first).
    pub const ALL: [State; 13] = [
        State::Sta1,
        State::Sta2,
        State::Sta3,
        State::Sta4,
        State::Sta5,
        State::Sta6,
        State::Sta7,
        State::Sta8,
        State::Sta9,
        State::Sta10,
        State::Sta11,
        State::Sta12,
        State::Sta13,
    ];

    /// The state's number in the standard (1–13).
    pub const fn number(self) -> u8 {
        self as u8 + 1
    }

    /// The state with the given number (1–13), if any.
    pub const fn from_number(n: u8) -> Option<State> {
        if n >= 1 && n <= 13 {
            Some(State::ALL[(n - 1) as usize])
        } else {
            None
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sta{}", self.number())
    }
}

/// Upper-layer protocol events (PS3.8 Table 9-10 rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    /// Local user: A-ASSOCIATE request primitive (open an association).
    Evt1,
    /// Local transport: transport connect confirmation (outgoing TCP connect
    /// completed).
    Evt2,
    /// Peer: A-ASSOCIATE-AC PDU received.
    Evt3,
    /// Peer: A-ASSOCIATE-RJ PDU received.
    Evt4,
    /// Local transport: transport connection indication (incoming TCP
    /// connection).
    Evt5,
    /// Peer: A-ASSOCIATE-RQ PDU received.
    Evt6,
    /// Local user: A-ASSOCIATE response primitive, accept.
    Evt7,
    /// Local user: A-ASSOCIATE response primitive, reject.
    Evt8,
    /// Local user: P-DATA request primitive (send data).
    Evt9,
    /// Peer: P-DATA-TF PDU received.
    Evt10,
    /// Local user: A-RELEASE request primitive.
    Evt11,
    /// Peer: A-RELEASE-RQ PDU received.
    Evt12,
    /// Peer: A-RELEASE-RP PDU received.
    Evt13,
    /// Local user: A-RELEASE response primitive.
    Evt14,
    /// Local user: A-ABORT request primitive.
    Evt15,
    /// Peer: A-ABORT PDU received.
    Evt16,
    /// Local transport: transport connection closed indication.
    Evt17,
    /// Local timer: ARTIM timer expired.
    Evt18,
    /// Peer: unrecognized or invalid PDU received.
    Evt19,
}

impl Event {
    /// All events in numeric order (Evt1 first).
    pub const ALL: [Event; 19] = [
        Event::Evt1,
        Event::Evt2,
        Event::Evt3,
        Event::Evt4,
        Event::Evt5,
        Event::Evt6,
        Event::Evt7,
        Event::Evt8,
        Event::Evt9,
        Event::Evt10,
        Event::Evt11,
        Event::Evt12,
        Event::Evt13,
        Event::Evt14,
        Event::Evt15,
        Event::Evt16,
        Event::Evt17,
        Event::Evt18,
        Event::Evt19,
    ];

    /// The event's number in the standard (1–19).
    pub const fn number(self) -> u8 {
        self as u8 + 1
    }

    /// The event with the given number (1–19), if any.
    pub const fn from_number(n: u8) -> Option<Event> {
        if n >= 1 && n <= 19 {
            Some(Event::ALL[(n - 1) as usize])
        } else {
            None
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Evt{}", self.number())
    }
}

/// Upper-layer protocol actions (PS3.8 Tables 9-6…9-9).
///
/// Each action's doc states what the driver must do; the next state comes
/// from [`transition`], not from the action, because AE-6 and AR-8 have more
/// than one possible next state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// AE-1: ask the transport to open a TCP connection to the peer (→ Sta4).
    Ae1,
    /// AE-2: send the A-ASSOCIATE-RQ PDU (→ Sta5).
    Ae2,
    /// AE-3: deliver an A-ASSOCIATE confirmation (accept) to the local user
    /// (→ Sta6).
    Ae3,
    /// AE-4: deliver an A-ASSOCIATE confirmation (reject) to the local user
    /// and close the transport (→ Sta1).
    Ae4,
    /// AE-5: accept the incoming transport connection and start ARTIM
    /// (→ Sta2).
    Ae5,
    /// AE-6: stop ARTIM; if the A-ASSOCIATE-RQ is acceptable to the DUL
    /// provider (e.g. protocol version), deliver an A-ASSOCIATE indication to
    /// the local user (→ Sta3); otherwise send A-ASSOCIATE-RJ and start ARTIM
    /// (→ Sta13). [`transition`] reports Sta3; the caller moves to Sta13 on a
    /// provider-level reject.
    Ae6,
    /// AE-7: send the A-ASSOCIATE-AC PDU (→ Sta6).
    Ae7,
    /// AE-8: send the A-ASSOCIATE-RJ PDU and start ARTIM (→ Sta13).
    Ae8,
    /// DT-1: send a P-DATA-TF PDU (→ Sta6).
    Dt1,
    /// DT-2: deliver a P-DATA indication to the local user (→ Sta6).
    Dt2,
    /// AR-1: send the A-RELEASE-RQ PDU (→ Sta7).
    Ar1,
    /// AR-2: deliver an A-RELEASE indication to the local user (→ Sta8).
    Ar2,
    /// AR-3: deliver an A-RELEASE confirmation to the local user and close
    /// the transport (→ Sta1).
    Ar3,
    /// AR-4: send the A-RELEASE-RP PDU and start ARTIM (→ Sta13).
    Ar4,
    /// AR-5: stop ARTIM (→ Sta1).
    Ar5,
    /// AR-6: deliver a P-DATA indication while waiting for A-RELEASE-RP
    /// (→ Sta7).
    Ar6,
    /// AR-7: send a P-DATA-TF PDU while the peer's release is pending
    /// (→ Sta8).
    Ar7,
    /// AR-8: deliver an A-RELEASE indication (release collision); requestor
    /// → Sta9, acceptor → Sta10.
    Ar8,
    /// AR-9: send the A-RELEASE-RP PDU (→ Sta11).
    Ar9,
    /// AR-10: deliver an A-RELEASE confirmation to the local user (→ Sta12).
    Ar10,
    /// AA-1: send an A-ABORT PDU (source: service user) and start ARTIM,
    /// restarting it if already running (→ Sta13).
    Aa1,
    /// AA-2: stop ARTIM if running and close the transport (→ Sta1).
    Aa2,
    /// AA-3: the peer aborted: deliver A-ABORT (peer service-user source) or
    /// A-P-ABORT (provider source) indication to the local user and close the
    /// transport (→ Sta1).
    Aa3,
    /// AA-4: deliver an A-P-ABORT indication to the local user (connection
    /// lost) (→ Sta1).
    Aa4,
    /// AA-5: stop ARTIM (→ Sta1).
    Aa5,
    /// AA-6: ignore (discard) the received PDU (→ Sta13).
    Aa6,
    /// AA-7: send an A-ABORT PDU (→ Sta13).
    Aa7,
    /// AA-8: send an A-ABORT PDU (source: service provider), deliver an
    /// A-P-ABORT indication to the local user and start ARTIM (→ Sta13).
    Aa8,
}

impl Action {
    /// The action's name as written in the standard, e.g. `"AE-1"`.
    pub const fn name(self) -> &'static str {
        match self {
            Action::Ae1 => "AE-1",
            Action::Ae2 => "AE-2",
            Action::Ae3 => "AE-3",
            Action::Ae4 => "AE-4",
            Action::Ae5 => "AE-5",
            Action::Ae6 => "AE-6",
            Action::Ae7 => "AE-7",
            Action::Ae8 => "AE-8",
            Action::Dt1 => "DT-1",
            Action::Dt2 => "DT-2",
            Action::Ar1 => "AR-1",
            Action::Ar2 => "AR-2",
            Action::Ar3 => "AR-3",
            Action::Ar4 => "AR-4",
            Action::Ar5 => "AR-5",
            Action::Ar6 => "AR-6",
            Action::Ar7 => "AR-7",
            Action::Ar8 => "AR-8",
            Action::Ar9 => "AR-9",
            Action::Ar10 => "AR-10",
            Action::Aa1 => "AA-1",
            Action::Aa2 => "AA-2",
            Action::Aa3 => "AA-3",
            Action::Aa4 => "AA-4",
            Action::Aa5 => "AA-5",
            Action::Aa6 => "AA-6",
            Action::Aa7 => "AA-7",
            Action::Aa8 => "AA-8",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which end of the association this state machine runs on.
///
/// Only the release collision (AR-8) depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The side that sent the A-ASSOCIATE-RQ.
    Requestor,
    /// The side that received the A-ASSOCIATE-RQ.
    Acceptor,
}

/// Looks up PS3.8 Table 9-10: the action to perform and the next state for
/// `event` arriving in `state`.
///
/// Returns `None` for the 124 cells the standard leaves undefined.
///
/// AE-6 returns Sta3 (the caller moves to Sta13 itself if the provider
/// rejects the request); AR-8 returns Sta9 for [`Side::Requestor`] and Sta10
/// for [`Side::Acceptor`].
pub fn transition(state: State, event: Event, side: Side) -> Option<(Action, State)> {
    use Action::*;
    use Event::*;
    use State::*;

    // The release collision is the only side-dependent cell.
    let ar8_next = match side {
        Side::Requestor => Sta9,
        Side::Acceptor => Sta10,
    };

    // One arm per row of Table 9-10, in the standard's order. Within a row,
    // the specific cells come first and the "every other state" cells
    // (mostly AA-8) are spelled out as an explicit state list so that every
    // defined cell is visible here.
    let cell = match (event, state) {
        // Evt1: A-ASSOCIATE request (local user)
        (Evt1, Sta1) => (Ae1, Sta4),

        // Evt2: transport connect confirmation
        (Evt2, Sta4) => (Ae2, Sta5),

        // Evt3: A-ASSOCIATE-AC PDU received
        (Evt3, Sta2) => (Aa1, Sta13),
        (Evt3, Sta5) => (Ae3, Sta6),
        (Evt3, Sta3 | Sta6 | Sta7 | Sta8 | Sta9 | Sta10 | Sta11 | Sta12) => (Aa8, Sta13),
        (Evt3, Sta13) => (Aa6, Sta13),

        // Evt4: A-ASSOCIATE-RJ PDU received
        (Evt4, Sta2) => (Aa1, Sta13),
        (Evt4, Sta5) => (Ae4, Sta1),
        (Evt4, Sta3 | Sta6 | Sta7 | Sta8 | Sta9 | Sta10 | Sta11 | Sta12) => (Aa8, Sta13),
        (Evt4, Sta13) => (Aa6, Sta13),

        // Evt5: transport connection indication
        (Evt5, Sta1) => (Ae5, Sta2),

        // Evt6: A-ASSOCIATE-RQ PDU received
        (Evt6, Sta2) => (Ae6, Sta3),
        (Evt6, Sta3 | Sta5 | Sta6 | Sta7 | Sta8 | Sta9 | Sta10 | Sta11 | Sta12) => (Aa8, Sta13),
        (Evt6, Sta13) => (Aa7, Sta13),

        // Evt7: A-ASSOCIATE response primitive (accept)
        (Evt7, Sta3) => (Ae7, Sta6),

        // Evt8: A-ASSOCIATE response primitive (reject)
        (Evt8, Sta3) => (Ae8, Sta13),

        // Evt9: P-DATA request primitive
        (Evt9, Sta6) => (Dt1, Sta6),
        (Evt9, Sta8) => (Ar7, Sta8),

        // Evt10: P-DATA-TF PDU received
        (Evt10, Sta2) => (Aa1, Sta13),
        (Evt10, Sta6) => (Dt2, Sta6),
        (Evt10, Sta7) => (Ar6, Sta7),
        (Evt10, Sta3 | Sta5 | Sta8 | Sta9 | Sta10 | Sta11 | Sta12) => (Aa8, Sta13),
        (Evt10, Sta13) => (Aa6, Sta13),

        // Evt11: A-RELEASE request primitive
        (Evt11, Sta6) => (Ar1, Sta7),

        // Evt12: A-RELEASE-RQ PDU received
        (Evt12, Sta2) => (Aa1, Sta13),
        (Evt12, Sta6) => (Ar2, Sta8),
        (Evt12, Sta7) => (Ar8, ar8_next),
        (Evt12, Sta3 | Sta5 | Sta8 | Sta9 | Sta10 | Sta11 | Sta12) => (Aa8, Sta13),
        (Evt12, Sta13) => (Aa6, Sta13),

        // Evt13: A-RELEASE-RP PDU received
        (Evt13, Sta2) => (Aa1, Sta13),
        (Evt13, Sta7) => (Ar3, Sta1),
        (Evt13, Sta10) => (Ar10, Sta12),
        (Evt13, Sta11) => (Ar3, Sta1),
        (Evt13, Sta3 | Sta5 | Sta6 | Sta8 | Sta9 | Sta12) => (Aa8, Sta13),
        (Evt13, Sta13) => (Aa6, Sta13),

        // Evt14: A-RELEASE response primitive
        (Evt14, Sta8) => (Ar4, Sta13),
        (Evt14, Sta9) => (Ar9, Sta11),
        (Evt14, Sta12) => (Ar4, Sta13),

        // Evt15: A-ABORT request primitive
        (Evt15, Sta4) => (Aa2, Sta1),
        (Evt15, Sta3 | Sta5 | Sta6 | Sta7 | Sta8 | Sta9 | Sta10 | Sta11 | Sta12) => (Aa1, Sta13),

        // Evt16: A-ABORT PDU received
        (Evt16, Sta2 | Sta13) => (Aa2, Sta1),
        (Evt16, Sta3 | Sta5 | Sta6 | Sta7 | Sta8 | Sta9 | Sta10 | Sta11 | Sta12) => (Aa3, Sta1),

        // Evt17: transport connection closed indication
        (Evt17, Sta2) => (Aa5, Sta1),
        (Evt17, Sta3 | Sta4 | Sta5 | Sta6 | Sta7 | Sta8 | Sta9 | Sta10 | Sta11 | Sta12) => {
            (Aa4, Sta1)
        }
        (Evt17, Sta13) => (Ar5, Sta1),

        // Evt18: ARTIM timer expired
        (Evt18, Sta2 | Sta13) => (Aa2, Sta1),

        // Evt19: unrecognized or invalid PDU received
        (Evt19, Sta2) => (Aa1, Sta13),
        (Evt19, Sta3 | Sta5 | Sta6 | Sta7 | Sta8 | Sta9 | Sta10 | Sta11 | Sta12) => (Aa8, Sta13),
        (Evt19, Sta13) => (Aa7, Sta13),

        // The remaining 124 cells have no entry in the standard.
        _ => return None,
    };
    Some(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for (i, s) in State::ALL.iter().enumerate() {
            assert_eq!(s.number() as usize, i + 1);
            assert_eq!(State::from_number(s.number()), Some(*s));
        }
        for (i, e) in Event::ALL.iter().enumerate() {
            assert_eq!(e.number() as usize, i + 1);
            assert_eq!(Event::from_number(e.number()), Some(*e));
        }
        assert_eq!(State::from_number(0), None);
        assert_eq!(State::from_number(14), None);
        assert_eq!(Event::from_number(20), None);
    }

    #[test]
    fn defined_cell_count() {
        for side in [Side::Requestor, Side::Acceptor] {
            let defined = Event::ALL
                .iter()
                .flat_map(|e| State::ALL.iter().map(move |s| (*s, *e)))
                .filter(|(s, e)| transition(*s, *e, side).is_some())
                .count();
            assert_eq!(defined, 123);
        }
    }

    #[test]
    fn normal_paths() {
        let walk = |side, start, events: &[Event]| {
            events.iter().fold(start, |s, e| {
                transition(s, *e, side)
                    .unwrap_or_else(|| panic!("{s} + {e} undefined"))
                    .1
            })
        };
        use Event::*;
        // Requestor: associate, release, closed.
        assert_eq!(
            walk(
                Side::Requestor,
                State::Sta1,
                &[Evt1, Evt2, Evt3, Evt9, Evt10, Evt11, Evt13]
            ),
            State::Sta1
        );
        // Acceptor: associate, peer releases, transport closes.
        assert_eq!(
            walk(
                Side::Acceptor,
                State::Sta1,
                &[Evt5, Evt6, Evt7, Evt10, Evt12, Evt14, Evt17]
            ),
            State::Sta1
        );
        // Release collision on both sides.
        assert_eq!(
            walk(Side::Requestor, State::Sta6, &[Evt11, Evt12, Evt14, Evt13]),
            State::Sta1
        );
        assert_eq!(
            walk(
                Side::Acceptor,
                State::Sta6,
                &[Evt11, Evt12, Evt13, Evt14, Evt17]
            ),
            State::Sta1
        );
    }

    #[test]
    fn action_names() {
        assert_eq!(Action::Ae1.name(), "AE-1");
        assert_eq!(Action::Dt2.name(), "DT-2");
        assert_eq!(Action::Ar10.name(), "AR-10");
        assert_eq!(Action::Aa8.to_string(), "AA-8");
    }
}
