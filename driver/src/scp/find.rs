//! C-FIND: the handler's matches as pending responses, with C-CANCEL read between them.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{self, Event};
use dimse_core::dataset::DataSet;
use dimse_core::dimse::{CFindRq, CFindRsp, Status};
use dimse_core::uid;

use crate::conn::Conn;
use crate::runtime::Transport;

use super::operation::{cancels, guarded, guarded_async, Dispatch};
use crate::handler::FindRequest;

pub(super) fn find_final(rq: &CFindRq, status: Status) -> CFindRsp {
    let mut rsp = CFindRsp::for_request(rq, status);
    rsp.has_data_set = false;
    rsp
}

/// Run a C-FIND: ask the handler for matches and send each as a pending response, reading
/// between them whether the peer sent C-CANCEL.
pub(super) async fn run_find<T: Transport>(
    ctx: &Dispatch<'_>,
    conn: &mut Conn<T>,
    context_id: u8,
    rq: &CFindRq,
    identifier: Bytes,
) -> Result<(), assoc::UsageError> {
    let ts = ctx
        .negotiated
        .and_then(|n| n.context(context_id))
        .and_then(|c| uid::transfer_syntax(&c.transfer_syntax));
    let send_final = |conn: &mut Conn<T>, status: Status| {
        conn.assoc
            .send_message(Instant::now(), context_id, &find_final(rq, status))
    };
    let Some(ts) = ts else {
        return send_final(conn, Status::UNABLE_TO_PROCESS);
    };
    let identifier = match DataSet::decode(identifier, ts) {
        Ok(ds) => ds,
        Err(e) => {
            tracing::warn!(error = %e, "undecodable C-FIND identifier");
            // 0xA900: identifier does not match SOP class.
            return send_final(conn, Status::DOES_NOT_MATCH_SOP_CLASS);
        }
    };
    let request = FindRequest {
        sop_class_uid: rq.affected_sop_class_uid.clone(),
        identifier,
    };
    let matches = match guarded_async(Err(Status::UNABLE_TO_PROCESS), || {
        ctx.scp.handler.find(ctx.peer, &request)
    })
    .await
    {
        Ok(m) => m,
        Err(status) => return send_final(conn, status),
    };
    let mut matches = matches;
    // A handler's iterator that panics ends the find with a failure, like a handler error.
    while let Some(found) = guarded(Some(Err(Status::UNABLE_TO_PROCESS)), || matches.next()) {
        match conn.poll_now().await {
            Ok(events) => {
                for event in &events {
                    if matches!(event, Event::Aborted(_)) {
                        return Ok(());
                    }
                    if cancels(event, rq.message_id) {
                        return send_final(conn, Status::CANCEL);
                    }
                }
            }
            Err(_) => return Ok(()),
        }
        match found {
            Ok(ds) => {
                let mut rsp = CFindRsp::for_request(rq, Status::PENDING);
                rsp.has_data_set = true;
                let mut encoded = BytesMut::new();
                ds.encode(ts, &mut encoded);
                let now = Instant::now();
                conn.assoc.send_message(now, context_id, &rsp)?;
                conn.assoc
                    .send_data(now, context_id, encoded.freeze(), true)?;
                if conn.flush().await.is_err() {
                    return Ok(());
                }
            }
            Err(status) => return send_final(conn, status),
        }
    }
    send_final(conn, Status::SUCCESS)
}
