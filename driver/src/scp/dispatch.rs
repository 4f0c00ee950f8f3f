//! From a request's command set to its answer: which service runs and where its data set goes.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use dimse_core::assoc::{self, Negotiated};
use dimse_core::dataset::DataSet;
use dimse_core::dimse::{
    CEchoRsp, CFindRq, CGetRq, CMoveRq, CStoreRq, CStoreRsp, DimseMessage, Message, NActionRq,
    NActionRsp, NEventReportRq, NEventReportRsp, Status, SubOperations,
};
use dimse_core::uid;

use crate::conn::Conn;
use crate::runtime::{Runtime, Transport};
use crate::tls::Link;

use super::commitment::run_commitment;
use super::find::{find_final, run_find};
use super::nservice::send_n_response;
use super::operation::{guarded_async, refusal, Dispatch};
use super::retrieve::{run_retrieve, Retrieve};
use super::settings::Scp;
use crate::handler::{NRequest, NResponse, Peer, StoreRequest, StoreSink};

/// The message whose data set is arriving, and where the data set goes.
pub(super) struct Incoming {
    pub(super) context_id: u8,
    pub(super) answer: Answer,
    pub(super) receiving: Receiving,
}

impl Incoming {
    /// A request whose data set (an identifier, small and bounded) is gathered in memory.
    fn gathering(context_id: u8, answer: Answer) -> Self {
        Incoming {
            context_id,
            answer,
            receiving: Receiving::Gather(BytesMut::new()),
        }
    }
}

/// How to answer once the data set is complete.
pub(super) enum Answer {
    Store(CStoreRq),
    Find(CFindRq),
    Move(CMoveRq),
    Get(CGetRq),
    Action(NActionRq),
    EventReport(NEventReportRq),
    NService(Message),
    /// A request we do not serve: a bare response with this command field and message ID.
    Refuse {
        command_field: u16,
        message_id: u16,
    },
}

/// Where the fragments of the arriving data set go.
pub(super) enum Receiving {
    /// Streamed to the handler's sink (C-STORE).
    Sink(Box<dyn StoreSink>),
    /// Gathered: an identifier, small and bounded.
    Gather(BytesMut),
    /// Dropped: the answer is already this status.
    Refused(Status),
}

pub(super) async fn handle_message<T: Transport>(
    scp: &Scp,
    conn: &mut Conn<T>,
    peer: &Peer,
    negotiated: Option<&Negotiated>,
    context_id: u8,
    message: Message,
    incoming: &mut Option<Incoming>,
) -> Result<(), assoc::UsageError> {
    let now = Instant::now();
    match message {
        Message::CEchoRq(rq) => {
            let status = guarded_async(Status::PROCESSING_FAILURE, || scp.handler.echo(peer)).await;
            let rsp = CEchoRsp::for_request(&rq, status);
            conn.assoc.send_message(now, context_id, &rsp)
        }
        Message::CStoreRq(rq) => {
            let transfer_syntax = negotiated
                .and_then(|n| n.context(context_id))
                .map(|c| c.transfer_syntax.clone())
                .unwrap_or_default();
            let request = StoreRequest {
                request: rq.clone(),
                transfer_syntax,
            };
            let receiving = match guarded_async(Err(Status::PROCESSING_FAILURE), || {
                scp.handler.store(peer, &request)
            })
            .await
            {
                Ok(sink) => Receiving::Sink(sink),
                Err(status) => Receiving::Refused(status),
            };
            *incoming = Some(Incoming {
                context_id,
                answer: Answer::Store(rq),
                receiving,
            });
            Ok(())
        }
        Message::CFindRq(rq) => {
            *incoming = Some(Incoming::gathering(context_id, Answer::Find(rq)));
            Ok(())
        }
        Message::CMoveRq(rq) => {
            *incoming = Some(Incoming::gathering(context_id, Answer::Move(rq)));
            Ok(())
        }
        Message::CGetRq(rq) => {
            *incoming = Some(Incoming::gathering(context_id, Answer::Get(rq)));
            Ok(())
        }
        Message::NActionRq(rq) if rq.has_data_set => {
            *incoming = Some(Incoming::gathering(context_id, Answer::Action(rq)));
            Ok(())
        }
        // Without a data set (N-GET and N-DELETE never have one) the handler answers now.
        Message::NGetRq(_)
        | Message::NDeleteRq(_)
        | Message::NSetRq(_)
        | Message::NCreateRq(_)
        | Message::NActionRq(_)
            if !message.has_data_set() =>
        {
            let request = NRequest {
                message,
                data: None,
            };
            let response = guarded_async(NResponse::status(Status::PROCESSING_FAILURE), || {
                scp.handler.n_service(peer, &request)
            })
            .await;
            send_n_response(conn, negotiated, context_id, &request.message, response)
        }
        Message::NSetRq(_) | Message::NCreateRq(_) | Message::NActionRq(_) => {
            *incoming = Some(Incoming::gathering(context_id, Answer::NService(message)));
            Ok(())
        }
        Message::NEventReportRq(rq) => {
            if !rq.has_data_set {
                let status = guarded_async(Status::PROCESSING_FAILURE, || {
                    scp.handler.event_report(peer, &rq, None)
                })
                .await;
                let rsp = NEventReportRsp::for_request(&rq, status);
                return conn.assoc.send_message(now, context_id, &rsp);
            }
            *incoming = Some(Incoming::gathering(context_id, Answer::EventReport(rq)));
            Ok(())
        }
        other => {
            tracing::warn!(message = other.name(), "unsupported request");
            if let Some(id) = other.message_id() {
                // 0x0211 unrecognized operation: a response keeps the peer from waiting.
                let status = Status::UNRECOGNIZED_OPERATION;
                if !other.has_data_set() {
                    let rsp = refusal(other.command_field(), id, status);
                    return conn.assoc.send_command(now, context_id, &rsp);
                }
                *incoming = Some(Incoming {
                    context_id,
                    answer: Answer::Refuse {
                        command_field: other.command_field(),
                        message_id: id,
                    },
                    receiving: Receiving::Refused(status),
                });
            }
            Ok(())
        }
    }
}

pub(super) async fn handle_data<R: Runtime>(
    ctx: &Dispatch<'_>,
    conn: &mut Conn<Link<R::Stream>>,
    incoming: &mut Option<Incoming>,
    data: Bytes,
    last: bool,
) -> Result<(), assoc::UsageError> {
    let Some(current) = incoming.as_mut() else {
        return Ok(());
    };
    match &mut current.receiving {
        Receiving::Sink(sink) => {
            if let Err(e) = sink.write_bytes(data) {
                tracing::warn!(error = %e, "storing data set failed");
                let failed = Receiving::Refused(Status::OUT_OF_RESOURCES);
                if let Receiving::Sink(sink) = std::mem::replace(&mut current.receiving, failed) {
                    sink.discard();
                }
            }
        }
        Receiving::Gather(buf) => {
            if buf.len() + data.len() > ctx.scp.max_identifier {
                current.receiving = Receiving::Refused(Status::OUT_OF_RESOURCES);
            } else {
                buf.extend_from_slice(&data);
            }
        }
        Receiving::Refused(_) => {}
    }
    if !last {
        return Ok(());
    }
    let done = incoming.take().expect("checked above");
    let rsp = match (done.answer, done.receiving) {
        (Answer::Find(rq), Receiving::Gather(identifier)) => {
            return run_find(ctx, conn, done.context_id, &rq, identifier.freeze()).await;
        }
        (Answer::Find(rq), Receiving::Refused(status)) => find_final(&rq, status).to_command(),
        (Answer::Move(rq), Receiving::Gather(identifier)) => {
            let kind = Retrieve::Move(rq);
            return run_retrieve::<R>(ctx, conn, done.context_id, &kind, identifier.freeze()).await;
        }
        (Answer::Get(rq), Receiving::Gather(identifier)) => {
            let kind = Retrieve::Get(rq);
            return run_retrieve::<R>(ctx, conn, done.context_id, &kind, identifier.freeze()).await;
        }
        (Answer::Action(rq), Receiving::Gather(info)) => {
            return run_commitment(ctx, conn, done.context_id, &rq, info.freeze()).await;
        }
        (Answer::EventReport(rq), Receiving::Gather(info)) => {
            let ts = ctx
                .negotiated
                .and_then(|n| n.context(done.context_id))
                .and_then(|c| uid::transfer_syntax(&c.transfer_syntax));
            let ds = ts.and_then(|ts| DataSet::decode(info.freeze(), ts).ok());
            let status = guarded_async(Status::PROCESSING_FAILURE, || {
                ctx.scp.handler.event_report(ctx.peer, &rq, ds.as_ref())
            })
            .await;
            NEventReportRsp::for_request(&rq, status).to_command()
        }
        (Answer::Action(rq), _) => {
            NActionRsp::for_request(&rq, Status::OUT_OF_RESOURCES).to_command()
        }
        (Answer::NService(message), Receiving::Gather(data)) => {
            let ts = ctx
                .negotiated
                .and_then(|n| n.context(done.context_id))
                .and_then(|c| uid::transfer_syntax(&c.transfer_syntax));
            let response = match ts.map(|ts| DataSet::decode(data.freeze(), ts)) {
                Some(Ok(ds)) => {
                    let request = NRequest {
                        message,
                        data: Some(ds),
                    };
                    let response =
                        guarded_async(NResponse::status(Status::PROCESSING_FAILURE), || {
                            ctx.scp.handler.n_service(ctx.peer, &request)
                        })
                        .await;
                    return send_n_response(
                        conn,
                        ctx.negotiated,
                        done.context_id,
                        &request.message,
                        response,
                    );
                }
                // 0x0106 invalid attribute value: the data set does not decode.
                _ => NResponse::status(Status::INVALID_ATTRIBUTE_VALUE),
            };
            return send_n_response(conn, ctx.negotiated, done.context_id, &message, response);
        }
        (Answer::NService(message), _) => {
            return send_n_response(
                conn,
                ctx.negotiated,
                done.context_id,
                &message,
                NResponse::status(Status::OUT_OF_RESOURCES),
            );
        }
        (Answer::EventReport(rq), _) => {
            NEventReportRsp::for_request(&rq, Status::OUT_OF_RESOURCES).to_command()
        }
        (Answer::Move(rq), _) => {
            let kind = Retrieve::Move(rq);
            kind.response(Status::OUT_OF_RESOURCES, SubOperations::default())
        }
        (Answer::Get(rq), _) => {
            let kind = Retrieve::Get(rq);
            kind.response(Status::OUT_OF_RESOURCES, SubOperations::default())
        }
        (Answer::Store(rq), receiving) => {
            let status = match receiving {
                Receiving::Sink(sink) => sink.finish(),
                Receiving::Refused(status) => status,
                Receiving::Gather(_) => Status::UNABLE_TO_PROCESS,
            };
            CStoreRsp::for_request(&rq, status).to_command()
        }
        (
            Answer::Refuse {
                command_field,
                message_id,
            },
            _,
        ) => refusal(command_field, message_id, Status::UNRECOGNIZED_OPERATION),
        (Answer::Find(rq), Receiving::Sink(sink)) => {
            sink.discard();
            find_final(&rq, Status::UNABLE_TO_PROCESS).to_command()
        }
    };
    conn.assoc
        .send_command(Instant::now(), done.context_id, &rsp)
}
