//! Storage Commitment Push Model (PS3.4 Annex J): the N-ACTION request and the N-EVENT-REPORT
//! that answers it, as data sets. Runtimes send and receive them; the content lives here once.

use crate::dataset::{DataSet, Tag, ValueError};

/// Transaction UID (0008,1195).
const TRANSACTION_UID: Tag = Tag(0x0008, 0x1195);
/// Referenced SOP Sequence (0008,1199).
const REFERENCED_SOP_SEQUENCE: Tag = Tag(0x0008, 0x1199);
/// Failed SOP Sequence (0008,1198).
const FAILED_SOP_SEQUENCE: Tag = Tag(0x0008, 0x1198);
/// Referenced SOP Class UID (0008,1150).
const REFERENCED_SOP_CLASS_UID: Tag = Tag(0x0008, 0x1150);
/// Referenced SOP Instance UID (0008,1155).
const REFERENCED_SOP_INSTANCE_UID: Tag = Tag(0x0008, 0x1155);
/// Failure Reason (0008,1197).
const FAILURE_REASON: Tag = Tag(0x0008, 0x1197);

/// N-ACTION Action Type ID of a storage commitment request.
pub const ACTION_REQUEST: u16 = 1;
/// N-EVENT-REPORT Event Type ID: every instance committed.
pub const EVENT_ALL_COMMITTED: u16 = 1;
/// N-EVENT-REPORT Event Type ID: some instances failed.
pub const EVENT_FAILURES: u16 = 2;
/// Failure Reason 0x0110: processing failure.
pub const PROCESSING_FAILURE: u16 = 0x0110;
/// Failure Reason 0x0112: no such object instance.
pub const NO_SUCH_INSTANCE: u16 = 0x0112;
/// Failure Reason 0x0119: the instance is held, under another SOP class.
pub const CLASS_INSTANCE_CONFLICT: u16 = 0x0119;

/// One referenced instance: SOP class and instance UIDs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SopRef {
    /// SOP Class UID.
    pub class_uid: String,
    /// SOP Instance UID.
    pub instance_uid: String,
}

impl SopRef {
    /// A reference to `instance_uid` of `class_uid`.
    pub fn new(class_uid: &str, instance_uid: &str) -> Self {
        SopRef {
            class_uid: class_uid.to_string(),
            instance_uid: instance_uid.to_string(),
        }
    }

    fn to_item(&self) -> Result<DataSet, ValueError> {
        let mut item = DataSet::new();
        item.set_uid(REFERENCED_SOP_CLASS_UID, &self.class_uid)?;
        item.set_uid(REFERENCED_SOP_INSTANCE_UID, &self.instance_uid)?;
        Ok(item)
    }

    fn from_item(item: &DataSet) -> Option<SopRef> {
        Some(SopRef {
            class_uid: item.get_uid(REFERENCED_SOP_CLASS_UID)?.ok()?,
            instance_uid: item.get_uid(REFERENCED_SOP_INSTANCE_UID)?.ok()?,
        })
    }
}

/// What the requestor asks to have committed (the N-ACTION's Action Information).
///
/// ```
/// use dimse_core::commitment::{CommitmentRequest, SopRef};
///
/// let rq = CommitmentRequest {
///     transaction_uid: "1.2.3.4".into(),
///     references: vec![SopRef::new("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4.5")],
/// };
/// let ds = rq.to_data_set().unwrap();
/// assert_eq!(CommitmentRequest::from_data_set(&ds).unwrap(), rq);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentRequest {
    /// Transaction UID, echoed in the report.
    pub transaction_uid: String,
    /// The instances to commit.
    pub references: Vec<SopRef>,
}

impl CommitmentRequest {
    /// The Action Information data set.
    pub fn to_data_set(&self) -> Result<DataSet, ValueError> {
        let mut ds = DataSet::new();
        ds.set_uid(TRANSACTION_UID, &self.transaction_uid)?;
        let items = self
            .references
            .iter()
            .map(SopRef::to_item)
            .collect::<Result<_, _>>()?;
        ds.set_sequence(REFERENCED_SOP_SEQUENCE, items)?;
        Ok(ds)
    }

    /// Read a request; `None` when the Transaction UID is missing.
    pub fn from_data_set(ds: &DataSet) -> Option<Self> {
        Some(CommitmentRequest {
            transaction_uid: ds.get_uid(TRANSACTION_UID)?.ok()?,
            references: refs(ds, REFERENCED_SOP_SEQUENCE),
        })
    }
}

/// The outcome the SCP reports (the N-EVENT-REPORT's Event Information).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitmentReport {
    /// Transaction UID of the request.
    pub transaction_uid: String,
    /// Instances the SCP committed.
    pub committed: Vec<SopRef>,
    /// Instances it did not, each with its Failure Reason.
    pub failed: Vec<(SopRef, u16)>,
}

impl CommitmentReport {
    /// Event Type ID: 1 when all were committed, 2 when some failed.
    pub fn event_type(&self) -> u16 {
        if self.failed.is_empty() {
            EVENT_ALL_COMMITTED
        } else {
            EVENT_FAILURES
        }
    }

    /// The Event Information data set.
    pub fn to_data_set(&self) -> Result<DataSet, ValueError> {
        let mut ds = DataSet::new();
        ds.set_uid(TRANSACTION_UID, &self.transaction_uid)?;
        if !self.failed.is_empty() {
            let mut items = Vec::new();
            for (r, reason) in &self.failed {
                let mut item = r.to_item()?;
                item.set_u16(FAILURE_REASON, *reason)?;
                items.push(item);
            }
            ds.set_sequence(FAILED_SOP_SEQUENCE, items)?;
        }
        if !self.committed.is_empty() {
            let items = self
                .committed
                .iter()
                .map(SopRef::to_item)
                .collect::<Result<_, _>>()?;
            ds.set_sequence(REFERENCED_SOP_SEQUENCE, items)?;
        }
        Ok(ds)
    }

    /// Read a report; `None` when the Transaction UID is missing.
    pub fn from_data_set(ds: &DataSet) -> Option<Self> {
        let failed = ds
            .get_sequence(FAILED_SOP_SEQUENCE)
            .and_then(Result::ok)
            .unwrap_or(&[])
            .iter()
            .filter_map(|item| {
                let reason = item
                    .get_u16(FAILURE_REASON)
                    .and_then(Result::ok)
                    .unwrap_or(0x0110);
                Some((SopRef::from_item(item)?, reason))
            })
            .collect();
        Some(CommitmentReport {
            transaction_uid: ds.get_uid(TRANSACTION_UID)?.ok()?,
            committed: refs(ds, REFERENCED_SOP_SEQUENCE),
            failed,
        })
    }
}

fn refs(ds: &DataSet, tag: Tag) -> Vec<SopRef> {
    ds.get_sequence(tag)
        .and_then(Result::ok)
        .unwrap_or(&[])
        .iter()
        .filter_map(SopRef::from_item)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_round_trips_with_failures() {
        let report = CommitmentReport {
            transaction_uid: "1.2.3".into(),
            committed: vec![SopRef::new("1.2.840.10008.5.1.4.1.1.2", "1.2.3.1")],
            failed: vec![(
                SopRef::new("1.2.840.10008.5.1.4.1.1.2", "1.2.3.2"),
                NO_SUCH_INSTANCE,
            )],
        };
        assert_eq!(report.event_type(), EVENT_FAILURES);
        let ds = report.to_data_set().unwrap();
        assert_eq!(CommitmentReport::from_data_set(&ds).unwrap(), report);
    }
}
