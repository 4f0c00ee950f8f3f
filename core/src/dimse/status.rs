use std::fmt;

use super::command_field as cf;

/// A DIMSE status code (0000,0900).
///
/// Classification follows PS3.7 Annex C as DCMTK and pynetdicom apply it; the meaning of a
/// code can depend on the service, so [`meaning`](Self::meaning) takes the command field.
///
/// ```
/// use dimse_core::dimse::{command_field, Status, StatusClass};
///
/// let s = Status(0xA702);
/// assert_eq!(s.class(), StatusClass::Failure);
/// assert_eq!(
///     s.meaning(command_field::C_MOVE_RSP),
///     "refused: out of resources, unable to perform sub-operations"
/// );
/// assert_eq!(Status::OUT_OF_RESOURCES.to_string(), "0xA700 (Failure: refused: out of resources)");
/// assert!(Status::PENDING_WARNING.is_pending());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Status(pub u16);

/// The class of a status code (PS3.7 Annex C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// 0x0000.
    Success,
    /// 0xFF00 and 0xFF01: more responses follow.
    Pending,
    /// 0xFE00: the operation was terminated by C-CANCEL.
    Cancel,
    /// 0x0001, 0x0107, 0x0116, 0xB000–0xBFFF.
    Warning,
    /// 0xA000–0xAFFF, 0xC000–0xCFFF, 0x01xx, 0x02xx, and every code the standard does not
    /// assign: an unknown status must never be mistaken for success.
    Failure,
}

impl fmt::Display for StatusClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StatusClass::Success => "Success",
            StatusClass::Pending => "Pending",
            StatusClass::Cancel => "Cancel",
            StatusClass::Warning => "Warning",
            StatusClass::Failure => "Failure",
        })
    }
}

impl Status {
    /// 0x0000 Success.
    pub const SUCCESS: Status = Status(0x0000);
    /// 0xFF00 Pending (C-FIND: match, optional keys supported; C-MOVE/GET: sub-operations go on).
    pub const PENDING: Status = Status(0xFF00);
    /// 0xFF01 Pending, C-FIND: match, one or more optional keys not supported.
    pub const PENDING_WARNING: Status = Status(0xFF01);
    /// 0xFE00 Cancel: terminated by C-CANCEL.
    pub const CANCEL: Status = Status(0xFE00);
    /// 0x0001 Warning: requested optional attributes not supported (N-services).
    pub const OPTIONAL_ATTRIBUTES_NOT_SUPPORTED: Status = Status(0x0001);
    /// 0x0105 Failure: no such attribute.
    pub const NO_SUCH_ATTRIBUTE: Status = Status(0x0105);
    /// 0x0106 Failure: invalid attribute value.
    pub const INVALID_ATTRIBUTE_VALUE: Status = Status(0x0106);
    /// 0x0107 Warning: attribute list error.
    pub const ATTRIBUTE_LIST_ERROR: Status = Status(0x0107);
    /// 0x0110 Failure: processing failure.
    pub const PROCESSING_FAILURE: Status = Status(0x0110);
    /// 0x0111 Failure: duplicate SOP instance.
    pub const DUPLICATE_SOP_INSTANCE: Status = Status(0x0111);
    /// 0x0112 Failure: no such SOP instance.
    pub const NO_SUCH_SOP_INSTANCE: Status = Status(0x0112);
    /// 0x0113 Failure: no such event type.
    pub const NO_SUCH_EVENT_TYPE: Status = Status(0x0113);
    /// 0x0114 Failure: no such argument.
    pub const NO_SUCH_ARGUMENT: Status = Status(0x0114);
    /// 0x0115 Failure: invalid argument value.
    pub const INVALID_ARGUMENT_VALUE: Status = Status(0x0115);
    /// 0x0116 Warning: attribute value out of range.
    pub const ATTRIBUTE_VALUE_OUT_OF_RANGE: Status = Status(0x0116);
    /// 0x0117 Failure: invalid SOP instance.
    pub const INVALID_SOP_INSTANCE: Status = Status(0x0117);
    /// 0x0118 Failure: no such SOP class.
    pub const NO_SUCH_SOP_CLASS: Status = Status(0x0118);
    /// 0x0119 Failure: class-instance conflict.
    pub const CLASS_INSTANCE_CONFLICT: Status = Status(0x0119);
    /// 0x0120 Failure: missing attribute.
    pub const MISSING_ATTRIBUTE: Status = Status(0x0120);
    /// 0x0121 Failure: missing attribute value.
    pub const MISSING_ATTRIBUTE_VALUE: Status = Status(0x0121);
    /// 0x0122 Failure: refused, SOP class not supported.
    pub const SOP_CLASS_NOT_SUPPORTED: Status = Status(0x0122);
    /// 0x0123 Failure: no such action.
    pub const NO_SUCH_ACTION: Status = Status(0x0123);
    /// 0x0124 Failure: refused, not authorized.
    pub const NOT_AUTHORIZED: Status = Status(0x0124);
    /// 0x0210 Failure: duplicate invocation.
    pub const DUPLICATE_INVOCATION: Status = Status(0x0210);
    /// 0x0211 Failure: unrecognized operation.
    pub const UNRECOGNIZED_OPERATION: Status = Status(0x0211);
    /// 0x0212 Failure: mistyped argument.
    pub const MISTYPED_ARGUMENT: Status = Status(0x0212);
    /// 0x0213 Failure: resource limitation.
    pub const RESOURCE_LIMITATION: Status = Status(0x0213);
    /// 0xA700 Failure: refused, out of resources (C-STORE, C-FIND).
    pub const OUT_OF_RESOURCES: Status = Status(0xA700);
    /// 0xA701 Failure: out of resources, unable to calculate number of matches (C-MOVE/GET).
    pub const OUT_OF_RESOURCES_MATCHES: Status = Status(0xA701);
    /// 0xA702 Failure: out of resources, unable to perform sub-operations (C-MOVE/GET).
    pub const OUT_OF_RESOURCES_SUB_OPERATIONS: Status = Status(0xA702);
    /// 0xA801 Failure: move destination unknown (C-MOVE).
    pub const MOVE_DESTINATION_UNKNOWN: Status = Status(0xA801);
    /// 0xA900 Failure: data set / identifier does not match SOP class.
    pub const DOES_NOT_MATCH_SOP_CLASS: Status = Status(0xA900);
    /// 0xC000 Failure: cannot understand / unable to process (low byte is SCP-specific).
    pub const UNABLE_TO_PROCESS: Status = Status(0xC000);
    /// 0xB000 Warning: C-STORE coercion of data elements; C-MOVE/GET sub-operations complete
    /// with one or more failures or warnings.
    pub const SUB_OPERATIONS_WARNING: Status = Status(0xB000);
    /// 0xB000 Warning (C-STORE name of the same code): coercion of data elements.
    pub const COERCION_OF_DATA_ELEMENTS: Status = Status(0xB000);
    /// 0xB006 Warning (C-STORE): elements discarded.
    pub const ELEMENTS_DISCARDED: Status = Status(0xB006);
    /// 0xB007 Warning (C-STORE): data set does not match SOP class.
    pub const DOES_NOT_MATCH_SOP_CLASS_WARNING: Status = Status(0xB007);

    /// The class of this code; total over all 65536 values.
    pub fn class(self) -> StatusClass {
        match self.0 {
            0x0000 => StatusClass::Success,
            0xFF00 | 0xFF01 => StatusClass::Pending,
            0xFE00 => StatusClass::Cancel,
            0x0001 | 0x0107 | 0x0116 | 0xB000..=0xBFFF => StatusClass::Warning,
            _ => StatusClass::Failure,
        }
    }

    /// Pending (0xFF00 or 0xFF01): more responses follow.
    pub fn is_pending(self) -> bool {
        self.class() == StatusClass::Pending
    }

    /// Success (0x0000).
    pub fn is_success(self) -> bool {
        self.0 == 0x0000
    }

    /// Warning class.
    pub fn is_warning(self) -> bool {
        self.class() == StatusClass::Warning
    }

    /// Failure class (unknown codes included).
    pub fn is_failure(self) -> bool {
        self.class() == StatusClass::Failure
    }

    /// Cancel (0xFE00).
    pub fn is_cancel(self) -> bool {
        self.0 == 0xFE00
    }

    /// Whether this is the last response of its request (anything but pending).
    pub fn is_final(self) -> bool {
        !self.is_pending()
    }

    /// A short lower-case description of this code for the service of `command_field`
    /// (request or response value; 0 or any unknown value gives the service-independent text).
    ///
    /// Codes whose meaning the standard leaves to the SCP (the low byte of Axxx, Cxxx) get the
    /// meaning of their range.
    pub fn meaning(self, command_field: u16) -> &'static str {
        let service = command_field & 0x7FFF;
        let specific = match service {
            cf::C_STORE_RQ => store_meaning(self.0),
            cf::C_FIND_RQ => find_meaning(self.0),
            cf::C_MOVE_RQ | cf::C_GET_RQ => retrieve_meaning(self.0, service == cf::C_MOVE_RQ),
            _ => None,
        };
        specific.unwrap_or_else(|| general_meaning(self.0))
    }

    /// A displayable form with the service-specific meaning, e.g.
    /// `0xA801 (Failure: refused: move destination unknown)`.
    pub fn display_for(self, command_field: u16) -> impl fmt::Display {
        StatusDisplay {
            status: self,
            command_field,
        }
    }
}

struct StatusDisplay {
    status: Status,
    command_field: u16,
}

impl fmt::Display for StatusDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "0x{:04X} ({}: {})",
            self.status.0,
            self.status.class(),
            self.status.meaning(self.command_field)
        )
    }
}

/// `0xA700 (Failure: refused: out of resources)`, with the service-independent meaning; use
/// [`Status::display_for`] when the service is known.
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display_for(0).fmt(f)
    }
}

impl From<u16> for Status {
    fn from(code: u16) -> Self {
        Status(code)
    }
}

fn store_meaning(code: u16) -> Option<&'static str> {
    Some(match code {
        0xA700..=0xA7FF => "refused: out of resources",
        0xA900..=0xA9FF => "error: data set does not match SOP class",
        0xC000..=0xCFFF => "error: cannot understand",
        0xB000 => "warning: coercion of data elements",
        0xB006 => "warning: elements discarded",
        0xB007 => "warning: data set does not match SOP class",
        _ => return None,
    })
}

fn find_meaning(code: u16) -> Option<&'static str> {
    Some(match code {
        0xFF00 => "pending: match supplied, optional keys supported",
        0xFF01 => "pending: match supplied, one or more optional keys not supported",
        0x0000 => "success: matching complete",
        0xFE00 => "cancel: matching terminated by C-CANCEL",
        0xA700 => "refused: out of resources",
        0xA900 => "error: identifier does not match SOP class",
        0xC100 => "failed: more than one match found (relevant patient query)",
        0xC200 => "failed: unable to support requested template (relevant patient query)",
        0xC000..=0xCFFF => "failed: unable to process",
        0xB001 => "warning: response limit reached (repository query)",
        0xA710 => "failed: invalid prior record key (repository query)",
        _ => return None,
    })
}

fn retrieve_meaning(code: u16, is_move: bool) -> Option<&'static str> {
    Some(match code {
        0xFF00 => "pending: sub-operations are continuing",
        0x0000 => "success: all sub-operations complete without failures or warnings",
        0xFE00 => "cancel: sub-operations terminated by C-CANCEL",
        0xB000 => "warning: sub-operations complete, one or more failures or warnings",
        0xA701 => "refused: out of resources, unable to calculate number of matches",
        0xA702 => "refused: out of resources, unable to perform sub-operations",
        0xA801 if is_move => "refused: move destination unknown",
        0xA900 => "error: identifier does not match SOP class",
        0xAA00 => "failed: none of the frames requested were found in the SOP instance",
        0xAA01 => "failed: unable to create new object for this SOP class",
        0xAA02 => "failed: unable to extract frames",
        0xAA03 => "failed: time-based request received for a non-time-based original SOP instance",
        0xAA04 => "failed: invalid request",
        0xC000..=0xCFFF => "failed: unable to process",
        _ => return None,
    })
}

fn general_meaning(code: u16) -> &'static str {
    match code {
        0x0000 => "success",
        0xFF00 => "pending",
        0xFF01 => "pending: one or more optional keys not supported",
        0xFE00 => "cancel: operation terminated by C-CANCEL",
        0x0001 => "warning: requested optional attributes are not supported",
        0x0105 => "failed: no such attribute",
        0x0106 => "failed: invalid attribute value",
        0x0107 => "warning: attribute list error",
        0x0110 => "failed: processing failure",
        0x0111 => "failed: duplicate SOP instance",
        0x0112 => "failed: no such SOP instance",
        0x0113 => "failed: no such event type",
        0x0114 => "failed: no such argument",
        0x0115 => "failed: invalid argument value",
        0x0116 => "warning: attribute value out of range",
        0x0117 => "failed: invalid SOP instance",
        0x0118 => "failed: no such SOP class",
        0x0119 => "failed: class-instance conflict",
        0x0120 => "failed: missing attribute",
        0x0121 => "failed: missing attribute value",
        0x0122 => "refused: SOP class not supported",
        0x0123 => "failed: no such action",
        0x0124 => "refused: not authorized",
        0x0210 => "failed: duplicate invocation",
        0x0211 => "failed: unrecognized operation",
        0x0212 => "failed: mistyped argument",
        0x0213 => "failed: resource limitation",
        0x0100..=0x02FF => "failed",
        0xA700..=0xA7FF => "refused: out of resources",
        0xA801 => "refused: move destination unknown",
        0xA900..=0xA9FF => "error: data set or identifier does not match SOP class",
        0xA000..=0xAFFF => "failed (service-specific)",
        0xB000..=0xBFFF => "warning (service-specific)",
        0xC000..=0xCFFF => "error: cannot understand / unable to process",
        _ => "unknown status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        use StatusClass::*;
        let cases = [
            (0x0000, Success),
            (0x0001, Warning),
            (0x0107, Warning),
            (0x0116, Warning),
            (0x0105, Failure),
            (0x0122, Failure),
            (0x0213, Failure),
            (0xA700, Failure),
            (0xA801, Failure),
            (0xB000, Warning),
            (0xBFFF, Warning),
            (0xC123, Failure),
            (0xFE00, Cancel),
            (0xFF00, Pending),
            (0xFF01, Pending),
            (0xFF02, Failure),
            (0x1234, Failure),
        ];
        for (code, class) in cases {
            assert_eq!(Status(code).class(), class, "0x{code:04X}");
        }
    }

    #[test]
    fn meanings_depend_on_service() {
        assert_eq!(
            Status(0xB000).meaning(cf::C_STORE_RSP),
            "warning: coercion of data elements"
        );
        assert!(Status(0xB000)
            .meaning(cf::C_GET_RSP)
            .contains("sub-operations"));
        assert_eq!(
            Status(0xA7FE).meaning(cf::C_STORE_RQ),
            "refused: out of resources"
        );
        assert_eq!(Status(0xA7FE).meaning(0), "refused: out of resources");
        assert_eq!(
            Status(0xA801).display_for(cf::C_MOVE_RSP).to_string(),
            "0xA801 (Failure: refused: move destination unknown)"
        );
        assert_eq!(
            Status(0xA801).meaning(cf::C_GET_RSP),
            "refused: move destination unknown"
        );
    }
}
