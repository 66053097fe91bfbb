//! An independent model of the money rules, written from `RULES.md` and nothing else.
//!
//! It exists to check the core (`pitboss-actors`' domain state machines) against a second
//! reading of the same rules: if both were written from one wrong idea they would agree, but
//! a slip in either shows up as a difference. So it shares no code with the core: it imports
//! nothing from `pitboss_actors` (`tests/architecture.rs` checks it), keeps its state in plain
//! integers, strings and ordered maps, and applies one input at a time in the most obvious
//! way, with no concern for speed or memory beyond finishing a million events in seconds.
//! Each rule's id from `RULES.md` is cited where it is applied.
//!
//! It reads the wire's owned input form ([`InputEnvelope`]) and validates it itself (E-1):
//! the only things it takes from the rest of the crate are that type and the mystery hit
//! point generator (an input to the rules, like the events, not a rule).
//!
//! What it produces, [`Model`]'s public maps and counters, is what [`crate::model_check`]
//! compares with the core's states and outputs.

pub mod gen;
mod machine;
mod pool;
mod validate;
mod wallet;

use std::collections::BTreeMap;

use crate::wire::InputEnvelope;

pub use validate::Event;

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
    /// `jackpot_paid`, `doors_opened`).
    pub meters: BTreeMap<&'static str, i64>,
    /// Carded-in player.
    pub session: Option<String>,
    /// Online.
    pub online: bool,
    /// Door open.
    pub door_open: bool,
    /// Tilt code.
    pub tilt: Option<u32>,
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

    fn add(&mut self, other: &Totals) {
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

/// The model: every entity's state and what was published about it.
pub struct Model {
    cfg: ModelConfig,
    draw: Draw,
    machines: BTreeMap<String, machine::Machine>,
    /// Sequence marks per machine and epoch: the EPOCHS_KEPT highest epochs seen (M-1).
    marks: BTreeMap<String, BTreeMap<u64, machine::Marks>>,
    wallets: BTreeMap<String, wallet::Wallet>,
    pools: BTreeMap<String, pool::Pool>,
    /// Halls' revenue.
    pub halls: BTreeMap<String, HallView>,
    /// Jackpot hits in the order they happened.
    pub hits: Vec<Hit>,
    /// Every wallet command's answer, by (player, provider, tx).
    pub answers: BTreeMap<(String, String, String), Answer>,
    /// Alerts by code.
    pub alerts: BTreeMap<&'static str, u64>,
    /// Refusals by code.
    pub refusals: BTreeMap<&'static str, u64>,
    /// Rejections by code.
    pub rejections: BTreeMap<&'static str, u64>,
    /// Repeats recognised.
    pub repeats: u64,
    /// Inputs seen.
    pub inputs: u64,
}

impl Model {
    /// An empty network under `cfg`, with mystery hit points from `draw`.
    pub fn new(cfg: ModelConfig, draw: Draw) -> Self {
        let mut m = Self {
            cfg,
            draw,
            machines: BTreeMap::new(),
            marks: BTreeMap::new(),
            wallets: BTreeMap::new(),
            pools: BTreeMap::new(),
            halls: BTreeMap::new(),
            hits: Vec::new(),
            answers: BTreeMap::new(),
            alerts: BTreeMap::new(),
            refusals: BTreeMap::new(),
            rejections: BTreeMap::new(),
            repeats: 0,
            inputs: 0,
        };
        // Every configured pool exists from the start, each level at its seed (P-5).
        for spec in m.cfg.pools.clone() {
            let p = pool::Pool::new(&spec, &mut m.draw);
            m.pools.insert(spec.id.clone(), p);
        }
        m
    }

    /// Applies one message as bytes: what does not read as an event is rejected (E-1).
    pub fn apply_bytes(&mut self, bytes: &[u8], kafka_time: Option<i64>) -> Outcome {
        match InputEnvelope::from_bytes(bytes) {
            Ok(env) => self.apply(&env, kafka_time),
            Err(e) => {
                self.inputs += 1;
                let code = if bytes.len() > 64 * 1024 {
                    "oversize"
                } else {
                    // The shape did not parse: a wrong type, a missing field, an unknown kind.
                    match e.code() {
                        "missing_field" => "missing_field",
                        "unsupported_version" => "unsupported_version",
                        "invalid_amount" => "invalid_amount",
                        _ => "malformed",
                    }
                };
                self.count_outcome(Outcome::Rejected(code))
            }
        }
    }

    /// Applies one event; `kafka_time` is the Kafka record's timestamp, if it came from Kafka.
    pub fn apply(&mut self, env: &InputEnvelope, kafka_time: Option<i64>) -> Outcome {
        self.inputs += 1;
        let outcome = match validate::validate(env) {
            Err(code) => Outcome::Rejected(code),
            Ok(Event::Machine(m)) => self.apply_machine(m, kafka_time),
            Ok(Event::Wallet(w)) => self.apply_wallet(w, kafka_time),
        };
        self.count_outcome(outcome)
    }

    fn count_outcome(&mut self, o: Outcome) -> Outcome {
        match &o {
            Outcome::Rejected(c) => *self.rejections.entry(c).or_default() += 1,
            Outcome::Refused(c) => *self.refusals.entry(c).or_default() += 1,
            Outcome::Repeat => self.repeats += 1,
            Outcome::Applied => {}
        }
        o
    }

    /// E-3: the event time, unless it is too far from the receive time. Checked only for an
    /// event that is not a repeat (a repeat changes nothing, so it says nothing new).
    fn booked_time(&mut self, t: i64, receive: Option<i64>) -> i64 {
        let Some(r) = receive else {
            return t;
        };
        if t > r + self.cfg.clock_ahead_max_ms || t < r - self.cfg.clock_behind_max_ms {
            self.alert("clock_skew");
            r
        } else {
            t
        }
    }

    fn alert(&mut self, code: &'static str) {
        *self.alerts.entry(code).or_default() += 1;
    }

    fn book(&mut self, hall: &str, time: i64, delta: Totals) {
        let h = self.halls.entry(hall.to_owned()).or_default();
        h.totals.add(&delta);
        let window = time.div_euclid(WINDOW_MS) * WINDOW_MS;
        h.windows.entry(window).or_default().add(&delta);
    }

    /// The pools a machine standing in `hall` plays for.
    fn pools_of(&self, hall: &str) -> Vec<String> {
        self.cfg
            .pools
            .iter()
            .filter(|p| match &p.halls {
                None => true,
                Some(hs) => hs.iter().any(|h| h == hall),
            })
            .map(|p| p.id.clone())
            .collect()
    }

    /// Every machine's state.
    pub fn machines(&self) -> BTreeMap<String, MachineView> {
        self.machines
            .iter()
            .map(|(id, m)| (id.clone(), m.view()))
            .collect()
    }

    /// Every wallet's state.
    pub fn wallets(&self) -> BTreeMap<String, WalletView> {
        self.wallets
            .iter()
            .map(|(id, w)| (id.clone(), w.view()))
            .collect()
    }

    /// Every pool's levels.
    pub fn pools(&self) -> BTreeMap<String, Vec<LevelView>> {
        self.pools
            .iter()
            .map(|(id, p)| (id.clone(), p.levels.clone()))
            .collect()
    }

    /// The conservation equation of `RULES.md`, in micro-units: money in, and money
    /// accounted for. Equal when no unit was lost or invented.
    pub fn conservation(&self) -> (i128, i128) {
        let mut entered: i128 = 0;
        let mut accounted: i128 = 0;
        for m in self.machines.values() {
            let v = m.view();
            let cash_in = v.meters["bills_in"] + v.meters["tickets_in"] + v.meters["cashless_in"];
            let cash_out =
                v.meters["tickets_out"] + v.meters["cashless_out"] + v.meters["handpaid"];
            entered += i128::from(cash_in) * MICRO;
            accounted += i128::from(v.credits + cash_out + v.meters["jackpot_paid"]) * MICRO;
        }
        for w in self.wallets.values() {
            let v = w.view();
            entered += i128::from(v.deposits) * MICRO;
            accounted += i128::from(v.balance + v.withdrawals) * MICRO;
        }
        for levels in self.pools.values() {
            for l in &levels.levels {
                entered += i128::from(l.seeded + l.variance) * MICRO;
                accounted += l.held_micro() - l.contributed_micro;
            }
        }
        for h in self.halls.values() {
            accounted += i128::from(h.totals.ggr()) * MICRO;
        }
        (entered, accounted)
    }
}

#[cfg(test)]
mod tests {
    use super::gen::{generate, model_config, GenConfig};
    use super::*;

    fn draw() -> Draw {
        Box::new(|_pool, _level, reset, lo, hi| lo + (reset as i64 * 7919) % (hi - lo + 1))
    }

    #[test]
    fn a_generated_stream_conserves_money() {
        let g = generate(&GenConfig {
            events: 20_000,
            seed: 7,
            ..GenConfig::default()
        });
        let mut m = Model::new(model_config(), draw());
        for item in &g.items {
            m.apply_bytes(&item.bytes, Some(item.kafka_time));
        }
        let (entered, accounted) = m.conservation();
        assert_eq!(entered, accounted);
        for case in [
            "retry_after_hours",
            "late_gap_fill",
            "epoch_reset",
            "settled_bet_rollback",
            "ineligible_claim",
        ] {
            assert!(g.cases.get(case).copied().unwrap_or(0) > 0, "no {case} in {:?}", g.cases);
        }
        for code in ["bet_settled", "bet_rolled_back", "tx_conflict", "insufficient_funds"] {
            assert!(m.refusals.contains_key(code), "no refusal {code}: {:?}", m.refusals);
        }
        for code in ["sequence_gap", "credit_variance", "clock_skew", "sequence_reset"] {
            assert!(m.alerts.contains_key(code), "no alert {code}: {:?}", m.alerts);
        }
        assert!(m.hits.iter().any(|h| h.mystery) && m.hits.iter().any(|h| !h.mystery));
    }
}

