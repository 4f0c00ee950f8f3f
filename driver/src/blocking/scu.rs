//! The blocking SCU: the driver's [`crate::Scu`] and its association, each call run to
//! completion on the calling thread.

use std::io::Read;
use std::ops::{Deref, DerefMut};

use dimse_core::assoc::{Negotiated, Proposal, ProposedContext};
use dimse_core::commitment::{CommitmentReport, CommitmentRequest};
use dimse_core::dataset::{DataSet, Tag};
use dimse_core::dimse::{
    CStoreRsp, NActionRsp, NCreateRsp, NDeleteRsp, NEventReportRsp, NGetRsp, NSetRsp, Status,
    SubOperations,
};
use dimse_core::query::QueryModel;
use dimse_core::Entity;

use super::block_on;
use crate::runtime::Runtime;
use crate::{
    Error, Handler, ImageRecord, PatientRecord, Query, RetrieveOutcome, SendOptions, SeriesRecord,
    StoreFile, StoreOutcome, StudyRecord,
};

/// A service class user: our AE title and timeouts (the public fields of
/// [`crate::Scu`], reached through `Deref`).
///
/// ```
/// use dimse_core::Entity;
/// use dimse_std::Scu;
/// # let pacs = dimse_driver::example::Pacs;
/// # let server = dimse_std::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0")?.spawn()?;
///
/// let mut scu = Scu::new("MY_SCU");
/// scu.config.dimse_timeout = Some(std::time::Duration::from_secs(30));
/// let pacs = Entity::new("PACS", "pacs.example", 104);
/// # let pacs = Entity::local("PACS", server.local_addr().port());
/// let status = scu.echo(&pacs)?;
/// assert!(status.is_success());
/// # server.stop();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Scu<R: Runtime>(crate::Scu<R>);

impl<R: Runtime> Deref for Scu<R> {
    type Target = crate::Scu<R>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<R: Runtime> DerefMut for Scu<R> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<R: Runtime> Scu<R> {
    /// An SCU with AE title `ae_title` and default timeouts.
    pub fn new(ae_title: &str) -> Self {
        Scu(crate::Scu::new(ae_title))
    }

    /// Associate with `peer`, proposing `contexts`.
    pub fn associate(
        &self,
        peer: &Entity,
        contexts: Vec<ProposedContext>,
    ) -> Result<ScuAssociation<R>, Error> {
        block_on(self.0.associate(peer, contexts)).map(ScuAssociation)
    }

    /// Associate with `peer` using a complete proposal (user identity, async window, …).
    pub fn associate_with(
        &self,
        peer: &Entity,
        proposal: &Proposal,
    ) -> Result<ScuAssociation<R>, Error> {
        block_on(self.0.associate_with(peer, proposal)).map(ScuAssociation)
    }

    /// A proposal from us to `peer` with `contexts`.
    pub fn proposal(&self, peer: &Entity, contexts: Vec<ProposedContext>) -> Proposal {
        self.0.proposal(peer, contexts)
    }

    /// Contexts for a C-GET: see [`crate::Scu::get_contexts`].
    pub fn get_contexts(
        model: QueryModel,
        storage_classes: Option<&[&str]>,
        compressed: &[&str],
    ) -> Vec<ProposedContext> {
        crate::Scu::<R>::get_contexts(model, storage_classes, compressed)
    }

    /// Associate, send one C-ECHO, release. Returns the C-ECHO status.
    pub fn echo(&self, peer: &Entity) -> Result<Status, Error> {
        block_on(self.0.echo(peer))
    }

    /// [`crate::Scu::send_files`], with `options.parallel` associations each on a
    /// thread of its own (blocking sockets cannot overlap on one).
    pub fn send_files(
        &self,
        peer: &Entity,
        files: &[StoreFile],
        options: &SendOptions,
        done: impl FnMut(usize, Result<StoreOutcome, Error>) + Send,
    ) {
        let lanes = options.parallel.clamp(1, files.len().max(1));
        let one = SendOptions {
            parallel: 1,
            ..options.clone()
        };
        let done = std::sync::Mutex::new(done);
        std::thread::scope(|scope| {
            for k in 0..lanes {
                let (one, done) = (&one, &done);
                scope.spawn(move || {
                    let indices: Vec<usize> = (k..files.len()).step_by(lanes).collect();
                    let lane: Vec<StoreFile> = indices.iter().map(|&i| files[i].clone()).collect();
                    block_on(self.0.send_files(peer, &lane, one, |j, outcome| {
                        let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
                        (*done)(indices[j], outcome)
                    }));
                });
            }
        });
    }
}

/// An established association, requestor side: each method is the driver's
/// [`crate::ScuAssociation`] method of the same name, run to completion.
#[derive(Debug)]
pub struct ScuAssociation<R: Runtime>(crate::ScuAssociation<R>);

impl<R: Runtime> ScuAssociation<R> {
    /// What was negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        self.0.negotiated()
    }

    /// Send a C-ECHO and return its status.
    pub fn echo(&mut self) -> Result<Status, Error> {
        block_on(self.0.echo())
    }

    /// Send a C-STORE of the data set read from `data`, encoded in `transfer_syntax`; the
    /// data set streams, so memory stays at a few PDUs whatever its size.
    pub fn store(
        &mut self,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        transfer_syntax: &str,
        data: impl Read + Send,
    ) -> Result<CStoreRsp, Error> {
        block_on(
            self.0
                .store(sop_class_uid, sop_instance_uid, transfer_syntax, data),
        )
    }

    /// Send a Part 10 file as a C-STORE sub-operation of a C-MOVE (PS3.7 9.1.1: Move
    /// Originator), converting like [`Self::store_file_converting`].
    pub fn store_for_move(
        &mut self,
        file: &StoreFile,
        originator_ae: &str,
        originator_message_id: u16,
    ) -> Result<StoreOutcome, Error> {
        block_on(
            self.0
                .store_for_move(file, originator_ae, originator_message_id),
        )
    }

    /// Send a Part 10 file in its own transfer syntax when the peer accepted that, else
    /// converted to an accepted uncompressed syntax.
    pub fn store_file_converting(&mut self, file: &StoreFile) -> Result<StoreOutcome, Error> {
        block_on(self.0.store_file_converting(file))
    }

    /// Send Part 10 files with as many in flight as the peer's asynchronous operations
    /// window allows; `done` sees each by its index. See
    /// [`crate::ScuAssociation::store_files`].
    pub fn store_files(
        &mut self,
        files: &[StoreFile],
        done: impl FnMut(usize, Result<StoreOutcome, Error>) + Send,
    ) -> Result<(), Error> {
        block_on(self.0.store_files(files, done))
    }

    /// Send a Part 10 file prepared with [`StoreFile::open`].
    pub fn store_file(&mut self, file: &StoreFile) -> Result<CStoreRsp, Error> {
        block_on(self.0.store_file(file))
    }

    /// Send a C-FIND; the matches arrive through the returned iterator as the peer sends
    /// them. Dropping it before the end sends a C-CANCEL and drains the remaining responses,
    /// so the association stays usable.
    pub fn find(
        &mut self,
        model: QueryModel,
        identifier: &DataSet,
    ) -> Result<FindResults<'_, R>, Error> {
        block_on(self.0.find(model, identifier)).map(|inner| FindResults { inner: Some(inner) })
    }

    /// Send a C-MOVE of what `identifier` selects to the AE `destination`; `progress` sees
    /// each pending response's counters, and returning `false` from it sends a C-CANCEL.
    pub fn move_to(
        &mut self,
        model: QueryModel,
        identifier: &DataSet,
        destination: &str,
        progress: impl FnMut(&SubOperations) -> bool + Send,
    ) -> Result<RetrieveOutcome, Error> {
        block_on(self.0.move_to(model, identifier, destination, progress))
    }

    /// Send a C-GET: the instances come back over this association to `handler`; see
    /// [`crate::ScuAssociation::get`].
    pub fn get(
        &mut self,
        model: QueryModel,
        identifier: &DataSet,
        handler: &dyn Handler,
        progress: impl FnMut(&SubOperations) -> bool + Send,
    ) -> Result<RetrieveOutcome, Error> {
        block_on(self.0.get(model, identifier, handler, progress))
    }

    /// Ask the peer to commit `request`'s instances (Storage Commitment Push Model).
    pub fn request_commitment(&mut self, request: &CommitmentRequest) -> Result<Status, Error> {
        block_on(self.0.request_commitment(request))
    }

    /// Wait for the Storage Commitment N-EVENT-REPORT on this association and answer it.
    pub fn wait_commitment_report(&mut self) -> Result<CommitmentReport, Error> {
        block_on(self.0.wait_commitment_report())
    }

    /// N-GET of `attributes` (empty: all) of a managed SOP instance.
    pub fn n_get(
        &mut self,
        sop_class: &str,
        sop_instance: &str,
        attributes: &[Tag],
    ) -> Result<(NGetRsp, Option<DataSet>), Error> {
        block_on(self.0.n_get(sop_class, sop_instance, attributes))
    }

    /// N-SET: apply `modifications` to a managed SOP instance.
    pub fn n_set(
        &mut self,
        sop_class: &str,
        sop_instance: &str,
        modifications: &DataSet,
    ) -> Result<(NSetRsp, Option<DataSet>), Error> {
        block_on(self.0.n_set(sop_class, sop_instance, modifications))
    }

    /// N-ACTION: ask a managed SOP instance to perform `action_type`.
    pub fn n_action(
        &mut self,
        sop_class: &str,
        sop_instance: &str,
        action_type: u16,
        info: Option<&DataSet>,
    ) -> Result<(NActionRsp, Option<DataSet>), Error> {
        block_on(self.0.n_action(sop_class, sop_instance, action_type, info))
    }

    /// N-CREATE: create a managed SOP instance (the SCP names it when `sop_instance` is
    /// `None`).
    pub fn n_create(
        &mut self,
        sop_class: &str,
        sop_instance: Option<&str>,
        attributes: Option<&DataSet>,
    ) -> Result<(NCreateRsp, Option<DataSet>), Error> {
        block_on(self.0.n_create(sop_class, sop_instance, attributes))
    }

    /// N-DELETE: delete a managed SOP instance.
    pub fn n_delete(&mut self, sop_class: &str, sop_instance: &str) -> Result<NDeleteRsp, Error> {
        block_on(self.0.n_delete(sop_class, sop_instance))
    }

    /// N-EVENT-REPORT: report `event_type` of a managed SOP instance to the peer.
    pub fn n_event_report(
        &mut self,
        sop_class: &str,
        sop_instance: &str,
        event_type: u16,
        info: Option<&DataSet>,
    ) -> Result<(NEventReportRsp, Option<DataSet>), Error> {
        block_on(
            self.0
                .n_event_report(sop_class, sop_instance, event_type, info),
        )
    }

    /// Release the association and wait for the peer's reply.
    pub fn release(self) -> Result<(), Error> {
        block_on(self.0.release())
    }

    /// Abort the association.
    pub fn abort(self) {
        block_on(self.0.abort())
    }
}

/// The matches of a C-FIND as they arrive, then the final status; a final failure status
/// is yielded once as `Err(Error::Status(..))`.
pub struct FindResults<'a, R: Runtime> {
    // Taken by `Drop` to close it (cancel and drain) before the association is used again.
    inner: Option<crate::FindResults<'a, R>>,
}

impl<R: Runtime> FindResults<'_, R> {
    /// The final status, once the last response arrived.
    pub fn status(&self) -> Option<Status> {
        self.inner.as_ref().and_then(|f| f.status())
    }

    /// Ask the peer to stop (C-CANCEL); the iterator then ends with its final response.
    pub fn cancel(&mut self) -> Result<(), Error> {
        match self.inner.as_mut() {
            Some(f) => block_on(f.cancel()),
            None => Ok(()),
        }
    }
}

impl<R: Runtime> Iterator for FindResults<'_, R> {
    type Item = Result<DataSet, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        block_on(self.inner.as_mut()?.next())
    }
}

impl<R: Runtime> Drop for FindResults<'_, R> {
    fn drop(&mut self) {
        if let Some(f) = self.inner.take() {
            block_on(f.close());
        }
    }
}

/// Patient → study → series → image over C-FIND, one association per call; see
/// [`crate::QueryBuilder`].
///
/// ```
/// use dimse_core::Entity;
/// use dimse_std::{QueryBuilder, Scu};
/// # // An in-process PACS: patient 12345 (a CT series of two images, an RTPLAN), 67890 (MR).
/// # let pacs = dimse_driver::example::Pacs;
/// # let server = dimse_std::Scp::new(pacs.policy(), pacs).bind("127.0.0.1:0").unwrap().spawn().unwrap();
///
/// let scu = Scu::new("MY_SCU");
/// let pacs = Entity::new("PACS", "pacs.example", 104);
/// # let pacs = Entity::local("PACS", server.local_addr().port());
/// let q = QueryBuilder::new(&scu, &pacs);
/// let studies = q.studies("12345")?;
/// let series = q.series(&studies)?;
/// let images = q.images(&series)?;
/// println!("{} instances", images.len());
/// # assert_eq!((studies.len(), series.len(), images.len()), (1, 2, 3));
/// # server.stop();
/// # Ok::<(), dimse_std::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct QueryBuilder<'a, R: Runtime>(crate::QueryBuilder<'a, R>);

impl<'a, R: Runtime> QueryBuilder<'a, R> {
    /// A builder querying `peer` as `scu`; it connects only when asked something.
    pub fn new(scu: &'a Scu<R>, peer: &'a Entity) -> QueryBuilder<'a, R> {
        QueryBuilder(crate::QueryBuilder::new(&scu.0, peer))
    }

    /// The presentation contexts every call proposes.
    pub fn presentation_contexts() -> Vec<ProposedContext> {
        crate::QueryBuilder::<R>::presentation_contexts()
    }

    /// The patients whose ID matches `patient_id_or_pattern`.
    pub fn patients(&self, patient_id_or_pattern: &str) -> Result<Vec<PatientRecord>, Error> {
        block_on(self.0.patients(patient_id_or_pattern))
    }

    /// The studies of patient `patient_id`.
    pub fn studies(&self, patient_id: &str) -> Result<Vec<StudyRecord>, Error> {
        block_on(self.0.studies(patient_id))
    }

    /// The series of `studies`, on one association.
    pub fn series(&self, studies: &[StudyRecord]) -> Result<Vec<SeriesRecord>, Error> {
        block_on(self.0.series(studies))
    }

    /// The instances of `series`, on one association.
    pub fn images(&self, series: &[SeriesRecord]) -> Result<Vec<ImageRecord>, Error> {
        block_on(self.0.images(series))
    }

    /// Every instance of patient `patient_id` in a series of `modality`.
    pub fn instances_by_modality(
        &self,
        patient_id: &str,
        modality: &str,
    ) -> Result<Vec<ImageRecord>, Error> {
        block_on(self.0.instances_by_modality(patient_id, modality))
    }

    /// Send `query` and return the matches as the peer sent them.
    pub fn run(&self, query: &Query) -> Result<Vec<DataSet>, Error> {
        block_on(self.0.run(query))
    }
}
