//! C-MOVE and C-GET: sub-operations to a destination or back over the requesting
//! association, with their counts (PS3.4 C.4.2.3) and C-CANCEL.

use std::time::Instant;

use bytes::Bytes;
use dimse_core::assoc::{self, Event};
use dimse_core::dataset::DataSet;
use dimse_core::dataset::Tag;
use dimse_core::dimse::{
    tags, CGetRq, CGetRsp, CMoveRq, CMoveRsp, CStoreRq, CommandSet, DimseMessage, Message, Status,
    SubOperations, DATA_SET_PRESENT,
};
use dimse_core::uid;

use crate::conn::Conn;
use crate::runtime::{Runtime, Transport};
use crate::tls::Link;

use super::operation::{cancelled, cancels, guarded_async, send_reply, Dispatch};
use crate::handler::RetrieveRequest;

/// A C-MOVE or C-GET in progress: what differs between the two.
pub(super) enum Retrieve {
    Move(CMoveRq),
    Get(CGetRq),
}

impl Retrieve {
    fn message_id(&self) -> u16 {
        match self {
            Retrieve::Move(rq) => rq.message_id,
            Retrieve::Get(rq) => rq.message_id,
        }
    }

    /// A response command without a data set.
    pub(super) fn response(&self, status: Status, ops: SubOperations) -> CommandSet {
        match self {
            Retrieve::Move(rq) => {
                let mut rsp = CMoveRsp::for_request(rq, status);
                rsp.sub_operations = ops;
                rsp.has_data_set = false;
                rsp.to_command()
            }
            Retrieve::Get(rq) => {
                let mut rsp = CGetRsp::for_request(rq, status);
                rsp.sub_operations = ops;
                rsp.has_data_set = false;
                rsp.to_command()
            }
        }
    }

    /// The final response, with the Failed SOP Instance UID List when there is one.
    fn final_response(
        &self,
        status: Status,
        ops: SubOperations,
        failed: &[String],
    ) -> (CommandSet, Option<DataSet>) {
        let mut command = self.response(status, ops);
        if failed.is_empty() || status.is_success() {
            return (command, None);
        }
        let mut ds = DataSet::new();
        let list: Vec<&str> = failed.iter().map(String::as_str).collect();
        if ds.set_strs(Tag(0x0008, 0x0058), &list).is_err() {
            return (command, None);
        }
        command.set_u16(tags::COMMAND_DATA_SET_TYPE, DATA_SET_PRESENT);
        (command, Some(ds))
    }
}

/// Sub-operation bookkeeping (PS3.4 C.4.2.3): counters and the final status they imply.
#[derive(Default)]
pub(super) struct Tally {
    completed: u16,
    failed: u16,
    warning: u16,
    failed_uids: Vec<String>,
}

impl Tally {
    fn record(&mut self, uid: &str, status: Option<Status>) {
        match status {
            Some(s) if s.is_success() => self.completed += 1,
            Some(s) if s.is_warning() => self.warning += 1,
            _ => {
                self.failed += 1;
                self.failed_uids.push(uid.to_string());
            }
        }
    }

    fn pending(&self, remaining: usize) -> SubOperations {
        SubOperations::pending(
            remaining.min(u16::MAX as usize) as u16,
            self.completed,
            self.failed,
            self.warning,
        )
    }

    fn finished(&self) -> SubOperations {
        SubOperations::finished(self.completed, self.failed, self.warning)
    }

    /// Success when all went well; 0xA702 when every sub-operation failed; 0xB000 otherwise.
    fn final_status(&self) -> Status {
        if self.failed == 0 && self.warning == 0 {
            Status::SUCCESS
        } else if self.completed == 0 && self.warning == 0 {
            Status::OUT_OF_RESOURCES_SUB_OPERATIONS
        } else {
            Status::SUB_OPERATIONS_WARNING
        }
    }
}

/// Run a C-MOVE or C-GET: ask the handler which instances, send them (to the destination
/// over a new association, or back over this one), and report progress after each.
pub(super) async fn run_retrieve<R: Runtime>(
    ctx: &Dispatch<'_>,
    conn: &mut Conn<Link<R::Stream>>,
    context_id: u8,
    kind: &Retrieve,
    identifier: Bytes,
) -> Result<(), assoc::UsageError> {
    let Some(ts) = ctx
        .negotiated
        .and_then(|n| n.context(context_id))
        .and_then(|c| uid::transfer_syntax(&c.transfer_syntax))
    else {
        let reply = kind.final_response(Status::UNABLE_TO_PROCESS, SubOperations::default(), &[]);
        return send_reply(
            conn,
            context_id,
            reply,
            uid::transfer_syntax(uid::IMPLICIT_VR_LE).expect("known"),
        )
        .await;
    };
    let identifier = match DataSet::decode(identifier, ts) {
        Ok(ds) => ds,
        Err(_) => {
            let reply = kind.final_response(
                Status::DOES_NOT_MATCH_SOP_CLASS,
                SubOperations::default(),
                &[],
            );
            return send_reply(conn, context_id, reply, ts).await;
        }
    };
    let (sop_class_uid, destination) = match kind {
        Retrieve::Move(rq) => (
            rq.affected_sop_class_uid.clone(),
            Some(rq.move_destination.trim().to_string()),
        ),
        Retrieve::Get(rq) => (rq.affected_sop_class_uid.clone(), None),
    };
    let target = match &destination {
        Some(aet) => match ctx.scp.destinations.get(aet) {
            Some(entity) => Some(entity.clone()),
            None => {
                tracing::warn!(destination = %aet, "C-MOVE to an unknown AE");
                return send_reply(
                    conn,
                    context_id,
                    kind.final_response(
                        Status::MOVE_DESTINATION_UNKNOWN,
                        SubOperations::default(),
                        &[],
                    ),
                    ts,
                )
                .await;
            }
        },
        None => None,
    };
    let request = RetrieveRequest {
        sop_class_uid,
        identifier,
        destination,
    };
    let instances = match guarded_async(Err(Status::UNABLE_TO_PROCESS), || {
        ctx.scp.handler.retrieve(ctx.peer, &request)
    })
    .await
    {
        Ok(i) => i,
        Err(status) => {
            let reply = kind.final_response(status, SubOperations::default(), &[]);
            return send_reply(conn, context_id, reply, ts).await;
        }
    };
    let mut tally = Tally::default();
    if instances.is_empty() {
        // Nothing to send: no reason to reach the destination (PS3.4 C.4.2.3.1 counts zero).
        let reply = kind.final_response(Status::SUCCESS, tally.finished(), &[]);
        return send_reply(conn, context_id, reply, ts).await;
    }
    // C-MOVE: associations to the destination, each for as many instances as its 128
    // contexts hold (dcmsend's `+ma`), opened as the previous one runs out.
    let mut sub: Option<crate::ScuAssociation<R>> = None;
    let mut sub_end = 0;
    let mut sub_ids = dimse_core::dimse::MessageIdAllocator::new();
    let total = instances.len();
    let mut cancel_seen = false;
    for (i, file) in instances.iter().enumerate() {
        match cancelled(conn, kind.message_id())
            .await
            .map(|c| c || cancel_seen)
        {
            None => return Ok(()),
            Some(true) => {
                let mut ops = tally.finished();
                ops.remaining = Some((total - i).min(u16::MAX as usize) as u16);
                let reply = kind.final_response(Status::CANCEL, ops, &tally.failed_uids);
                if let Some(a) = sub.take() {
                    let _ = a.release().await;
                }
                return send_reply(conn, context_id, reply, ts).await;
            }
            Some(false) => {}
        }
        if let (Some(entity), true) = (&target, i >= sub_end) {
            if let Some(a) = sub.take() {
                let _ = a.release().await;
            }
            let (n, contexts) = crate::store_contexts(&instances[i..], ctx.scp.decompress);
            let mut scu = crate::Scu::<R>::new(&ctx.scp.policy.ae_title);
            scu.wire_log = ctx.scp.wire_log.clone();
            scu.tls = ctx.scp.destination_tls_for(&entity.ae_title);
            scu.decompress = ctx.scp.decompress;
            match scu.associate(entity, contexts).await {
                Ok(a) => {
                    sub = Some(a);
                    sub_end = i + n;
                }
                Err(e) => {
                    tracing::warn!(error = %e, destination = %entity, "cannot reach the C-MOVE destination");
                    for f in &instances[i..] {
                        tally.record(&f.sop_instance_uid, None);
                    }
                    let reply = kind.final_response(
                        tally.final_status(),
                        tally.finished(),
                        &tally.failed_uids,
                    );
                    return send_reply(conn, context_id, reply, ts).await;
                }
            }
        }
        let status = match sub.as_mut() {
            Some(assoc) => {
                let originator = ctx.peer.calling_ae.as_str();
                match assoc
                    .store_for_move(file, originator, kind.message_id())
                    .await
                {
                    Ok(outcome) => Some(outcome.response.status),
                    Err(e) => {
                        tracing::warn!(error = %e, "C-STORE sub-operation failed");
                        None
                    }
                }
            }
            None => {
                store_back(
                    ctx,
                    conn,
                    file,
                    &mut sub_ids,
                    kind.message_id(),
                    &mut cancel_seen,
                )
                .await
            }
        };
        if conn.assoc.is_closed() {
            return Ok(());
        }
        tally.record(&file.sop_instance_uid, status);
        let remaining = total - i - 1;
        if remaining > 0 {
            let reply = (
                kind.response(Status::PENDING, tally.pending(remaining)),
                None,
            );
            send_reply(conn, context_id, reply, ts).await?;
        }
    }
    if let Some(a) = sub.take() {
        let _ = a.release().await;
    }
    let reply = kind.final_response(tally.final_status(), tally.finished(), &tally.failed_uids);
    send_reply(conn, context_id, reply, ts).await
}

/// A C-GET sub-operation: C-STORE `file` back over the requesting association on a context
/// where the requestor accepted the SCP role, and wait for its response.
pub(super) async fn store_back<T: Transport>(
    ctx: &Dispatch<'_>,
    conn: &mut Conn<T>,
    file: &crate::StoreFile,
    ids: &mut dimse_core::dimse::MessageIdAllocator,
    get_message_id: u16,
    cancel_seen: &mut bool,
) -> Option<Status> {
    // The instance's own syntax if the requestor took it; else an uncompressed one we can
    // convert or decompress to (the requestor may accept only one syntax per context).
    let usable = |c: &&dimse_core::assoc::PresentationContext| {
        c.is_accepted() && c.requestor_is_scp && c.abstract_syntax == file.sop_class_uid
    };
    let contexts = &ctx.negotiated?.contexts;
    let accepted = |ts: &str| {
        contexts
            .iter()
            .filter(usable)
            .any(|c| c.transfer_syntax == ts)
    };
    let (to, conversion) = crate::file::plan(file, accepted, ctx.scp.decompress)?;
    let context = contexts
        .iter()
        .filter(usable)
        .find(|c| c.transfer_syntax == to.uid)?;
    let (data, size): (Box<dyn std::io::Read + Send>, u64) = match conversion {
        None => (Box::new(file.data_reader().ok()?), file.data_len),
        Some(conversion) => match file.converted(conversion) {
            Ok(data) => {
                let size = data.len() as u64;
                (Box::new(std::io::Cursor::new(data)), size)
            }
            Err(e) => {
                tracing::warn!(error = %e, "C-GET sub-operation failed");
                return None;
            }
        },
    };
    let rq = CStoreRq::new(
        ids.next(),
        &file.sop_class_uid,
        &file.sop_instance_uid,
        dimse_core::dimse::Priority::Medium,
    );
    conn.assoc
        .send_message(Instant::now(), context.id, &rq)
        .ok()?;
    if conn
        .stream_data(context.id, data, Some(size))
        .await
        .is_err()
    {
        conn.abort().await;
        return None;
    }
    loop {
        match conn.next_operation_event(None).await.ok()?? {
            // The core matched it: it answers this sub-operation, our one request in flight.
            Event::Message {
                message: Message::CStoreRsp(rsp),
                ..
            } => return Some(rsp.status),
            Event::Aborted(_) => return None,
            // A cancel during a sub-operation takes effect after it (checked by the caller
            // before the next one); the peer then gets Cancel with the counts so far.
            event => *cancel_seen |= cancels(&event, get_message_id),
        }
    }
}
