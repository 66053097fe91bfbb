//! Offset tracking: which consumed offsets are complete (everything they caused is in
//! Kafka), per partition, as a contiguous prefix. Only that prefix may ever be committed.
//!
//! Batches complete out of order (their tokens drop when their last effect is
//! acknowledged); a partition's committable position advances only over batches that are
//! all complete. A batch that completes with a failure never advances anything.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::stats::RunStats;
use super::Tp;

struct BatchEntry {
    done: bool,
    parts_left: usize,
    parts: Vec<Tp>,
}

#[derive(Default)]
struct Part {
    /// Batches touching this partition, in consumption order, with their last offset here.
    queue: VecDeque<(u64, i64)>,
    /// Next offset after the complete prefix (-1: nothing complete yet).
    completed: i64,
    /// Last offset committed (-1: none).
    committed: i64,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    batches: HashMap<u64, BatchEntry>,
    parts: HashMap<Tp, Part>,
}

/// The tracker of one instance.
pub struct Tracker {
    inner: Mutex<Inner>,
    stats: Arc<RunStats>,
}

impl Tracker {
    /// An empty tracker reporting positions to `stats`.
    pub fn new(stats: Arc<RunStats>) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            stats,
        }
    }

    /// Registers a batch covering `ranges` (partition, last offset in it), in consumption
    /// order. Returns its id.
    pub fn begin(&self, ranges: &[(Tp, i64)]) -> u64 {
        let mut g = self.inner.lock().expect("tracker lock");
        let id = g.next_id;
        g.next_id += 1;
        for (tp, last) in ranges {
            let part = g.parts.entry(*tp).or_insert_with(|| Part {
                completed: -1,
                committed: -1,
                ..Part::default()
            });
            part.queue.push_back((id, *last));
        }
        g.batches.insert(
            id,
            BatchEntry {
                done: false,
                parts_left: ranges.len(),
                parts: ranges.iter().map(|(tp, _)| *tp).collect(),
            },
        );
        id
    }

    /// Marks a batch complete (only if `ok`) and advances its partitions.
    pub fn complete(&self, id: u64, ok: bool) {
        if !ok {
            return;
        }
        let mut g = self.inner.lock().expect("tracker lock");
        let Inner { batches, parts, .. } = &mut *g;
        let tps = match batches.get_mut(&id) {
            Some(b) => {
                b.done = true;
                b.parts.clone()
            }
            // Its partitions were revoked meanwhile.
            None => return,
        };
        let mut advanced = Vec::new();
        for tp in tps {
            let Some(part) = parts.get_mut(&tp) else {
                continue;
            };
            let mut moved = false;
            while let Some(&(front, last)) = part.queue.front() {
                let done = batches.get(&front).is_some_and(|b| b.done);
                if !done {
                    break;
                }
                part.queue.pop_front();
                part.completed = last + 1;
                moved = true;
                if let Some(b) = batches.get_mut(&front) {
                    b.parts_left -= 1;
                    if b.parts_left == 0 {
                        batches.remove(&front);
                    }
                }
            }
            if moved {
                advanced.push((tp, part.completed));
            }
        }
        drop(g);
        if !advanced.is_empty() {
            self.stats.record_positions(&advanced);
        }
    }

    /// Complete positions not yet committed (of the given partitions, or all).
    pub fn ready(&self, only: Option<&[Tp]>) -> Vec<(Tp, i64)> {
        let g = self.inner.lock().expect("tracker lock");
        let mut out: Vec<(Tp, i64)> = g
            .parts
            .iter()
            .filter(|(tp, p)| p.completed > p.committed && only.is_none_or(|o| o.contains(tp)))
            .map(|(tp, p)| (*tp, p.completed))
            .collect();
        out.sort_unstable();
        out
    }

    /// Records positions as committed.
    pub fn mark_committed(&self, offsets: &[(Tp, i64)]) {
        let mut g = self.inner.lock().expect("tracker lock");
        for (tp, o) in offsets {
            if let Some(p) = g.parts.get_mut(tp) {
                p.committed = p.committed.max(*o);
            }
        }
    }

    /// Forgets revoked partitions: late completions of their batches change nothing.
    pub fn forget(&self, tps: &[Tp]) {
        let mut g = self.inner.lock().expect("tracker lock");
        let Inner { batches, parts, .. } = &mut *g;
        for tp in tps {
            if let Some(part) = parts.remove(tp) {
                for (id, _) in part.queue {
                    if let Some(b) = batches.get_mut(&id) {
                        b.parts_left -= 1;
                        b.parts.retain(|t| t != tp);
                        if b.parts_left == 0 {
                            batches.remove(&id);
                        }
                    }
                }
            }
        }
    }

    /// Batches registered and not yet complete (or not yet popped).
    pub fn open_batches(&self) -> usize {
        self.inner.lock().expect("tracker lock").batches.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::Src;

    const A: Tp = (Src::Input, 0);
    const B: Tp = (Src::Input, 1);

    fn tracker() -> Tracker {
        Tracker::new(Arc::new(RunStats::default()))
    }

    #[test]
    fn only_a_contiguous_complete_prefix_is_ready() {
        let t = tracker();
        let b1 = t.begin(&[(A, 9), (B, 4)]);
        let b2 = t.begin(&[(A, 19)]);
        let b3 = t.begin(&[(A, 29), (B, 7)]);
        t.complete(b2, true);
        assert!(t.ready(None).is_empty(), "b1 is still open");
        t.complete(b1, true);
        assert_eq!(t.ready(None), vec![(A, 20), (B, 5)]);
        t.mark_committed(&[(A, 20), (B, 5)]);
        assert!(t.ready(None).is_empty());
        t.complete(b3, false);
        assert!(t.ready(None).is_empty(), "a failed batch never completes");
        assert_eq!(t.open_batches(), 1);
    }

    #[test]
    fn revoked_partitions_are_forgotten() {
        let t = tracker();
        let b1 = t.begin(&[(A, 9), (B, 4)]);
        t.forget(&[A]);
        t.complete(b1, true);
        assert_eq!(t.ready(None), vec![(B, 5)]);
        assert_eq!(t.ready(Some(&[A])), vec![]);
        assert_eq!(t.open_batches(), 0);
    }
}
