//! The generator's books of cash desks (RULES.md D): what it believes of each desk's shift
//! and drawer, its transaction ids and random source, apart from the flows that use them
//! (`desks.rs`), so that the generator's world can hold them without the two files
//! importing each other.

use std::collections::{BTreeMap, VecDeque};

use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::wire::InputEnvelope;

/// A shift the generator opened and has not closed.
#[derive(Clone, Debug)]
pub(super) struct Open {
    pub(super) opened_at: i64,
    /// What it believes the drawer holds: the float, fills less credits, and the desk's
    /// ticket sales less its payments sent since, or sent before and dated at or after the
    /// opening (RULES.md D-3; refused ones included: it cannot know).
    pub(super) cash: i64,
}

/// What the generator believes of one desk.
#[derive(Clone, Debug, Default)]
pub(super) struct Book {
    pub(super) hall: String,
    pub(super) open: Option<Open>,
    /// The shifts it closed, (opened, closed), oldest first.
    pub(super) shifts: Vec<(i64, i64)>,
    /// The cash operations it sent while no shift was open, (time, + sold / - paid), the
    /// newest 64 (RULES.md D-3: a shift that opens at or before one's time takes it).
    pub(super) loose: VecDeque<(i64, i64)>,
}

/// The generator's desk books.
pub(super) struct Desks {
    /// Draws every desk decision, apart from the rest of the stream.
    pub(super) rng: SmallRng,
    tx: u64,
    /// Invalid desk messages sent (their kinds go round).
    pub(super) invalid: usize,
    pub(super) books: BTreeMap<String, Book>,
    /// Desk commands sent, for repeats and conflicts.
    pub(super) sent: Vec<InputEnvelope>,
}

impl Desks {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            rng: SmallRng::seed_from_u64(seed ^ 0x0064_6573_6b73),
            tx: 0,
            invalid: 0,
            books: BTreeMap::new(),
            sent: Vec::new(),
        }
    }

    pub(super) fn tx(&mut self) -> String {
        self.tx += 1;
        format!("DT-{}", self.tx)
    }

    /// A desk's cash operation sent at `time` (a ticket sold: `delta` > 0, paid: < 0).
    pub(super) fn note_cash(&mut self, desk: &str, time: i64, delta: i64) {
        let Some(b) = self.books.get_mut(desk) else {
            return;
        };
        match b.open.as_mut() {
            Some(open) if open.opened_at <= time => open.cash += delta,
            Some(_) => {}
            None => {
                b.loose.push_back((time, delta));
                while b.loose.len() > 64 {
                    b.loose.pop_front();
                }
            }
        }
    }
}
