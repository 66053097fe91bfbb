//! What the rules are about, in plain data: the configuration they read, what they decide
//! ([`Outcome`], [`Answer`]) and the views of machines, wallets, halls and pools they produce.

use std::collections::BTreeMap;

/// One minute, the GGR window (H-1).
pub const WINDOW_MS: i64 = 60_000;
/// Micro-units per minor unit (P-1).
pub const MICRO: i128 = 1_000_000;
/// Largest amount of one event (E-5).
pub const AMOUNT_MAX: i64 = 1_000_000_000_000;
/// Epochs whose marks a machine keeps (M-1).
pub const EPOCHS_KEPT: usize = 4;
/// Hole ranges a machine keeps per epoch (M-1).
pub const HOLES_KEPT: usize = 64;

/// Draws a mystery hit point: `(pool, level, reset count, lo, hi) -> point in lo..=hi`.
pub type Draw = Box<dyn FnMut(&str, u8, u64, i64, i64) -> i64 + Send>;

/// One level of a pool's configuration (P-5).
#[derive(Clone, Debug)]
pub struct LevelSpec {
    /// Display name.
    pub name: String,
    /// Reset value, minor units.
    pub seed: i64,
    /// Share of each bet, parts per million.
    pub ppm: i64,
    /// Must-hit-by (mystery) or cap (progressive).
    pub ceiling: Option<i64>,
    /// The controller decides hits.
    pub mystery: bool,
    /// Smallest bet that may win the level.
    pub min_bet: i64,
}

/// A pool's configuration.
#[derive(Clone, Debug)]
pub struct PoolSpec {
    /// The pool.
    pub id: String,
    /// Linked halls; `None` = every hall.
    pub halls: Option<Vec<String>>,
    /// Levels in index order.
    pub levels: Vec<LevelSpec>,
}

/// What the rules need to know of the configuration.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// The network's currency (E-4).
    pub currency: String,
    /// How far below zero a wallet's bets may take it (W-3).
    pub credit_line: i64,
    /// Cash-in at or above this raises an alert; 0 = never (M-7).
    pub large_cash_in: i64,
    /// A credited win at or above this raises an alert; 0 = never (M-10).
    pub handpay_threshold: i64,
    /// E-3.
    pub clock_ahead_max_ms: i64,
    /// E-3.
    pub clock_behind_max_ms: i64,
    /// The jackpot pools.
    pub pools: Vec<PoolSpec>,
}

/// What became of one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not a valid event (E-1), with its code.
    Rejected(&'static str),
    /// Applied.
    Applied,
    /// Already applied: nothing changed (M-1, W-2).
    Repeat,
    /// Refused by a rule, with its code.
    Refused(&'static str),
}

/// A machine as the rules see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MachineView {
    /// The hall it stands in (M-5).
    pub hall: String,
    /// Derived credits, may be negative (M-2).
    pub credits: i64,
    /// Meters by name (`coin_in`, `coin_out`, `games_played`, `games_won`, `bills_in`,
    /// `tickets_in`, `tickets_out`, `cashless_in`, `cashless_out`, `handpaid`,
    /// `jackpot_paid`, `jackpot_handpaid`, `doors_opened`).
    pub meters: BTreeMap<&'static str, i64>,
    /// Carded-in player.
    pub session: Option<String>,
    /// Online.
    pub online: bool,
    /// Door open.
    pub door_open: bool,
    /// Tilt code.
    pub tilt: Option<u32>,
    /// M-8: the meter variance not explained, by snapshot meter name (only those not zero).
    pub meter_variance: BTreeMap<&'static str, i64>,
}

/// A wallet as the rules see it (W-7).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalletView {
    /// Balance.
    pub balance: i64,
    /// Deposited.
    pub deposits: i64,
    /// Withdrawn.
    pub withdrawals: i64,
    /// Wagered (gross).
    pub bets: i64,
    /// Won.
    pub wins: i64,
    /// Refunded.
    pub refunds: i64,
}

/// Totals of a hall or of one of its windows (H-1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Bets net of rollbacks.
    pub bets: i64,
    /// Wins.
    pub wins: i64,
    /// Jackpot awards paid on the hall's machines.
    pub jackpots: i64,
    /// Games.
    pub games: i64,
}

impl Totals {
    /// Gross gaming revenue.
    pub fn ggr(&self) -> i64 {
        self.bets - self.wins
    }

    /// Net win.
    pub fn net_win(&self) -> i64 {
        self.bets - self.wins - self.jackpots
    }

    pub(super) fn add(&mut self, other: &Totals) {
        self.bets += other.bets;
        self.wins += other.wins;
        self.jackpots += other.jackpots;
        self.games += other.games;
    }
}

/// A hall's revenue: all time and per window start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HallView {
    /// All time.
    pub totals: Totals,
    /// Per one-minute window, by start (ms).
    pub windows: BTreeMap<i64, Totals>,
}

/// A pool level's books (P-6).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LevelView {
    /// Current level, minor units.
    pub level: i64,
    /// Fractional remainder, micro-units.
    pub frac: i64,
    /// Held back above the cap.
    pub reserve: i64,
    /// Contributions, micro-units.
    pub contributed_micro: i128,
    /// Seeds funded.
    pub seeded: i64,
    /// Paid by the pool.
    pub paid: i64,
    /// Hits.
    pub hits: u64,
    /// Differences between what machines paid and the level (P-3).
    pub variance: i64,
    /// The mystery hit point in force.
    pub hit_point: Option<i64>,
}

impl LevelView {
    /// Level, reserve and remainder in micro-units.
    pub fn held_micro(&self) -> i128 {
        (i128::from(self.level) + i128::from(self.reserve)) * MICRO + i128::from(self.frac)
    }
}

/// A jackpot hit (P-4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Pool.
    pub pool: String,
    /// Level index.
    pub level: u8,
    /// The level's hit number.
    pub number: u64,
    /// The machine paid.
    pub machine: String,
    /// What the machine was paid.
    pub amount: i64,
    /// A mystery hit (decided by the pool), else a progressive claim.
    pub mystery: bool,
}

/// The answer a wallet command got (W-6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Applied: the signed change and the balance after.
    Applied {
        /// Signed change of the balance.
        delta: i64,
        /// Balance after.
        balance: i64,
    },
    /// Refused, with the code.
    Refused(&'static str),
}
