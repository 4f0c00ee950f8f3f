//! A timer without a runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// A timer for [`block_on`](super::block_on): a thread wakes the parked one when the time is
/// up, and ends early when the timer is dropped.
///
/// ```
/// use std::time::{Duration, Instant};
/// use dimse_driver::blocking::{block_on, Sleep};
///
/// let start = Instant::now();
/// block_on(Sleep::new(Duration::from_millis(20)));
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// ```
pub struct Sleep {
    state: Arc<Mutex<Timer>>,
    thread: Option<thread::Thread>,
}

#[derive(Default)]
struct Timer {
    expired: bool,
    dropped: bool,
    waker: Option<Waker>,
}

impl Sleep {
    /// Complete after `duration`.
    pub fn new(duration: Duration) -> Self {
        let state = Arc::new(Mutex::new(Timer::default()));
        let timer = state.clone();
        let dropped = |t: &Mutex<Timer>| t.lock().unwrap_or_else(|e| e.into_inner()).dropped;
        let thread = thread::Builder::new()
            .name("dimse-timer".into())
            .spawn(move || {
                let until = Instant::now() + duration;
                while let Some(left) = until.checked_duration_since(Instant::now()) {
                    if dropped(&timer) || left.is_zero() {
                        break;
                    }
                    thread::park_timeout(left);
                }
                let mut state = timer.lock().unwrap_or_else(|e| e.into_inner());
                state.expired = true;
                if let Some(waker) = state.waker.take() {
                    waker.wake();
                }
            });
        let thread = match thread {
            Ok(handle) => Some(handle.thread().clone()),
            Err(_) => {
                // No thread for a timer: wait on this one.
                thread::sleep(duration);
                state.lock().unwrap_or_else(|e| e.into_inner()).expired = true;
                None
            }
        };
        Sleep { state, thread }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.expired {
            return Poll::Ready(());
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).dropped = true;
        if let Some(thread) = &self.thread {
            thread.unpark();
        }
    }
}
