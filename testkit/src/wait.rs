//! Waiting on a condition with a deadline. A test never sleeps a fixed time to wait for a
//! result: it polls the condition and fails, naming what it waited for, when the deadline
//! passes.

use std::time::{Duration, Instant};

/// Polls `f` every `every` until it returns `Some`, or returns `None` once `timeout` has
/// passed (`f` is always called at least once). For callers that report the timeout
/// themselves, as the load harness does with an error instead of a panic.
pub fn poll_until<T>(
    timeout: Duration,
    every: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// Polls `f` until it returns `Some`; panics naming `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, f: impl FnMut() -> Option<T>) -> T {
    poll_until(timeout, Duration::from_millis(25), f)
        .unwrap_or_else(|| panic!("timed out after {timeout:?} waiting for {what}"))
}

/// As [`wait_for`] with a plain condition, for async tests: sleeps on the runtime's timer,
/// so the actors the test waits on keep running on the same thread.
pub async fn wait_for_async(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
