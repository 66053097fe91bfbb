//! The generator's books of cash desks (RULES.md D): what it believes of each desk's shift
//! and drawer, its transaction ids and random source, apart from the flows that use them
//! (`desks.rs`), so that the generator's world can hold them without the two files
//! importing each other.

use std::collections::{BTreeMap, VecDeque};

use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::wire::InputEnvelope;

/// The desk of quick shifts (RULES.md D-5: more closed shifts than a desk keeps).
pub(super) const RUSH: &str = "DESK-RUSH";

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

/// A player of the cage flows' own (RULES.md D-10): only they send for this wallet, so the
/// generator knows its balance.
#[derive(Clone, Debug)]
pub(super) struct Patron {
    pub(super) id: String,
    /// Version 2 messages (else 1).
    pub(super) v2: bool,
    /// The KYC provider said `verified` (RULES.md W-8).
    pub(super) verified: bool,
    /// What the wallet holds: the deposits less the withdrawals the generator expects it
    /// to apply.
    pub(super) balance: i64,
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
    /// Draws every decision about wallet cash at the cage (RULES.md D-10, `cage.rs`), apart
    /// from the desk flows' draws and the rest of the stream, so that adding it left them
    /// as they were (but for event ids and the tx numbers of players and desks).
    pub(super) cash_rng: SmallRng,
    cash_tx: u64,
    /// The cage flows' own players.
    pub(super) patrons: Vec<Patron>,
    /// Wallet commands sent from desks, for repeats and conflicts.
    pub(super) cash_sent: Vec<InputEnvelope>,
}

impl Desks {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            rng: SmallRng::seed_from_u64(seed ^ 0x0064_6573_6b73),
            tx: 0,
            invalid: 0,
            books: BTreeMap::new(),
            sent: Vec::new(),
            cash_rng: SmallRng::seed_from_u64(seed ^ 0x6361_6765_6361_7368),
            cash_tx: 0,
            patrons: Vec::new(),
            cash_sent: Vec::new(),
        }
    }

    pub(super) fn tx(&mut self) -> String {
        self.tx += 1;
        format!("DT-{}", self.tx)
    }

    /// A transaction id for a patron's wallet command at the cage.
    pub(super) fn cash_tx(&mut self) -> String {
        self.cash_tx += 1;
        format!("CW-{}", self.cash_tx)
    }

    /// A desk's cash operation sent at `time` (a ticket sold or a deposit: `delta` > 0,
    /// paid or a withdrawal: < 0).
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
