//! The entities' state as the rules keep it: plain fields, and the arithmetic that belongs
//! to one entity alone (a machine's sequence marks, a pool level's contributions and resets).
//! Rules that involve several entities live in `machine.rs`, `wallet.rs` and `pool.rs`.

use std::collections::{BTreeMap, BTreeSet};

use super::types::{
    Answer, BonusView, Draw, LevelSpec, LevelView, MachineView, MoveRow, PoolSpec, WalletView,
    HOLES_KEPT,
};
use super::validate::WalletOpModel;

/// Meters by name.
pub(super) type MeterMap = BTreeMap<&'static str, i64>;

const METERS: [&str; 16] = [
    "coin_in",
    "coin_out",
    "games_played",
    "games_won",
    "bills_in",
    "tickets_in",
    "tickets_out",
    "cashless_in",
    "cashless_out",
    "handpaid",
    "jackpot_paid",
    "jackpot_handpaid",
    "doors_opened",
    "restricted_in",
    "nonrestricted_in",
    "restricted_played",
];

/// The numbers seen under one epoch (M-1): everything up to `high` that is in `seen` or at
/// or below `floor` counts as seen; the rest are holes.
#[derive(Clone, Debug, Default)]
pub(super) struct Marks {
    pub(super) high: u64,
    pub(super) seen: BTreeSet<u64>,
    /// Numbers at or below this whose holes were forgotten.
    pub(super) floor: u64,
}

impl Marks {
    pub(super) fn is_hole(&self, n: u64) -> bool {
        n > self.floor && n <= self.high && !self.seen.contains(&n)
    }

    /// Ranges of holes, lowest first.
    fn holes(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut next = self.floor + 1;
        for &n in self.seen.range(self.floor + 1..) {
            if n > next {
                out.push((next, n - 1));
            }
            next = n + 1;
        }
        if next <= self.high {
            out.push((next, self.high));
        }
        out
    }

    pub(super) fn see(&mut self, n: u64) {
        let next = n == self.high + 1;
        self.seen.insert(n);
        self.high = self.high.max(n);
        if next {
            // The next number in line adds no hole.
            return;
        }
        // Only the newest HOLES_KEPT ranges are kept: forget the oldest.
        loop {
            let holes = self.holes();
            if holes.len() <= HOLES_KEPT {
                break;
            }
            self.floor = holes[0].1;
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Machine {
    pub(super) hall: String,
    pub(super) pools: Vec<String>,
    pub(super) credits: i64,
    pub(super) meters: BTreeMap<&'static str, i64>,
    pub(super) session: Option<String>,
    /// M-12: the carded-in player's session so far: its card-in's booked time, coin in,
    /// coin out and games (none when nobody is carded in).
    pub(super) rating: Option<(i64, i64, i64, u64)>,
    pub(super) online: bool,
    pub(super) door_open: bool,
    pub(super) tilt: Option<u32>,
    pub(super) game_open: bool,
    pub(super) game_won: bool,
    pub(super) game_bet: i64,
    pub(super) last_booked: Option<i64>,
    /// M-10: handpays pending, oldest first: kind, amount, hall and booked time.
    pub(super) handpays: std::collections::VecDeque<(&'static str, i64, String, i64)>,
    /// M-8: the last snapshot compared with: what the machine reported, and this machine's
    /// own meters then (both by snapshot meter name).
    pub(super) snapshot: Option<(MeterMap, MeterMap)>,
    /// M-8: the sum of the variances of every snapshot, by meter.
    pub(super) variance: BTreeMap<&'static str, i64>,
}

impl Machine {
    pub(super) fn new(hall: &str, pools: Vec<String>) -> Self {
        Self {
            hall: hall.to_owned(),
            pools,
            credits: 0,
            meters: METERS.iter().map(|m| (*m, 0)).collect(),
            session: None,
            rating: None,
            online: true,
            door_open: false,
            tilt: None,
            game_open: false,
            game_won: false,
            game_bet: 0,
            last_booked: None,
            handpays: std::collections::VecDeque::new(),
            snapshot: None,
            variance: BTreeMap::new(),
        }
    }

    pub(super) fn view(&self) -> MachineView {
        MachineView {
            hall: self.hall.clone(),
            credits: self.credits,
            meters: self.meters.clone(),
            session: self.session.clone(),
            online: self.online,
            door_open: self.door_open,
            tilt: self.tilt,
            meter_variance: self
                .variance
                .iter()
                .filter(|(_, v)| **v != 0)
                .map(|(k, v)| (*k, *v))
                .collect(),
        }
    }

    pub(super) fn jackpot_paid(&mut self, amount: i64) {
        *self.meters.get_mut("jackpot_paid").expect("meter") += amount;
    }
}

/// What became of a bet (W-4, W-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BetState {
    Open,
    Settled,
    RolledBack,
}

/// An accepted bet (W-4, W-5, W-12).
#[derive(Clone, Debug)]
pub(super) struct Bet {
    pub(super) state: BetState,
    /// Its booked time and hall (its GGR window, W-5).
    pub(super) time: i64,
    pub(super) hall: String,
    /// W-12: what the bonus paid of it (its bonus part).
    pub(super) bonus: i64,
    /// W-12: what it took off the wagering requirement.
    pub(super) wagered: i64,
}

/// An answered command, kept for ever (the core keeps at least the retention).
#[derive(Clone, Debug)]
pub(super) enum Record {
    /// A command and its answer; for an accepted bet, where it stands.
    Answered {
        op: WalletOpModel,
        currency: String,
        round: Option<String>,
        answer: Answer,
        bet: Option<Bet>,
    },
    /// A rollback arrived for a bet never seen (W-5).
    Tombstone,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Wallet {
    pub(super) view: WalletView,
    /// By (provider, tx).
    pub(super) records: BTreeMap<(String, String), Record>,
    /// W-9: the limits in force, by (`deposit` or `loss`, period name).
    pub(super) limits: BTreeMap<(String, String), i64>,
    /// W-9: changes waiting out the cooling-off: (kind, period) -> (new limit, from when).
    pub(super) waiting: BTreeMap<(String, String), (Option<i64>, i64)>,
    /// W-9: excluded until (exclusive).
    pub(super) excluded_until: Option<i64>,
    /// W-9: period name -> (the start of the latest period a deposit counted in, its sum).
    pub(super) deposits_in: BTreeMap<String, (i64, i64)>,
    /// W-9: period name -> (the start of the latest period a bet, win or refund counted in,
    /// bets less wins and refunds in it).
    pub(super) losses_in: BTreeMap<String, (i64, i64)>,
    /// W-9: the playing session: (its first, its latest) applied bet or win.
    pub(super) session: Option<(i64, i64)>,
    /// W-10: transfer id -> (amount held, the time it is held until, W-12: a restricted
    /// hold, paid from the bonus).
    pub(super) holds: BTreeMap<String, (i64, i64, bool)>,
    /// W-10: the newest acknowledgements, (transfer id, event id), oldest first.
    pub(super) acks: std::collections::VecDeque<(String, String)>,
    /// W-10: acknowledgements to machines read before their request, in arrival order:
    /// (transfer id, event id, amount, the time they wait until, W-12: restricted credits).
    pub(super) acks_waiting: Vec<(String, String, i64, i64, bool)>,
    /// W-11: the patron's cash of the latest local day counted.
    pub(super) cash: Option<CashDay>,
    /// W-12: the bonus account, from the first award applied.
    pub(super) bonus: Option<BonusView>,
    /// W-12 (`player_unknown`): the wallet has applied a money operation (see
    /// [`Wallet::known`]).
    pub(super) moved_money: bool,
    /// W-12 (`player_unknown`): the wallet has applied a limit or a self-exclusion (see
    /// [`Wallet::known`]).
    pub(super) had_rg: bool,
}

impl Wallet {
    /// W-12: pitboss knows the player (else an award is refused `player_unknown`): the
    /// wallet has applied a money operation, or holds a KYC status other than
    /// `unverified`, a limit or self-exclusion, a transfer, loyalty points, patron cash or
    /// a bonus. A refused command changes none of these. The readings, in the model's
    /// terms:
    /// - a money operation: an applied command that moved the wallet's money: a deposit, a
    ///   withdrawal, a bet (on the credit line too), a win, a rollback that refunded
    ///   something (W-3..W-5, W-7), a transfer request that held or a cancel that gave a
    ///   hold back (W-10). RULES.md says of the commands that change no money that they
    ///   "move no money" (W-8's status, W-9's limits, delta 0, no ledger movement); a
    ///   rollback of a bet never seen (or of one refused or rolled back already) is
    ///   answered with a refund of 0 and moves none either: it makes nobody known
    ///   (`moved_money`);
    /// - a KYC status: the one the last applied `kyc_status` set, now (W-8: `verified` or
    ///   `blocked`; a player set back to `unverified` holds `unverified`: the rule names
    ///   the status held);
    /// - a limit or self-exclusion: any applied `deposit_limit`, `loss_limit`,
    ///   `session_limit` or `self_exclusion` (W-9), in force, waiting, removed or over: the
    ///   wallet keeps the player's responsible-gaming settings and pitboss knows of the
    ///   player from them (a player who excluded themselves last month is not one pitboss
    ///   "knows nothing of"); the same reading for a limit as for an exclusion (`had_rg`);
    /// - a transfer (W-10): a hold, an acknowledgement settled or waiting for its request,
    ///   or money that went to or came from a machine (`unbacked` included);
    /// - loyalty points: points above 0 (M-12: only points above 0 reach the wallet, and
    ///   nothing spends them);
    /// - patron cash: a cash move the wallet counted (W-11: a machine's bill or handpay
    ///   while the player was carded in, or a deposit or withdrawal), its day's totals kept;
    /// - a bonus: the bonus account the first applied award opened (W-12), whatever its
    ///   balance now.
    pub(super) fn known(&self) -> bool {
        let v = &self.view;
        self.moved_money
            || matches!(v.kyc.as_str(), "verified" | "blocked")
            || self.had_rg
            || !self.holds.is_empty()
            || !self.acks.is_empty()
            || !self.acks_waiting.is_empty()
            || v.to_machines != 0
            || v.from_machines != 0
            || v.unbacked != 0
            || v.points > 0
            || self.cash.is_some()
            || self.bonus.is_some()
    }

    /// W-10: a machine acknowledged the transfer already (settled or waiting).
    pub(super) fn acknowledged(&self, transfer: &str) -> bool {
        self.acks.iter().any(|(x, _)| x == transfer)
            || self.acks_waiting.iter().any(|x| x.0 == transfer)
    }
}

/// W-11: a patron's cash of one local day.
#[derive(Clone, Debug, Default)]
pub(super) struct CashDay {
    pub(super) day: i64,
    /// Every move of the day, in order.
    pub(super) moves: Vec<MoveRow>,
    /// The cases opened this day: (way, kind).
    pub(super) opened: std::collections::BTreeSet<(&'static str, &'static str)>,
    /// Cash-ins just under the reportable threshold not yet in a structuring case (any day).
    pub(super) near: Vec<MoveRow>,
}

impl Wallet {
    pub(super) fn view(&self) -> WalletView {
        let mut v = self.view.clone();
        if v.kyc.is_empty() {
            // W-8: nobody is verified until the KYC provider says so.
            v.kyc = "unverified".to_owned();
        }
        v.held = self.holds.values().map(|(a, _, _)| a).sum();
        v.restricted_held = self.restricted_held();
        v.bonus = self.bonus.clone();
        v
    }

    /// W-12: the bonus balance (0 without an account).
    pub(super) fn bonus_balance(&self) -> i64 {
        self.bonus.as_ref().map_or(0, |b| b.balance)
    }

    /// W-12: what restricted holds keep of the bonus.
    pub(super) fn restricted_held(&self) -> i64 {
        self.holds
            .values()
            .filter(|(_, _, r)| *r)
            .map(|(a, _, _)| a)
            .sum()
    }

    /// W-12: after a change at `t` (and before anything at `t`): a bonus above zero whose
    /// expiry is at or before `t` is gone, its wagering with it; else (expiry is checked
    /// first) a bonus above zero with nothing left to wager becomes cash. Returns what
    /// expired and what converted.
    pub(super) fn bonus_due(&mut self, t: i64) -> (i64, i64) {
        let Some(b) = self.bonus.as_mut() else {
            return (0, 0);
        };
        if b.balance > 0 && b.expires <= t {
            let gone = b.balance;
            b.expired += gone;
            b.balance = 0;
            b.wagering_left = 0;
            return (gone, 0);
        }
        if b.balance > 0 && b.wagering_left == 0 {
            let cash = b.balance;
            b.converted += cash;
            b.balance = 0;
            self.view.balance += cash;
            return (0, cash);
        }
        (0, 0)
    }
}

#[derive(Clone, Debug)]
pub(super) struct Pool {
    pub(super) id: String,
    pub(super) specs: Vec<LevelSpec>,
    pub(super) levels: Vec<LevelView>,
}

/// What a hit paid.
#[derive(Clone, Copy, Debug)]
pub(super) struct Paid {
    /// The level's hit number.
    pub number: u64,
    /// What the machine was paid.
    pub to_machine: i64,
    /// What the machine was paid beyond (or short of) the level's amount.
    pub variance: i64,
}

impl Pool {
    pub(super) fn new(spec: &PoolSpec, draw: &mut Draw) -> Self {
        let mut p = Self {
            id: spec.id.clone(),
            specs: spec.levels.clone(),
            levels: spec
                .levels
                .iter()
                .map(|l| LevelView {
                    level: l.seed,
                    seeded: l.seed,
                    ..LevelView::default()
                })
                .collect(),
        };
        for i in 0..p.levels.len() {
            p.draw_point(i, draw);
        }
        p
    }

    /// P-2: a mystery level's next hit point, between the level plus one and the ceiling.
    fn draw_point(&mut self, i: usize, draw: &mut Draw) {
        let spec = &self.specs[i];
        let l = &mut self.levels[i];
        l.hit_point = match (spec.mystery, spec.ceiling) {
            (true, Some(ceiling)) => {
                let lo = (l.level + 1).min(ceiling);
                Some(draw(&self.id, i as u8, l.hits, lo, ceiling))
            }
            _ => None,
        };
    }

    /// P-5: the level pays `amount`, is funded its seed again, and takes from its reserve.
    pub(super) fn pay_and_reset(
        &mut self,
        i: usize,
        amount: i64,
        carry: i64,
        draw: &mut Draw,
    ) -> u64 {
        let spec = self.specs[i].clone();
        let l = &mut self.levels[i];
        l.paid += amount;
        l.hits += 1;
        l.seeded += spec.seed;
        l.level = spec.seed + carry;
        let room = match spec.ceiling {
            Some(cap) => (cap - l.level).max(0),
            None => i64::MAX,
        };
        let take = l.reserve.min(room);
        l.reserve -= take;
        l.level += take;
        let number = l.hits;
        self.draw_point(i, draw);
        number
    }

    /// P-3: a claim on a progressive level by a machine whose game bet `game_bet`.
    pub(super) fn claim(
        &mut self,
        i: u8,
        game_bet: i64,
        reported: Option<i64>,
        draw: &mut Draw,
    ) -> Result<Paid, &'static str> {
        let idx = i as usize;
        let Some(spec) = self.specs.get(idx) else {
            return Err("unknown_level");
        };
        if spec.mystery {
            return Err("mystery_claim");
        }
        if game_bet < spec.min_bet {
            return Err("jackpot_not_eligible");
        }
        let level = self.levels[idx].level;
        let to_machine = reported.unwrap_or(level);
        let variance = to_machine - level;
        self.levels[idx].variance += variance;
        let number = self.pay_and_reset(idx, level, 0, draw);
        Ok(Paid {
            number,
            to_machine,
            variance,
        })
    }
}
