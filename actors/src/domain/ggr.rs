//! GGR (gross gaming revenue = bets - wins) and net win (bets - wins - jackpots - promotional
//! credits played) per hall and one-minute window (RULES.md H-1, M-13).
//!
//! A hall's aggregator receives deltas from its machines and wallets. Windows close when the
//! hall's event time has moved `grace_windows` windows past them; a closed window is
//! published once, and a late delta reopens it so the next close publishes a revision.
//!
//! RULES.md H-2: a closed window goes to the hall's outbox, which is part of its stored state;
//! the shell publishes the outbox only once a checkpoint holding it is durable, so a crash can
//! never publish one output id with two contents. Windows leave memory (beyond `windows_max`)
//! only when published; a late delta for a window no longer in memory is applied to the
//! window read back from the store ([`HallState::needs_recall`], [`HallState::recalled`]), so
//! it continues its revisions instead of restarting at zero.
//!
//! RULES.md H-3: the hall remembers, per source, the last sequence number applied and the
//! hall's booked time when it was last heard from; [`HallState::expire_sources`] forgets the
//! sources silent for longer than the configured expiry, so the map follows the sources
//! active in that time, not every player who ever played.

use std::collections::BTreeMap;

use super::FastMap;

use super::applied::Applied;
use super::error::DomainError;
use super::ids::{Carried, EventId, HallId, SourceKey};
use super::kinds::Total;
use super::money::add;
use super::time::{Timestamp, WINDOW_MS};

/// A change to a hall's GGR, sent by a machine or a wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GgrDelta {
    /// Who sends it (for replay deduplication downstream).
    pub source: SourceKey,
    /// The source's sequence number for this delta.
    pub seq: u64,
    /// The input event whose effect it is (for the latency a published window names; no
    /// rule depends on it).
    pub cause: EventId,
    pub hall: HallId,
    /// The start of the one-minute window (event time).
    pub window: Timestamp,
    /// Amount wagered (negative for a rolled-back bet).
    pub bets: i64,
    /// Amount won.
    pub wins: i64,
    /// Games completed.
    pub games: i64,
    /// Jackpot awards paid on the hall's machines (progressive and mystery).
    pub jackpots: i64,
    /// Restricted promotional credits played (part of `bets`, RULES.md M-13).
    pub promo: i64,
}

/// Bets, wins, jackpots and games of a window (or of all time).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GgrTotals {
    /// Wagered, net of rolled-back bets.
    pub bets: i64,
    /// Won.
    pub wins: i64,
    /// Games completed.
    pub games: i64,
    /// Jackpot awards paid on the hall's machines, in the window of the hit.
    pub jackpots: i64,
    /// Restricted promotional credits played: part of `bets`, not revenue (RULES.md M-13).
    pub promo: i64,
}

impl GgrTotals {
    /// Gross gaming revenue: bets - wins.
    pub fn ggr(&self) -> i64 {
        self.bets - self.wins
    }

    /// Net win: bets - wins - jackpots - promotional credits played (revenue net of jackpot
    /// payouts and of the free play the house gave, RULES.md H-1, M-13).
    pub fn net_win(&self) -> i64 {
        self.bets - self.wins - self.jackpots - self.promo
    }

    fn add(&mut self, d: &GgrDelta) -> Result<(), DomainError> {
        let bets = add(self.bets, d.bets, Total::GgrBets)?;
        let wins = add(self.wins, d.wins, Total::GgrWins)?;
        let jackpots = add(self.jackpots, d.jackpots, Total::GgrJackpots)?;
        let promo = add(self.promo, d.promo, Total::GgrPromo)?;
        self.bets = bets;
        self.wins = wins;
        self.jackpots = jackpots;
        self.promo = promo;
        self.games += d.games;
        Ok(())
    }
}

/// One window of a hall.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GgrWindow {
    /// Totals of the window.
    pub totals: GgrTotals,
    /// Times the window has been published.
    pub revision: u32,
    /// Published and not changed since.
    pub closed: bool,
    /// The deltas applied since the window was last published (their latest cause).
    pub carried: Carried,
}

/// A window to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowClosed {
    pub hall: HallId,
    /// The window's start.
    pub window: Timestamp,
    pub totals: GgrTotals,
    /// 0 for the first publication, then 1, 2... for corrections after late events.
    pub revision: u32,
    /// The deltas this publication is the first to include (their latest cause names the
    /// output's cause, so the load harness can time it; no rule depends on it).
    pub carried: Carried,
}

/// What a hall remembers of one source (RULES.md H-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceMark {
    /// The last sequence number applied.
    pub seq: u64,
    /// The hall's watermark when the source was last heard from.
    pub heard: Timestamp,
}

/// The GGR state of one hall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HallState {
    pub id: HallId,
    /// All-time totals.
    pub totals: GgrTotals,
    /// Recent windows by start.
    pub windows: BTreeMap<Timestamp, GgrWindow>,
    /// The latest window start seen.
    pub watermark: Timestamp,
    /// The last sequence number applied per source, and when it was heard from (H-3).
    pub last_seq: FastMap<SourceKey, SourceMark>,
    /// Windows closed and not yet published, oldest first (RULES.md H-2).
    pub outbox: Vec<WindowClosed>,
    /// The newest window start that left memory: a window at or before it that is not in
    /// memory may be in the store.
    pub evicted_upto: Option<Timestamp>,
}

impl HallState {
    /// A hall with no GGR yet.
    pub fn new(id: HallId) -> Self {
        Self {
            id,
            totals: GgrTotals::default(),
            windows: BTreeMap::new(),
            watermark: Timestamp::default(),
            last_seq: FastMap::default(),
            outbox: Vec::new(),
            evicted_upto: None,
        }
    }

    /// Whether applying `d` needs its window read back from the store first: the window left
    /// memory (it was published), and `d` is not a repeat.
    pub fn needs_recall(&self, d: &GgrDelta) -> bool {
        self.evicted_upto.is_some_and(|e| d.window <= e)
            && !self.windows.contains_key(&d.window)
            && self
                .last_seq
                .get(&d.source)
                .is_none_or(|last| d.seq > last.seq)
    }

    /// Puts back a window read from the store (published: its totals and revision), so a
    /// late delta revises it. `None` (the store never held it): nothing to put back, the
    /// window starts at revision 0.
    pub fn recalled(&mut self, window: Timestamp, stored: Option<(GgrTotals, u32)>) {
        if let Some((totals, revision)) = stored {
            self.windows.entry(window).or_insert(GgrWindow {
                totals,
                revision,
                closed: true,
                carried: Carried::default(),
            });
        }
    }

    /// Adds a delta, once per (source, sequence).
    pub fn apply(&mut self, d: &GgrDelta) -> Result<Applied, DomainError> {
        if let Some(last) = self.last_seq.get(&d.source) {
            if d.seq <= last.seq {
                return Ok(Applied::Duplicate);
            }
        }
        let mut totals = self.totals.clone();
        totals.add(d)?;
        let w = self.windows.entry(d.window).or_default();
        w.totals.add(d)?;
        if w.closed {
            w.closed = false;
            w.revision += 1;
        }
        w.carried.note(d.cause);
        self.totals = totals;
        if d.window > self.watermark {
            self.watermark = d.window;
        }
        let mark = SourceMark {
            seq: d.seq,
            heard: self.watermark,
        };
        match self.last_seq.get_mut(&d.source) {
            Some(m) => *m = mark,
            None => {
                self.last_seq.insert(d.source.clone(), mark);
            }
        }
        Ok(Applied::Done)
    }

    /// RULES.md H-3: forgets the sources not heard from for more than `expiry_ms` of the
    /// hall's booked time (its watermark). Returns how many were forgotten. A linear pass:
    /// the shell calls it at most once per booked hour.
    pub fn expire_sources(&mut self, expiry_ms: i64) -> usize {
        let cutoff = self.watermark.0.saturating_sub(expiry_ms);
        let before = self.last_seq.len();
        self.last_seq.retain(|_, m| m.heard.0 >= cutoff);
        before - self.last_seq.len()
    }

    /// Closes the windows that are `grace_windows` windows or more behind the watermark (all
    /// open windows when `all`) into `out`, to be published at once, and forgets published
    /// windows beyond the newest `windows_max`.
    pub fn close_windows(
        &mut self,
        grace_windows: i64,
        all: bool,
        windows_max: usize,
        out: &mut Vec<WindowClosed>,
    ) {
        self.close(grace_windows, all, out);
        self.evict(windows_max);
    }

    /// Closes due windows like [`HallState::close_windows`], into the outbox: they are
    /// published by [`HallState::release`] once a checkpoint holding them is durable
    /// (RULES.md H-2). Whether any window closed (the state changed).
    pub fn close_into_outbox(&mut self, grace_windows: i64, all: bool, windows_max: usize) -> bool {
        let before = self.outbox.len();
        let mut outbox = std::mem::take(&mut self.outbox);
        self.close(grace_windows, all, &mut outbox);
        self.outbox = outbox;
        self.evict(windows_max);
        self.outbox.len() > before
    }

    /// Takes the oldest `n` publications of the outbox (those a durable checkpoint holds) to
    /// publish them, and forgets published windows beyond the newest `windows_max`.
    pub fn release(&mut self, n: usize, windows_max: usize) -> Vec<WindowClosed> {
        let n = n.min(self.outbox.len());
        let out: Vec<WindowClosed> = self.outbox.drain(..n).collect();
        self.evict(windows_max);
        out
    }

    fn close(&mut self, grace_windows: i64, all: bool, out: &mut Vec<WindowClosed>) {
        let limit = self.watermark.0 - grace_windows * WINDOW_MS;
        for (start, w) in self.windows.iter_mut() {
            if !all && start.0 >= limit {
                break;
            }
            if !w.closed {
                w.closed = true;
                out.push(WindowClosed {
                    hall: self.id.clone(),
                    window: *start,
                    totals: w.totals.clone(),
                    revision: w.revision,
                    carried: w.carried.take(),
                });
            }
        }
    }

    /// Forgets the oldest windows beyond `windows_max` that are published (closed, and not
    /// waiting in the outbox).
    fn evict(&mut self, windows_max: usize) {
        while self.windows.len() > windows_max {
            let Some((k, w)) = self.windows.first_key_value() else {
                break;
            };
            let k = *k;
            if !w.closed || self.outbox.iter().any(|o| o.window == k) {
                break;
            }
            self.windows.remove(&k);
            if self.evicted_upto.is_none_or(|e| k > e) {
                self.evicted_upto = Some(k);
            }
        }
    }

    /// Checks the hall's invariants; panics on a broken one.
    pub fn assert_invariants(&self) {
        assert!(self.totals.games >= 0);
    }
}
