//! GGR (gross gaming revenue = bets - wins) and net win (bets - wins - jackpots) per hall
//! and one-minute window (RULES.md H-1).
//!
//! A hall's aggregator receives deltas from its machines and wallets. Windows close when the
//! hall's event time has moved `grace_windows` windows past them; a closed window is
//! published once, and a late delta reopens it so the next close publishes a revision.

use std::collections::BTreeMap;

use super::FastMap;

use super::applied::Applied;
use super::error::DomainError;
use super::ids::{HallId, SourceKey};
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
}

impl GgrTotals {
    /// Gross gaming revenue: bets - wins.
    pub fn ggr(&self) -> i64 {
        self.bets - self.wins
    }

    /// Net win: bets - wins - jackpots (revenue net of jackpot payouts).
    pub fn net_win(&self) -> i64 {
        self.bets - self.wins - self.jackpots
    }

    fn add(&mut self, d: &GgrDelta) -> Result<(), DomainError> {
        let bets = add(self.bets, d.bets, Total::GgrBets)?;
        let wins = add(self.wins, d.wins, Total::GgrWins)?;
        let jackpots = add(self.jackpots, d.jackpots, Total::GgrJackpots)?;
        self.bets = bets;
        self.wins = wins;
        self.jackpots = jackpots;
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
    /// The last sequence number applied per source.
    pub last_seq: FastMap<SourceKey, u64>,
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
        }
    }

    /// Adds a delta, once per (source, sequence).
    pub fn apply(&mut self, d: &GgrDelta) -> Result<Applied, DomainError> {
        if let Some(last) = self.last_seq.get(&d.source) {
            if d.seq <= *last {
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
        self.totals = totals;
        if d.window > self.watermark {
            self.watermark = d.window;
        }
        self.last_seq.insert(d.source.clone(), d.seq);
        Ok(Applied::Done)
    }

    /// Closes the windows that are `grace_windows` windows or more behind the watermark (all
    /// open windows when `all`), and forgets closed windows beyond the newest `windows_max`.
    pub fn close_windows(
        &mut self,
        grace_windows: i64,
        all: bool,
        windows_max: usize,
        out: &mut Vec<WindowClosed>,
    ) {
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
                });
            }
        }
        while self.windows.len() > windows_max {
            match self.windows.first_key_value() {
                Some((k, w)) if w.closed => {
                    let k = *k;
                    self.windows.remove(&k);
                }
                _ => break,
            }
        }
    }

    /// Checks the hall's invariants; panics on a broken one.
    pub fn assert_invariants(&self) {
        assert!(self.totals.games >= 0);
    }
}
