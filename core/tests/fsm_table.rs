//! PS3.8 Table 9-10, checked cell by cell.
//!
//! `TABLE_9_10` below is the transition table copied verbatim from the
//! reference sheet (`shared/reference/state-machine.md` §4), one row per
//! event and one column per state, in the sheet's own notation
//! ("ACTION→next state", "·" for an undefined cell). It is deliberately kept
//! as strings rather than enum values so it can be compared with the sheet by
//! eye and is independent of the `match` in `fsm::transition`.
//!
//! The two conditional cells are read as documented in `fsm`:
//! "AE-6→3/13" expects Sta3 (the caller moves to Sta13 on a provider-level
//! reject) and "AR-8→9/10" expects Sta9 on the requestor side and Sta10 on
//! the acceptor side.

use dimse_core::assoc::fsm::{transition, Event, Side, State};

/// Table 9-10 from the reference sheet. Columns: Sta1 … Sta13.
#[rustfmt::skip]
const TABLE_9_10: [[&str; 13]; 19] = [
    //             Sta1      Sta2 …
    /* Evt1  */ ["AE-1→4", "·", "·", "·", "·", "·", "·", "·", "·", "·", "·", "·", "·"],
    /* Evt2  */ ["·", "·", "·", "AE-2→5", "·", "·", "·", "·", "·", "·", "·", "·", "·"],
    /* Evt3  */ ["·", "AA-1→13", "AA-8→13", "·", "AE-3→6", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-6→13"],
    /* Evt4  */ ["·", "AA-1→13", "AA-8→13", "·", "AE-4→1", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-6→13"],
    /* Evt5  */ ["AE-5→2", "·", "·", "·", "·", "·", "·", "·", "·", "·", "·", "·", "·"],
    /* Evt6  */ ["·", "AE-6→3/13", "AA-8→13", "·", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-7→13"],
    /* Evt7  */ ["·", "·", "AE-7→6", "·", "·", "·", "·", "·", "·", "·", "·", "·", "·"],
    /* Evt8  */ ["·", "·", "AE-8→13", "·", "·", "·", "·", "·", "·", "·", "·", "·", "·"],
    /* Evt9  */ ["·", "·", "·", "·", "·", "DT-1→6", "·", "AR-7→8", "·", "·", "·", "·", "·"],
    /* Evt10 */ ["·", "AA-1→13", "AA-8→13", "·", "AA-8→13", "DT-2→6", "AR-6→7", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-6→13"],
    /* Evt11 */ ["·", "·", "·", "·", "·", "AR-1→7", "·", "·", "·", "·", "·", "·", "·"],
    /* Evt12 */ ["·", "AA-1→13", "AA-8→13", "·", "AA-8→13", "AR-2→8", "AR-8→9/10", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-6→13"],
    /* Evt13 */ ["·", "AA-1→13", "AA-8→13", "·", "AA-8→13", "AA-8→13", "AR-3→1", "AA-8→13", "AA-8→13", "AR-10→12", "AR-3→1", "AA-8→13", "AA-6→13"],
    /* Evt14 */ ["·", "·", "·", "·", "·", "·", "·", "AR-4→13", "AR-9→11", "·", "·", "AR-4→13", "·"],
    /* Evt15 */ ["·", "·", "AA-1→13", "AA-2→1", "AA-1→13", "AA-1→13", "AA-1→13", "AA-1→13", "AA-1→13", "AA-1→13", "AA-1→13", "AA-1→13", "·"],
    /* Evt16 */ ["·", "AA-2→1", "AA-3→1", "·", "AA-3→1", "AA-3→1", "AA-3→1", "AA-3→1", "AA-3→1", "AA-3→1", "AA-3→1", "AA-3→1", "AA-2→1"],
    /* Evt17 */ ["·", "AA-5→1", "AA-4→1", "AA-4→1", "AA-4→1", "AA-4→1", "AA-4→1", "AA-4→1", "AA-4→1", "AA-4→1", "AA-4→1", "AA-4→1", "AR-5→1"],
    /* Evt18 */ ["·", "AA-2→1", "·", "·", "·", "·", "·", "·", "·", "·", "·", "·", "AA-2→1"],
    /* Evt19 */ ["·", "AA-1→13", "AA-8→13", "·", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-8→13", "AA-7→13"],
];

/// The expected `(action name, next state number)` for one cell and side, or
/// `None` for "·".
fn expected(cell: &str, side: Side) -> Option<(String, u8)> {
    if cell == "·" {
        return None;
    }
    let (action, next) = cell
        .split_once('→')
        .unwrap_or_else(|| panic!("malformed cell {cell:?}"));
    let next = match (action, next.split_once('/')) {
        (_, None) => next,
        // AE-6: the table's Sta3 branch; Sta13 is the caller's business.
        ("AE-6", Some((accepted, _rejected))) => accepted,
        ("AR-8", Some((requestor, acceptor))) => match side {
            Side::Requestor => requestor,
            Side::Acceptor => acceptor,
        },
        (other, Some(_)) => panic!("unexpected two-way cell for {other}: {cell:?}"),
    };
    Some((action.to_owned(), next.parse().expect("next state number")))
}

#[test]
fn every_cell_matches_table_9_10() {
    let mut mismatches = Vec::new();
    for side in [Side::Requestor, Side::Acceptor] {
        for (row, event) in Event::ALL.iter().enumerate() {
            assert_eq!(event.number() as usize, row + 1);
            for (col, state) in State::ALL.iter().enumerate() {
                assert_eq!(state.number() as usize, col + 1);
                let cell = TABLE_9_10[row][col];
                let want = expected(cell, side);
                let got = transition(*state, *event, side)
                    .map(|(action, next)| (action.name().to_owned(), next.number()));
                if want != got {
                    mismatches.push(format!(
                        "{side:?} Sta{} + Evt{}: table {cell:?}, transition() {got:?}",
                        state.number(),
                        event.number()
                    ));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatching cells:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn cell_counts() {
    let cells: Vec<&str> = TABLE_9_10.iter().flatten().copied().collect();
    assert_eq!(cells.len(), 247);
    // The sheet itself says 123 defined / 124 undefined; check our copy.
    assert_eq!(cells.iter().filter(|c| **c != "·").count(), 123);

    for side in [Side::Requestor, Side::Acceptor] {
        let defined = Event::ALL
            .iter()
            .flat_map(|e| State::ALL.iter().map(move |s| (*s, *e)))
            .filter(|(s, e)| transition(*s, *e, side).is_some())
            .count();
        assert_eq!(defined, 123, "{side:?}");
    }
}

#[test]
fn side_only_matters_for_release_collision() {
    for event in Event::ALL {
        for state in State::ALL {
            let req = transition(state, event, Side::Requestor);
            let acc = transition(state, event, Side::Acceptor);
            if (state, event) == (State::Sta7, Event::Evt12) {
                assert_eq!(req.map(|c| c.1), Some(State::Sta9));
                assert_eq!(acc.map(|c| c.1), Some(State::Sta10));
            } else {
                assert_eq!(req, acc, "{state:?} + {event:?}");
            }
        }
    }
}
