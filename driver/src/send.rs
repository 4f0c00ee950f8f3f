//! Sending many files to one peer: as many associations as their contexts need (dcmsend's
//! `+ma`), several at once if asked, each file reported once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;

use dimse_core::Entity;

use crate::file::{store_contexts_with, ContextOptions, StoreFile};
use crate::runtime::Runtime;
use crate::scu::{Scu, StoreOutcome};
use crate::Error;

/// How [`Scu::send_files`] sends.
///
/// ```
/// use dimse_driver::{SendOptions, Syntaxes};
///
/// let options = SendOptions { parallel: 4, ..SendOptions::default() };
/// assert_eq!(options.contexts.syntaxes, Syntaxes::OwnWithFallbacks);
/// ```
#[derive(Debug, Clone)]
pub struct SendOptions {
    /// C-STOREs in flight per association: the asynchronous operations window proposed (the
    /// peer may grant fewer); 1 proposes none and sends one at a time.
    pub window: u16,
    /// Associations at once, files spread across them (each gets every `parallel`-th file).
    /// Their I/O overlaps on an async runtime; on a blocking transport (`dimse-std`) the
    /// futures complete in turn, so there use threads instead.
    pub parallel: usize,
    /// Which syntaxes to propose, and how; the decompression policy used when sending is
    /// the [`Scu`]'s own [`Scu::decompress`].
    pub contexts: ContextOptions,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            window: crate::ASYNC_WINDOW,
            parallel: 1,
            contexts: ContextOptions::default(),
        }
    }
}

impl<R: Runtime> Scu<R> {
    /// Sends `files` to `peer` over as many associations as their presentation contexts need
    /// (128 each), `options.parallel` at a time, converting or decompressing each file the
    /// peer does not take as it is ([`crate::file::Conversion`]).
    ///
    /// `done` sees each file exactly once, by its index in `files`: the peer's response, or
    /// why the file was not sent (no accepted context, unreadable, the association failed or
    /// could not be opened). A file is never sent twice: when an association dies, the files
    /// that were never put on the wire go again on a new one, the ones in flight are
    /// reported as [`Error::Unanswered`].
    pub async fn send_files(
        &self,
        peer: &Entity,
        files: &[StoreFile],
        options: &SendOptions,
        done: impl FnMut(usize, Result<StoreOutcome, Error>) + Send,
    ) {
        let done = Mutex::new(done);
        let report = |i: usize, outcome| {
            let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
            (*done)(i, outcome)
        };
        let lanes = options.parallel.clamp(1, files.len().max(1));
        let lane = |k: usize| {
            let indices: Vec<usize> = (k..files.len()).step_by(lanes).collect();
            let report = &report;
            async move { self.send_lane(peer, files, indices, options, report).await }
        };
        join_all(
            (0..lanes).map(|k| Box::pin(lane(k)) as Pin<Box<dyn Future<Output = ()> + Send + '_>>),
        )
        .await;
    }

    /// One association after another for the files at `indices`.
    async fn send_lane(
        &self,
        peer: &Entity,
        files: &[StoreFile],
        indices: Vec<usize>,
        options: &SendOptions,
        report: &(impl Fn(usize, Result<StoreOutcome, Error>) + Sync),
    ) {
        let lane: Vec<StoreFile> = indices.iter().map(|&i| files[i].clone()).collect();
        let mut start = 0;
        while start < lane.len() {
            let (n, contexts) = store_contexts_with(&lane[start..], &options.contexts);
            let mut pending = start..start + n;
            start += n;
            while !pending.is_empty() {
                let mut proposal = self.proposal(peer, contexts.clone());
                if options.window != 1 {
                    proposal.async_window = Some((options.window, 1));
                }
                let mut assoc = match self.associate_with(peer, &proposal).await {
                    Ok(assoc) => assoc,
                    Err(e) => {
                        let shared = std::sync::Arc::new(e);
                        for i in pending.clone() {
                            report(indices[i], Err(Error::NotAssociated(shared.clone())));
                        }
                        break;
                    }
                };
                let batch = &lane[pending.clone()];
                let mut reported = vec![false; batch.len()];
                let result = assoc
                    .store_files(batch, |j, outcome| {
                        reported[j] = true;
                        report(indices[pending.start + j], outcome);
                    })
                    .await;
                match result {
                    Ok(()) => {
                        if let Err(e) = assoc.release().await {
                            tracing::warn!(error = %e, "release failed");
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "association failed");
                        assoc.abort().await;
                        // What never went out goes again on a new association; stop when
                        // nothing did (the peer would only fail the same way again).
                        let first = reported.iter().position(|r| !r).unwrap_or(reported.len());
                        if first == reported.len() || reported[first..].iter().any(|r| *r) {
                            break;
                        }
                        pending = pending.start + first..pending.end;
                    }
                }
            }
        }
    }
}

/// Runs every future to completion, polling each in turn when woken: concurrency without a
/// spawner, so the driver stays free of any runtime.
async fn join_all<F: Future<Output = ()> + Unpin>(futures: impl IntoIterator<Item = F>) {
    let mut pending: Vec<Option<F>> = futures.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        for slot in pending.iter_mut() {
            if let Some(f) = slot {
                if Pin::new(f).poll(cx).is_ready() {
                    *slot = None;
                }
            }
        }
        if pending.iter().all(Option::is_none) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}
