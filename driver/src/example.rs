//! A tiny in-process PACS for the documentation's examples, so that they run against a real
//! peer instead of being compiled only. Not a stable interface.

use std::collections::HashSet;

use dimse_core::assoc::{AcceptorPolicy, SupportedSyntax};
use dimse_core::dataset::Tag;
use dimse_core::dimse::Status;
use dimse_core::matching::Matcher;
use dimse_core::query::QueryLevel;
use dimse_core::uid;

use crate::handler::{FindRequest, Handler, Matches, Peer};

/// Columns of [`ROWS`], by keyword.
const KEYS: [&str; 8] = [
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "StudyDate",
    "ModalitiesInStudy",
    "SeriesInstanceUID",
    "Modality",
    "SOPInstanceUID",
];

/// One row per instance: patient 12345 with a CT series of two images and an RTPLAN, patient
/// 67890 with an MR.
const ROWS: [&str; 4] = [
    "12345|DOE^JOHN|1.2.3|20210312|CT\\RTPLAN|1.2.3.1|CT|1.2.3.1.1",
    "12345|DOE^JOHN|1.2.3|20210312|CT\\RTPLAN|1.2.3.1|CT|1.2.3.1.2",
    "12345|DOE^JOHN|1.2.3|20210312|CT\\RTPLAN|1.2.3.2|RTPLAN|1.2.3.2.1",
    "67890|ROE^JANE|1.2.4|20190505|MR|1.2.4.1|MR|1.2.4.1.1",
];

/// A C-FIND SCP (Study and Patient Root) over four instances of two patients, matching keys as PS3.4 C.2.2.2 says.
#[derive(Debug, Clone, Copy)]
pub struct Pacs;

impl Pacs {
    /// Its policy: AE title `PACS`, Verification, and both FIND models in Explicit VR Little
    /// Endian.
    pub fn policy(&self) -> AcceptorPolicy {
        let mut policy = AcceptorPolicy::new("PACS");
        policy.supported.push(SupportedSyntax::uid(
            uid::VERIFICATION,
            &[uid::IMPLICIT_VR_LE],
        ));
        for model in [uid::STUDY_ROOT_QR_FIND, uid::PATIENT_ROOT_QR_FIND] {
            policy
                .supported
                .push(SupportedSyntax::uid(model, &[uid::EXPLICIT_VR_LE]));
        }
        policy
    }
}

impl Handler for Pacs {
    fn find(&self, _: &Peer, rq: &FindRequest) -> Result<Matches, Status> {
        let id = &rq.identifier;
        let level: QueryLevel = match id.get_str(Tag(0x0008, 0x0052)) {
            Some(Ok(level)) => level.parse().map_err(|_| Status::UNABLE_TO_PROCESS)?,
            _ => return Err(Status::MISSING_ATTRIBUTE),
        };
        let column = |tag: Tag| KEYS.iter().position(|k| Some(*k) == tag.keyword());
        let unique = KEYS
            .iter()
            .position(|k| *k == level.unique_key())
            .ok_or(Status::UNABLE_TO_PROCESS)?;
        let mut seen = HashSet::new();
        let mut matches = Vec::new();
        for row in ROWS.map(|r| r.split('|').collect::<Vec<_>>()) {
            let matched = id.elements().iter().all(|e| {
                let (Some(i), Some(Ok(want))) = (column(e.tag), id.get_str(e.tag)) else {
                    return true;
                };
                let values: Vec<String> = row[i].split('\\').map(String::from).collect();
                Matcher::new(e.vr, &want).matches(&values)
            });
            if matched && seen.insert(row[unique]) {
                let mut found = id.clone();
                for e in id.elements() {
                    if let Some(i) = column(e.tag) {
                        found
                            .set_str(e.tag, row[i])
                            .map_err(|_| Status::UNABLE_TO_PROCESS)?;
                    }
                }
                matches.push(Ok(found));
            }
        }
        Ok(Box::new(matches.into_iter()))
    }
}
