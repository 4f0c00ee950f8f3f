//! One accepted connection, served until its association ends: negotiation, the limits on
//! connections and associations, and the loop that hands each request to `dispatch`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use dimse_core::assoc::{self, Event, Negotiated};
use dimse_core::pdu::{AssociateRj, RejectReason, Rejection};

use crate::conn::Conn;
use crate::faults::{FaultState, Verdict};
use crate::runtime::{Runtime, Transport};
use crate::tls::Link;

use super::commitment::send_report_later;
use super::dispatch::{handle_data, handle_message, Incoming, Receiving};
use super::operation::Dispatch;
use super::settings::Scp;
use crate::handler::Peer;

impl Scp {
    /// Serve one accepted connection until its association ends. Past
    /// [`Scp::max_associations`] being served at once, the association is rejected (transient,
    /// local limit exceeded); past [`Scp::max_connections`] the connection is closed at once.
    /// Never fails: whatever goes wrong ends this association only.
    pub async fn serve<R: Runtime>(&self, mut stream: R::Stream) {
        let connection = Active::enter(&self.active);
        if connection.count > self.max_connections {
            tracing::warn!(address = ?stream.peer_addr(), "too many connections: closing");
            stream.shutdown().await;
            return;
        }
        let link = match &self.tls {
            None => Link::Plain(stream),
            Some(tls) => {
                let address = stream.peer_addr();
                let deadline = Instant::now() + self.config.artim_timeout;
                match tls.accept(stream, deadline).await {
                    Ok(stream) => Link::Tls(Box::new(stream)),
                    Err(error) => {
                        tracing::info!(?address, %error, "TLS handshake failed");
                        return;
                    }
                }
            }
        };
        serve_association::<R>(self, link).await;
    }

    /// How many connections are being served now (associated or not).
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// How long an association may stay idle (nothing in flight, no PDU) before the SCP
    /// releases it, by default: idle peers would otherwise hold association slots forever.
    pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

    /// How long a shutdown waits, after [`Scp::close`], for the associations to send their
    /// A-ABORT and end before the adapter drops what is left.
    pub const ABORT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

    /// End every association being served: each sends A-ABORT as soon as it next waits for
    /// its peer (at once if it is waiting), discarding a data set in progress; later ones are
    /// aborted on arrival. Adapters call this when a graceful shutdown's grace period is over.
    pub fn close(&self) {
        self.closing.raise();
    }
}

/// One association being served; counted while it lives (also when its task is dropped).
struct Active<'a> {
    counter: &'a AtomicUsize,
    count: usize,
}

impl<'a> Active<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        let count = counter.fetch_add(1, Ordering::SeqCst) + 1;
        Active { counter, count }
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve_association<R: Runtime>(scp: &Scp, stream: Link<R::Stream>) {
    let address = stream.peer_addr();
    let mut conn = Conn::new(
        stream,
        assoc::Association::acceptor(scp.config.clone(), Instant::now()),
    )
    .traced(scp.wire_log.as_ref(), false);
    let mut peer = Peer {
        calling_ae: String::new(),
        called_ae: String::new(),
        address,
    };
    let mut negotiated: Option<Negotiated> = None;
    let mut incoming: Option<Incoming> = None;
    let later = std::sync::Mutex::new(Vec::new());
    // Counted from the A-ASSOCIATE-RQ on, so silent connections take no association's place.
    let mut _slot: Option<Active> = None;
    let mut faults = FaultState::default();
    loop {
        let next = scp.closing.unless_raised(conn.next_event(None)).await;
        let event = match next {
            Some(Ok(Some(e))) => e,
            Some(Ok(None)) => unreachable!("no application deadline was given"),
            Some(Err(e)) => {
                tracing::debug!(?address, error = %e, "association ended");
                break;
            }
            None => {
                tracing::info!(calling = %peer.calling_ae, "server closing: aborting");
                conn.abort().await;
                break;
            }
        };
        let now = Instant::now();
        let result = match event {
            Event::Requested(rq) => {
                peer.calling_ae = rq.calling_ae.trimmed();
                peer.called_ae = rq.called_ae.trimmed();
                let slot = _slot.insert(Active::enter(&scp.associations));
                if let Some(rj) = scp.faults.refuse {
                    tracing::warn!(calling = %peer.calling_ae, reason = %rj.reason(), "refusing the association (refuse fault)");
                    conn.assoc.reject(now, rj)
                } else if slot.count > scp.max_associations {
                    tracing::warn!(calling = %peer.calling_ae, "too many associations: rejecting");
                    conn.assoc
                        .reject(
                            now,
                            AssociateRj::new(
                                Rejection::Transient,
                                RejectReason::LocalLimitExceeded,
                            ),
                        )
                        .map(|_| ())
                } else {
                    conn.assoc
                        .respond_with_policy(now, &scp.policy)
                        .map(|rejected| {
                            if let Some(reason) = rejected {
                                tracing::info!(calling = %peer.calling_ae, %reason, "association rejected");
                            }
                        })
                }
            }
            Event::Established(n) => {
                tracing::info!(calling = %peer.calling_ae, ?address, "association established");
                negotiated = Some(*n);
                Ok(())
            }
            Event::Message {
                context_id,
                message,
            } => {
                if faults.on_message(&message)
                    && faults.complete(&scp.faults, &mut conn).await == Verdict::Abort
                {
                    conn.abort().await;
                    break;
                }
                handle_message(
                    scp,
                    &mut conn,
                    &peer,
                    negotiated.as_ref(),
                    context_id,
                    message,
                    &mut incoming,
                )
                .await
            }
            // Nothing is running (an operation reads its cancels while it runs): the request it
            // names has just been answered, so PS3.7 asks for nothing more.
            Event::Cancel { .. } => Ok(()),
            Event::Data { data, last, .. } => {
                if faults.on_data(last)
                    && faults.complete(&scp.faults, &mut conn).await == Verdict::Abort
                {
                    conn.abort().await;
                    break;
                }
                let ctx = Dispatch {
                    scp,
                    peer: &peer,
                    negotiated: negotiated.as_ref(),
                    later: &later,
                };
                handle_data::<R>(&ctx, &mut conn, &mut incoming, data, last).await
            }
            Event::ReleaseRequested => conn.assoc.respond_release(now),
            Event::Aborted(cause) => {
                tracing::info!(calling = %peer.calling_ae, %cause, "association aborted");
                Ok(())
            }
            Event::Released | Event::Rejected(_) => Ok(()),
            // Events a newer core may add concern an acceptor only if it asks for them.
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "association misuse; aborting");
            conn.abort().await;
            break;
        }
        if conn.assoc.is_closed() {
            break;
        }
    }
    if let Some(Incoming {
        receiving: Receiving::Sink(sink),
        ..
    }) = incoming.take()
    {
        sink.discard();
    }
    conn.finish().await;
    drop(_slot);
    let reports = later.into_inner().unwrap_or_else(|e| e.into_inner());
    for report in reports {
        send_report_later::<R>(scp, &peer.calling_ae, &report).await;
    }
}
