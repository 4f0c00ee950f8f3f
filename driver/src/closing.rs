//! A one-way signal an SCP raises to end its associations: each association waits on it
//! beside its socket and aborts (A-ABORT) when it is raised.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::task::{Poll, Waker};

#[derive(Debug, Default)]
pub(crate) struct Closing {
    raised: AtomicBool,
    waiting: Mutex<Vec<Waker>>,
}

impl Closing {
    pub(crate) fn raise(&self) {
        self.raised.store(true, Ordering::SeqCst);
        let waiting = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|e| e.into_inner()));
        waiting.into_iter().for_each(Waker::wake);
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.raised.load(Ordering::SeqCst)
    }

    /// `work`'s output, or `None` if the signal is raised first.
    pub(crate) async fn unless_raised<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        let mut work = pin!(work);
        poll_fn(|cx| {
            if let Poll::Ready(v) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            if self.is_raised() {
                return Poll::Ready(None);
            }
            let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            // Checked again under the lock: a raise between the two checks is not lost.
            if self.is_raised() {
                return Poll::Ready(None);
            }
            if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
                waiting.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}
