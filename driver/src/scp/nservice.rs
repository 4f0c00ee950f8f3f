//! The N-services' responses (N-GET, N-SET, N-ACTION, N-CREATE, N-DELETE, N-EVENT-REPORT).

use std::time::Instant;

use bytes::BytesMut;
use dimse_core::assoc::{self, Negotiated};
use dimse_core::dimse::{
    DimseMessage, Message, NActionRsp, NCreateRsp, NDeleteRsp, NGetRsp, NSetRsp, Status,
};
use dimse_core::uid;

use crate::conn::Conn;
use crate::runtime::Transport;

use super::operation::refusal;
use crate::handler::NResponse;

/// Send the response of the N-service `request`'s type, with `response`'s data set.
pub(super) fn send_n_response<T: Transport>(
    conn: &mut Conn<T>,
    negotiated: Option<&Negotiated>,
    context_id: u8,
    request: &Message,
    response: NResponse,
) -> Result<(), assoc::UsageError> {
    let has_data = response.data.is_some();
    let command = match request {
        Message::NGetRq(rq) => {
            let mut rsp = NGetRsp::for_request(rq, response.status);
            rsp.has_data_set = has_data;
            rsp.to_command()
        }
        Message::NSetRq(rq) => {
            let mut rsp = NSetRsp::for_request(rq, response.status);
            rsp.has_data_set = has_data;
            rsp.to_command()
        }
        Message::NCreateRq(rq) => {
            let mut rsp = NCreateRsp::for_request(rq, response.status);
            rsp.has_data_set = has_data;
            if let Some(uid) = &response.affected_sop_instance_uid {
                rsp.affected_sop_instance_uid = Some(uid.clone());
            }
            rsp.to_command()
        }
        Message::NActionRq(rq) => {
            let mut rsp = NActionRsp::for_request(rq, response.status);
            rsp.has_data_set = has_data;
            rsp.to_command()
        }
        Message::NDeleteRq(rq) => NDeleteRsp::for_request(rq, response.status).to_command(),
        other => {
            let id = other.message_id().unwrap_or(0);
            refusal(other.command_field(), id, Status::UNRECOGNIZED_OPERATION)
        }
    };
    let has_data = has_data && !matches!(request, Message::NDeleteRq(_));
    let ts = negotiated
        .and_then(|n| n.context(context_id))
        .and_then(|c| uid::transfer_syntax(&c.transfer_syntax));
    let now = Instant::now();
    conn.assoc.send_command(now, context_id, &command)?;
    if let (true, Some(ds), Some(ts)) = (has_data, response.data, ts) {
        let mut encoded = BytesMut::new();
        ds.encode(ts, &mut encoded);
        conn.assoc
            .send_data(now, context_id, encoded.freeze(), true)?;
    }
    Ok(())
}
