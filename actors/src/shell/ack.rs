//! Completion tracking. Every message an input event causes carries a clone of the event's
//! [`AckToken`]; whoever makes an effect durable (a sink waiting for the broker, a store
//! waiting for its flush) holds a clone until then. When the last clone drops, the callback
//! runs: the source may then store the offsets the token covers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

type Callback = Box<dyn FnOnce(bool) + Send + Sync>;

struct Inner {
    failed: AtomicBool,
    on_done: Option<Callback>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(f) = self.on_done.take() {
            f(!self.failed.load(Ordering::Acquire));
        }
    }
}

/// A shared completion token. Cloning is one atomic increment.
#[derive(Clone, Default)]
pub struct AckToken(Option<Arc<Inner>>);

impl AckToken {
    /// A token whose callback runs with `true` once every clone is dropped, or with `false`
    /// if any holder called [`AckToken::fail`].
    pub fn new(on_done: impl FnOnce(bool) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(Inner {
            failed: AtomicBool::new(false),
            on_done: Some(Box::new(on_done)),
        })))
    }

    /// A token that tracks nothing (for effects no offset waits on).
    pub fn none() -> Self {
        Self(None)
    }

    /// Marks the work as failed: the callback will report `false`, and the offsets it covers
    /// must not be stored.
    pub fn fail(&self) {
        if let Some(inner) = &self.0 {
            inner.failed.store(true, Ordering::Release);
        }
    }
}

impl std::fmt::Debug for AckToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AckToken")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn callback_runs_once_when_last_clone_drops() {
        let hits = Arc::new(AtomicU32::new(0));
        let h = hits.clone();
        let t = AckToken::new(move |ok| {
            assert!(ok);
            h.fetch_add(1, Ordering::SeqCst);
        });
        let c = t.clone();
        drop(t);
        assert_eq!(hits.load(Ordering::SeqCst), 0);
        drop(c);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn failure_is_reported() {
        let seen = Arc::new(AtomicBool::new(true));
        let s = seen.clone();
        let t = AckToken::new(move |ok| s.store(ok, Ordering::SeqCst));
        t.clone().fail();
        drop(t);
        assert!(!seen.load(Ordering::SeqCst));
    }
}
