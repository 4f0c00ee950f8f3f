//! Storage Commitment (PS3.4 J): the N-ACTION's answer and the reports, on the request's
//! association or on a new one.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{self, Event};
use dimse_core::commitment::{self, CommitmentReport, CommitmentRequest};
use dimse_core::dataset::DataSet;
use dimse_core::dimse::{Message, NActionRq, NActionRsp, NEventReportRq, Status};
use dimse_core::uid;

use crate::conn::Conn;
use crate::runtime::{Runtime, Transport};

use super::operation::{guarded_async, Dispatch};
use super::settings::{CommitmentReports, Scp};

/// Storage Commitment reports on a new association: we request it, proposing only the SCP
/// role, and send one N-EVENT-REPORT per report.
pub(super) async fn send_report_later<R: Runtime>(
    scp: &Scp,
    requestor: &str,
    report: &CommitmentReport,
) {
    let transaction = &report.transaction_uid;
    let requestor = requestor.trim();
    let known = scp.destinations.get(requestor);
    let Some(entity) = known.or_else(|| scp.report_destinations.get(requestor)) else {
        tracing::warn!(%requestor, %transaction, "no address for the requestor's AE title: the Storage Commitment report cannot be sent");
        return;
    };
    let Ok(info) = report.to_data_set() else {
        tracing::warn!(%transaction, "the Storage Commitment report cannot be encoded");
        return;
    };
    let mut context = dimse_core::assoc::ProposedContext::new(
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        &[uid::EXPLICIT_VR_LE, uid::IMPLICIT_VR_LE],
    );
    context.roles = Some((false, true));
    let mut scu = crate::Scu::<R>::new(&scp.policy.ae_title);
    scu.wire_log = scp.wire_log.clone();
    scu.tls = scp.destination_tls_for(&entity.ae_title);
    let mut assoc = match scu.associate(entity, vec![context]).await {
        Ok(a) => a,
        Err(error) => {
            tracing::warn!(%error, destination = %entity, %transaction, "cannot reach the requestor for the Storage Commitment report");
            return;
        }
    };
    let sent = assoc
        .n_event_report(
            uid::STORAGE_COMMITMENT_PUSH_MODEL,
            uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
            report.event_type(),
            Some(&info),
        )
        .await;
    match sent {
        Ok((rsp, _)) => {
            tracing::info!(destination = %entity, %transaction, status = %rsp.status, "Storage Commitment report sent on a new association");
            let _ = assoc.release().await;
        }
        Err(error) => {
            tracing::warn!(%error, destination = %entity, %transaction, "the Storage Commitment report was not answered");
            assoc.abort().await;
        }
    }
}

/// Storage Commitment: answer the N-ACTION with the handler's verdict, then send the report
/// as an N-EVENT-REPORT on this association and wait for its response.
pub(super) async fn run_commitment<T: Transport>(
    ctx: &Dispatch<'_>,
    conn: &mut Conn<T>,
    context_id: u8,
    rq: &NActionRq,
    info: Bytes,
) -> Result<(), assoc::UsageError> {
    let now = Instant::now();
    let respond = |conn: &mut Conn<T>, status: Status| {
        let rsp = NActionRsp::for_request(rq, status);
        conn.assoc.send_message(Instant::now(), context_id, &rsp)
    };
    let ts = ctx
        .negotiated
        .and_then(|n| n.context(context_id))
        .and_then(|c| uid::transfer_syntax(&c.transfer_syntax));
    let is_commitment = uid::trim(&rq.requested_sop_class_uid)
        == uid::STORAGE_COMMITMENT_PUSH_MODEL
        && rq.action_type_id == commitment::ACTION_REQUEST;
    let (Some(ts), true) = (ts, is_commitment) else {
        // 0x0123 no such action; 0x0122 for a SOP class we do not serve.
        return respond(
            conn,
            if is_commitment {
                Status::PROCESSING_FAILURE
            } else {
                Status::NO_SUCH_ACTION
            },
        );
    };
    let Some(request) = DataSet::decode(info, ts)
        .ok()
        .and_then(|ds| CommitmentRequest::from_data_set(&ds))
    else {
        return respond(conn, Status::INVALID_ARGUMENT_VALUE);
    };
    let report = match guarded_async(Err(Status::PROCESSING_FAILURE), || {
        ctx.scp.handler.commit(ctx.peer, &request)
    })
    .await
    {
        Ok(r) => r,
        Err(status) => return respond(conn, status),
    };
    respond(conn, Status::SUCCESS)?;
    if ctx.scp.commitment_reports == CommitmentReports::NewAssociation {
        ctx.later
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(report);
        return Ok(());
    }
    let Ok(event_info) = report.to_data_set() else {
        return Ok(());
    };
    let event = NEventReportRq::new(
        1,
        uid::STORAGE_COMMITMENT_PUSH_MODEL,
        uid::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
        report.event_type(),
        true,
    );
    let mut encoded = BytesMut::new();
    event_info.encode(ts, &mut encoded);
    conn.assoc.send_message(now, context_id, &event)?;
    conn.assoc
        .send_data(now, context_id, encoded.freeze(), true)?;
    let _ = conn.flush().await;
    // The requestor answers the report; wait for that (bounded by the DIMSE timeout). What
    // else it sends meanwhile stays queued in the core for the dispatch loop.
    while let Ok(Some(event)) = conn.next_operation_event(None).await {
        if matches!(
            event,
            Event::Message {
                message: Message::NEventReportRsp(_),
                ..
            } | Event::Aborted(_)
        ) {
            break;
        }
    }
    Ok(())
}
