//! A one-way signal an SCP raises to end its associations: each association waits on it
//! beside its socket and aborts (A-ABORT) when it is raised.

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Poll, Waker};

#[derive(Debug, Default)]
pub(crate) struct Closing {
    raised: AtomicBool,
    waiting: Mutex<Waiting>,
}

/// The wakers of the futures waiting now, by a serial number: each leaves when its future
/// ends, so a server that lives long holds one per association in progress, not one per
/// association it ever served.
#[derive(Debug, Default)]
struct Waiting {
    next: u64,
    wakers: HashMap<u64, Waker>,
}

impl Closing {
    pub(crate) fn raise(&self) {
        self.raised.store(true, Ordering::SeqCst);
        let waiting = std::mem::take(&mut self.waiting().wakers);
        waiting.into_values().for_each(Waker::wake);
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.raised.load(Ordering::SeqCst)
    }

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `work`'s output, or `None` if the signal is raised first.
    pub(crate) async fn unless_raised<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        let mut work = pin!(work);
        let mut entry = Entry {
            closing: self,
            id: None,
        };
        poll_fn(|cx| {
            if let Poll::Ready(v) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            if self.is_raised() {
                return Poll::Ready(None);
            }
            let mut waiting = self.waiting();
            // Checked again under the lock: a raise between the two checks is not lost.
            if self.is_raised() {
                return Poll::Ready(None);
            }
            let id = *entry.id.get_or_insert_with(|| {
                waiting.next += 1;
                waiting.next
            });
            match waiting.wakers.get_mut(&id) {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                Some(waker) => waker.clone_from(cx.waker()),
                None => {
                    waiting.wakers.insert(id, cx.waker().clone());
                }
            }
            Poll::Pending
        })
        .await
    }
}

/// A waiting future's place in [`Waiting`], given up when the future ends or is dropped.
struct Entry<'a> {
    closing: &'a Closing,
    id: Option<u64>,
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.closing.waiting().wakers.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Context, Wake};

    struct Count(std::sync::atomic::AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_finished_wait_leaves_no_waker_behind_and_a_raise_wakes_the_waiting() {
        let closing = Closing::default();
        let count = Arc::new(Count(Default::default()));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        for _ in 0..100 {
            let mut wait = Box::pin(closing.unless_raised(std::future::pending::<()>()));
            assert!(wait.as_mut().poll(&mut cx).is_pending());
            assert!(wait.as_mut().poll(&mut cx).is_pending());
        }
        assert!(closing.waiting().wakers.is_empty());

        let mut wait = Box::pin(closing.unless_raised(std::future::pending::<()>()));
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        assert_eq!(closing.waiting().wakers.len(), 1);
        closing.raise();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(None));
    }
}
