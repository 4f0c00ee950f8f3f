//! The sub-operation counters of C-GET and C-MOVE responses.

use super::command::CommandError;
use super::field::{set_opt_u16, Reader};
use super::{tags, CommandSet};

/// The sub-operation counters (0000,1020)–(0000,1023) of C-GET-RSP and C-MOVE-RSP.
///
/// Each is optional on the wire (PS3.4 C.4.2.1.5: all four *shall* be in Pending responses,
/// Remaining *shall not* be in final ones), so each is an `Option`; a receiver can tell "not
/// sent" from zero.
///
/// ```
/// use dimse_core::dimse::SubOperations;
///
/// let pending = SubOperations::pending(3, 1, 0, 0);
/// assert_eq!(pending.remaining, Some(3));
/// let done = SubOperations::finished(4, 0, 0);
/// assert_eq!((done.remaining, done.completed), (None, Some(4)));
/// assert!(SubOperations::default().is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubOperations {
    /// NumberOfRemainingSuboperations (0000,1020).
    pub remaining: Option<u16>,
    /// NumberOfCompletedSuboperations (0000,1021).
    pub completed: Option<u16>,
    /// NumberOfFailedSuboperations (0000,1022).
    pub failed: Option<u16>,
    /// NumberOfWarningSuboperations (0000,1023).
    pub warning: Option<u16>,
}

impl SubOperations {
    /// All four counters, as a Pending response must carry them.
    pub fn pending(remaining: u16, completed: u16, failed: u16, warning: u16) -> Self {
        SubOperations {
            remaining: Some(remaining),
            completed: Some(completed),
            failed: Some(failed),
            warning: Some(warning),
        }
    }

    /// Completed, failed and warning counts without Remaining, as a final (success, warning,
    /// failure or cancel) response should carry them.
    pub fn finished(completed: u16, failed: u16, warning: u16) -> Self {
        SubOperations {
            remaining: None,
            completed: Some(completed),
            failed: Some(failed),
            warning: Some(warning),
        }
    }

    /// Whether no counter is set.
    pub fn is_empty(&self) -> bool {
        *self == SubOperations::default()
    }

    pub(super) fn write(&self, cmd: &mut CommandSet) {
        set_opt_u16(cmd, tags::NUMBER_OF_REMAINING_SUBOPERATIONS, self.remaining);
        set_opt_u16(cmd, tags::NUMBER_OF_COMPLETED_SUBOPERATIONS, self.completed);
        set_opt_u16(cmd, tags::NUMBER_OF_FAILED_SUBOPERATIONS, self.failed);
        set_opt_u16(cmd, tags::NUMBER_OF_WARNING_SUBOPERATIONS, self.warning);
    }

    pub(super) fn read(r: &Reader<'_>) -> Result<Self, CommandError> {
        Ok(SubOperations {
            remaining: r.opt_u16(tags::NUMBER_OF_REMAINING_SUBOPERATIONS)?,
            completed: r.opt_u16(tags::NUMBER_OF_COMPLETED_SUBOPERATIONS)?,
            failed: r.opt_u16(tags::NUMBER_OF_FAILED_SUBOPERATIONS)?,
            warning: r.opt_u16(tags::NUMBER_OF_WARNING_SUBOPERATIONS)?,
        })
    }
}
