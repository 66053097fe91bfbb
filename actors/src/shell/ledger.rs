//! The money ledger entities record: which movement a command makes, numbered per entity,
//! and for pools the derivation of movements from the levels before and after a command.
//!
//! Nothing here reads a clock or does I/O: the time of an entry is passed in (as a function,
//! so a contribution folded into its level's sum costs no clock read), which keeps the
//! derivation testable with a fixed time.

use crate::domain::jackpot::{LevelState, PoolState, MICRO};
use crate::domain::machine::{CashInKind, CashOutKind, MachineCommand, PromoCredit};
use crate::domain::transfer::Direction;
use crate::domain::{EventId, Timestamp};

use crate::shell::ports::ledger::{LedgerEntry, Movement};
use crate::shell::ports::store::{Snapshot, Stash, Stored};

/// The money movements an entity recorded since its last stash, numbered on from the count
/// stored with its state.
pub struct Ledger {
    last: u64,
    entries: Vec<LedgerEntry>,
}

impl Ledger {
    /// The ledger of an entity restored from `stored`, if the store keeps one.
    pub fn new(keeps_ledger: bool, stored: Option<&Stored>) -> Option<Self> {
        keeps_ledger.then(|| Ledger {
            last: stored.map_or(0, |s| s.movements),
            entries: Vec::new(),
        })
    }

    /// Records the next movement.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        kind: Movement,
        level: u8,
        amount: i64,
        balance: i64,
        cause: EventId,
        causes: u32,
        time: Timestamp,
    ) {
        self.last += 1;
        self.entries.push(LedgerEntry {
            n: self.last,
            kind,
            level,
            amount,
            balance,
            cause,
            causes,
            time,
        });
    }

    /// The stash of `snapshot`, handing over the movements recorded since the last one.
    pub fn take(&mut self, snapshot: Snapshot) -> Stash {
        Stash {
            snapshot,
            movements: self.last,
            ledger: std::mem::take(&mut self.entries),
            txs: Vec::new(),
            log: Vec::new(),
        }
    }

    /// The stash of `snapshot`, with the ledger's movements if there is a ledger.
    pub fn stash(ledger: &mut Option<Ledger>, snapshot: Snapshot) -> Stash {
        match ledger {
            Some(l) => l.take(snapshot),
            None => Stash::state(snapshot),
        }
    }
}

/// A machine's game ends not yet entered in its ledger (RULES.md H-4): counted per booked
/// minute, the window its hall counts them in, and entered as one [`Movement::Games`] when a
/// game ends in another minute and at every stash. A minute lies in one gaming day of every
/// zone, so the machine's games of a day are the sum of its entries booked in it.
pub struct GameCount {
    minute: Timestamp,
    count: u32,
    last: EventId,
    time: Timestamp,
}

impl Default for GameCount {
    fn default() -> Self {
        Self {
            minute: Timestamp(0),
            count: 0,
            last: EventId(0),
            time: Timestamp(0),
        }
    }
}

impl GameCount {
    /// Counts a game ended at booked time `at` by `cause`; a game of another minute first
    /// enters those counted so far (the credits do not move: `credits` is the balance).
    pub fn add(&mut self, ledger: &mut Ledger, at: Timestamp, cause: EventId, credits: i64) {
        let minute = at.window_start();
        if self.minute != minute || self.count == u32::MAX {
            self.enter(ledger, credits);
        }
        self.minute = minute;
        self.count += 1;
        self.last = cause;
        self.time = at;
    }

    /// Enters the games counted, if any, as one movement (amount and causes: their number).
    pub fn enter(&mut self, ledger: &mut Ledger, credits: i64) {
        if self.count > 0 {
            let n = self.count;
            ledger.push(
                Movement::Games,
                0,
                i64::from(n),
                credits,
                self.last,
                n,
                self.time,
            );
            self.count = 0;
        }
    }
}

/// The ledger movement of a machine command that moves credits.
pub fn machine_movement(cmd: &MachineCommand) -> Option<Movement> {
    Some(match cmd {
        MachineCommand::Bet(_) => Movement::Bet,
        MachineCommand::Win(_) => Movement::Win,
        MachineCommand::CashIn(CashInKind::Bill, _) => Movement::BillIn,
        MachineCommand::CashIn(CashInKind::Ticket(_), _) => Movement::TicketIn,
        MachineCommand::CashIn(CashInKind::Cashless, _) => Movement::CashlessIn,
        MachineCommand::CashIn(CashInKind::Promo(PromoCredit::Restricted), _) => {
            Movement::RestrictedIn
        }
        MachineCommand::CashIn(CashInKind::Promo(PromoCredit::NonRestricted), _) => {
            Movement::NonRestrictedIn
        }
        MachineCommand::CashOut(CashOutKind::Ticket(_), _) => Movement::TicketOut,
        MachineCommand::CashOut(CashOutKind::Cashless, _) => Movement::CashlessOut,
        MachineCommand::CashOut(CashOutKind::Handpay, _) => Movement::Handpay,
        MachineCommand::Transfer(t) => match t.direction {
            Direction::ToMachine => Movement::CashlessIn,
            Direction::FromMachine => Movement::CashlessOut,
        },
        // Cancelled credits paid by hand (a jackpot's reset moves no credits: RULES.md M-10).
        MachineCommand::HandpayReset { .. } => Movement::Handpay,
        _ => return None,
    })
}

/// A level's holdings as a ledger balance (micro-units in an i64). Bounded amounts keep it
/// far below the limit; should it ever be passed, the balance saturates and says so.
fn balance(l: &LevelState) -> i64 {
    let held = l.held_micro();
    i64::try_from(held).unwrap_or_else(|_| {
        tracing::error!(held = %held, "pool level holdings beyond the ledger's range");
        i64::MAX
    })
}

/// A pool's money movements. Contributions come with every bet of every linked machine, so
/// they are summed per level (one entry per level per checkpoint, or up to the level's next
/// hit) instead of written one by one; seeds and hits get an entry each.
pub struct PoolLedger {
    ledger: Ledger,
    /// Per level, before the current command: contributed (micro), seeded, paid.
    before: Vec<(i128, i64, i64)>,
    /// Per level, contributions not yet entered: micro-units, count, last cause.
    acc: Vec<(i64, u32, EventId)>,
}

impl PoolLedger {
    /// The ledger of a pool. A pool `created` now records the seeds the operator funds for
    /// its levels, at `now`.
    pub fn new(ledger: Ledger, state: &PoolState, created: bool, now: Timestamp) -> Self {
        let mut me = Self {
            ledger,
            before: Vec::with_capacity(state.levels.len()),
            acc: vec![(0, 0, EventId(0)); state.levels.len()],
        };
        if created {
            for (i, l) in state.levels.iter().enumerate() {
                let amount = l.seeded.saturating_mul(MICRO);
                me.ledger.push(
                    Movement::Seed,
                    i as u8,
                    amount,
                    balance(l),
                    EventId(0),
                    0,
                    now,
                );
            }
        }
        me
    }

    /// Notes the levels before a command, for [`PoolLedger::after`] to compare with.
    pub fn before(&mut self, state: &PoolState) {
        self.before.clear();
        self.before.extend(
            state
                .levels
                .iter()
                .map(|l| (l.contributed_micro, l.seeded, l.paid)),
        );
    }

    /// Enters the contributions summed for `level`, whose holdings were `balance` after them.
    fn enter_contributions(&mut self, level: usize, balance: i64, time: Timestamp) {
        let (micro, count, cause) = std::mem::replace(&mut self.acc[level], (0, 0, EventId(0)));
        if count > 0 {
            self.ledger.push(
                Movement::Contribution,
                level as u8,
                micro,
                balance,
                cause,
                count,
                time,
            );
        }
    }

    /// Records what the last command (caused by `cause`) changed, by comparing the levels
    /// with those noted by [`PoolLedger::before`]. `now` is asked only when an entry is
    /// written.
    pub fn after(&mut self, state: &PoolState, cause: EventId, now: impl Fn() -> Timestamp) {
        if self.acc.len() < state.levels.len() {
            self.acc.resize(state.levels.len(), (0, 0, EventId(0)));
        }
        for (i, l) in state.levels.iter().enumerate() {
            let (c0, s0, p0) = self.before.get(i).copied().unwrap_or((0, 0, 0));
            let contributed = i64::try_from(l.contributed_micro - c0)
                .expect("one contribution is at most 10^18 micro-units");
            let seeded = l.seeded - s0;
            let paid = l.paid - p0;
            let held = balance(l);
            // Holdings just after this command's contribution, before any hit and re-seed.
            let after_contribution = held + paid * MICRO - seeded * MICRO;
            if contributed != 0 {
                if self.acc[i].0.checked_add(contributed).is_none() {
                    self.enter_contributions(i, after_contribution - contributed, now());
                }
                let a = &mut self.acc[i];
                a.0 += contributed;
                a.1 += 1;
                a.2 = cause;
            }
            if paid != 0 || seeded != 0 {
                let now = now();
                self.enter_contributions(i, after_contribution, now);
                let after_hit = after_contribution - paid * MICRO;
                if paid != 0 {
                    self.ledger.push(
                        Movement::Hit,
                        i as u8,
                        -paid * MICRO,
                        after_hit,
                        cause,
                        1,
                        now,
                    );
                }
                if seeded != 0 {
                    self.ledger
                        .push(Movement::Seed, i as u8, seeded * MICRO, held, cause, 1, now);
                }
            }
        }
    }

    /// The stash of the pool's state: the contributions summed so far are entered at `now`.
    pub fn stash(&mut self, state: &PoolState, now: Timestamp) -> Stash {
        for (i, l) in state.levels.iter().enumerate() {
            if i < self.acc.len() {
                self.enter_contributions(i, balance(l), now);
            }
        }
        self.ledger.take(Snapshot::Pool(state.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::jackpot::{
        HitPointSource, LevelConfig, PoolCommand, PoolConfig, PoolMeta, PoolState,
    };
    use crate::domain::{Amount, Currency, MachineId, PoolId, SourceKey};

    struct Lowest;

    impl HitPointSource for Lowest {
        fn draw(&mut self, _: &PoolId, _: u8, _: u64, lo: i64, _: i64) -> i64 {
            lo
        }
    }

    fn pool() -> PoolState {
        let config = PoolConfig {
            currency: Currency::new("EUR").unwrap(),
            levels: vec![LevelConfig {
                name: "grand".into(),
                seed: 1_000,
                contribution_ppm: 10_000,
                ceiling: None,
                mystery: false,
                min_bet: 0,
            }],
        };
        PoolState::new(PoolId::new("P-1").unwrap(), config, &mut Lowest).unwrap()
    }

    fn apply(state: &mut PoolState, l: &mut PoolLedger, seq: u64, cmd: PoolCommand) {
        let meta = PoolMeta {
            source: SourceKey::Machine(MachineId::new("M-1").unwrap()),
            seq,
            cause: EventId(seq as u128),
        };
        l.before(state);
        state
            .apply(&meta, &cmd, &mut Lowest, &mut Vec::new())
            .unwrap();
        l.after(state, meta.cause, || Timestamp(100 + seq as i64));
    }

    #[test]
    fn pool_movements_carry_the_time_passed_in() {
        let mut state = pool();
        let ledger = Ledger::new(true, None).unwrap();
        let mut l = PoolLedger::new(ledger, &state, true, Timestamp(5));
        let machine = MachineId::new("M-1").unwrap();
        for seq in 1..=3 {
            let bet = Amount::new(1_000).unwrap();
            let cmd = PoolCommand::Contribute {
                machine: machine.clone(),
                bet,
                eligible: true,
            };
            apply(&mut state, &mut l, seq, cmd);
        }
        // Contributions are summed, not entered: no time was needed yet.
        assert_eq!(l.ledger.entries.len(), 1);
        let claim = PoolCommand::Claim {
            machine: machine.clone(),
            level: 0,
            bet: 0,
            amount: None,
        };
        apply(&mut state, &mut l, 4, claim);
        let stash = l.stash(&state, Timestamp(999));
        let got: Vec<_> = stash
            .ledger
            .iter()
            .map(|e| (e.n, e.kind, e.amount / MICRO, e.causes, e.time.0))
            .collect();
        assert_eq!(
            got,
            [
                (1, Movement::Seed, 1_000, 0, 5),
                (2, Movement::Contribution, 30, 3, 104),
                (3, Movement::Hit, -1_030, 1, 104),
                (4, Movement::Seed, 1_000, 1, 104),
            ]
        );
        assert_eq!(stash.movements, 4);
        assert_eq!(stash.ledger[3].balance, balance(&state.levels[0]));
    }

    #[test]
    fn summed_contributions_are_entered_at_the_stash() {
        let mut state = pool();
        let ledger = Ledger::new(true, None).unwrap();
        let mut l = PoolLedger::new(ledger, &state, false, Timestamp(5));
        let cmd = PoolCommand::Contribute {
            machine: MachineId::new("M-1").unwrap(),
            bet: Amount::new(500).unwrap(),
            eligible: true,
        };
        apply(&mut state, &mut l, 1, cmd);
        let stash = l.stash(&state, Timestamp(7));
        assert_eq!(stash.ledger.len(), 1);
        let e = stash.ledger[0];
        assert_eq!(
            (e.kind, e.amount, e.time),
            (Movement::Contribution, 5 * MICRO, Timestamp(7))
        );
        assert!(l.stash(&state, Timestamp(8)).ledger.is_empty());
    }

    #[test]
    fn games_are_entered_per_booked_minute_and_at_the_stash() {
        let mut l = Ledger::new(true, None).unwrap();
        let mut g = GameCount::default();
        let minute = 60_000;
        // Three games in one minute (the last one late within it), then one in the next.
        g.add(&mut l, Timestamp(5 * minute + 10), EventId(1), 700);
        g.add(&mut l, Timestamp(5 * minute + 59_999), EventId(2), 700);
        g.add(&mut l, Timestamp(5 * minute), EventId(3), 650);
        assert!(l.entries.is_empty(), "folded until the minute changes");
        g.add(&mut l, Timestamp(6 * minute), EventId(4), 650);
        g.enter(&mut l, 640);
        g.enter(&mut l, 640);
        let got: Vec<_> = l
            .entries
            .iter()
            .map(|e| (e.n, e.kind, e.amount, e.balance, e.cause, e.causes, e.time))
            .collect();
        assert_eq!(
            got,
            [
                (
                    1,
                    Movement::Games,
                    3,
                    650,
                    EventId(3),
                    3,
                    Timestamp(5 * minute)
                ),
                (
                    2,
                    Movement::Games,
                    1,
                    640,
                    EventId(4),
                    1,
                    Timestamp(6 * minute)
                ),
            ],
            "one entry per minute, the second at the stash, none for nothing counted"
        );
    }
}
