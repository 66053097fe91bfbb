//! Responsible-gaming limits of a wallet (RULES.md W-9): deposit and loss limits per day,
//! week and month in the jurisdiction's local time, self-exclusion until a time, and the
//! cooling-off that delays every change that protects the player less.
//!
//! The periods come from a [`Calendar`] the shell passes in (the jurisdiction's time zone is
//! configuration); the core only compares the period starts it is given.

use super::time::Timestamp;

/// What a limit caps: the deposits of a period, or its net loss (bets less wins and refunds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LimitKind {
    Deposit,
    Loss,
}

impl LimitKind {
    /// Both kinds, in index order.
    pub const ALL: [LimitKind; 2] = [LimitKind::Deposit, LimitKind::Loss];

    /// The stable text (the store's pending changes).
    pub fn name(self) -> &'static str {
        match self {
            LimitKind::Deposit => "deposit",
            LimitKind::Loss => "loss",
        }
    }

    /// The kind whose [`Self::name`] is `text`.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == text)
    }
}

/// A limit's period, in the jurisdiction's local time: a day from midnight, a week
/// from Monday's midnight, a month from the first's midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DepositPeriod {
    Day,
    Week,
    Month,
}

impl DepositPeriod {
    /// Every period, in index order.
    pub const ALL: [DepositPeriod; 3] = [
        DepositPeriod::Day,
        DepositPeriod::Week,
        DepositPeriod::Month,
    ];

    /// The stable text (wire, outputs, the store).
    pub fn name(self) -> &'static str {
        match self {
            DepositPeriod::Day => "day",
            DepositPeriod::Week => "week",
            DepositPeriod::Month => "month",
        }
    }

    /// The period whose [`Self::name`] is `text`.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == text)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The starts of the day, week and month an instant falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Periods(pub [Timestamp; 3]);

/// Where periods start in the jurisdiction's local time.
pub trait Calendar: Send + Sync + std::fmt::Debug {
    /// The starts of the day, week and month `t` falls in.
    fn periods(&self, t: Timestamp) -> Periods;
}

/// Periods in UTC: what the core uses when no time zone is configured, and in tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct UtcCalendar;

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Calendar for UtcCalendar {
    fn periods(&self, t: Timestamp) -> Periods {
        const DAY_MS: i64 = 86_400_000;
        let days = t.0.div_euclid(DAY_MS);
        // 1970-01-01 was a Thursday: Monday is 3 days before.
        let monday = days - (days + 3).rem_euclid(7);
        let (y, m, _) = civil_from_days(days);
        let first = days_from_civil(y, m, 1);
        Periods([
            Timestamp(days * DAY_MS),
            Timestamp(monday * DAY_MS),
            Timestamp(first * DAY_MS),
        ])
    }
}

/// A wallet's responsible-gaming limits and what counts against them. Boxed in the wallet:
/// most players set none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// The deposit limit in force per period (day, week, month), in minor units.
    pub deposit: [Option<i64>; 3],
    /// The loss limit in force per period (day, week, month), in minor units.
    pub loss: [Option<i64>; 3],
    /// Raised or removed limits waiting out the cooling-off: (kind, period, the new limit,
    /// when it takes effect), at most one per kind and period; the deposit limits' first
    /// (the order the store keeps them in).
    pub pending: Vec<(LimitKind, DepositPeriod, Option<i64>, Timestamp)>,
    /// Self-excluded until this time (exclusive).
    pub excluded_until: Option<Timestamp>,
    /// The longest a playing session may last, in milliseconds (whole minutes).
    pub session: Option<i64>,
    /// A raised or removed session limit waiting out the cooling-off: (the new limit, when
    /// it takes effect).
    pub session_pending: Option<(Option<i64>, Timestamp)>,
}

/// A playing session (RULES.md W-9): the first and the latest applied bet or win of a run in
/// which none follows the one before by more than the configured break.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Session {
    /// The first bet or win of the session.
    pub start: Timestamp,
    /// The latest (by time) bet or win of the session.
    pub last: Timestamp,
}

impl Session {
    /// The session a bet or win at `t` plays in: `current` continued when `t` is at most
    /// `break_ms` after its latest, else a new one from `t`.
    pub fn at(current: Option<Session>, t: Timestamp, break_ms: i64) -> Session {
        match current {
            Some(s) if t.0 <= s.last.0.saturating_add(break_ms) => Session {
                start: s.start,
                last: s.last.max(t),
            },
            _ => Session { start: t, last: t },
        }
    }
}

/// A sum per current day, week and month: (period start, sum). Kept for every wallet, so
/// that a limit set mid-period counts what the period held before it.
pub type PeriodSums = [(Timestamp, i64); 3];

/// What a wallet has deposited in its current day, week and month.
pub type Deposited = PeriodSums;

/// What a wallet has lost in its current day, week and month: bets less wins and refunds
/// (negative when the player is ahead).
pub type Lost = PeriodSums;

/// Why a limit refuses a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitRefusal {
    /// The player is self-excluded until this time.
    SelfExcluded(Timestamp),
    /// A deposit would take the period's deposits above its limit: (period, limit, already
    /// deposited in the period).
    Deposit(DepositPeriod, i64, i64),
    /// A bet would take the period's net loss above its limit: (period, limit, already lost
    /// in the period).
    Loss(DepositPeriod, i64, i64),
    /// A bet in a session that has lasted its limit: (limit in ms, the session's start).
    Session(i64, Timestamp),
}

impl Limits {
    /// Takes in the pending changes whose cooling-off ended at or before `t`.
    pub fn settle(&mut self, t: Timestamp) {
        if let Some((limit, at)) = self.session_pending {
            if at <= t {
                self.session = limit;
                self.session_pending = None;
            }
        }
        let (deposit, loss) = (&mut self.deposit, &mut self.loss);
        self.pending.retain(|(kind, period, limit, at)| {
            if *at <= t {
                let in_force = match kind {
                    LimitKind::Deposit => &mut *deposit,
                    LimitKind::Loss => &mut *loss,
                };
                in_force[period.index()] = *limit;
                false
            } else {
                true
            }
        });
    }

    /// Self-excluded at `t`.
    pub fn excluded_at(&self, t: Timestamp) -> Option<Timestamp> {
        self.excluded_until.filter(|until| t < *until)
    }

    /// Sets the session limit (`None`: removes it), in milliseconds: at once if it is lower
    /// than the limit in force (or the first), else after `cooling_off_ms` from `t`. Returns
    /// when it takes effect.
    pub fn set_session(
        &mut self,
        limit: Option<i64>,
        t: Timestamp,
        cooling_off_ms: i64,
    ) -> Timestamp {
        self.session_pending = None;
        let lower = match (limit, self.session) {
            (Some(new), Some(old)) => new <= old,
            (_, None) => true,
            (None, Some(_)) => false,
        };
        if lower {
            self.session = limit;
            t
        } else {
            let at = Timestamp(t.0.saturating_add(cooling_off_ms.max(0)));
            self.session_pending = Some((limit, at));
            at
        }
    }

    /// The refusal of a bet at `t` in `session` (the session it would play in), if the
    /// session has lasted the limit.
    pub fn session_refusal(&self, session: Session, t: Timestamp) -> Option<LimitRefusal> {
        let limit = self.session?;
        (t.0.saturating_sub(session.start.0) >= limit)
            .then_some(LimitRefusal::Session(limit, session.start))
    }

    /// The limits of a kind in force, per period.
    pub fn in_force(&self, kind: LimitKind) -> &[Option<i64>; 3] {
        match kind {
            LimitKind::Deposit => &self.deposit,
            LimitKind::Loss => &self.loss,
        }
    }

    /// Sets a limit (`None`: removes it): at once if it is lower than the limit in force (or
    /// the first), else after `cooling_off_ms` from `t`. Returns when it takes effect.
    pub fn set(
        &mut self,
        kind: LimitKind,
        period: DepositPeriod,
        limit: Option<i64>,
        t: Timestamp,
        cooling_off_ms: i64,
    ) -> Timestamp {
        self.pending
            .retain(|(k, p, _, _)| (*k, *p) != (kind, period));
        let lower = match (limit, self.in_force(kind)[period.index()]) {
            (Some(new), Some(old)) => new <= old,
            (Some(_), None) => true,
            (None, None) => true,
            (None, Some(_)) => false,
        };
        if lower {
            match kind {
                LimitKind::Deposit => self.deposit[period.index()] = limit,
                LimitKind::Loss => self.loss[period.index()] = limit,
            }
            t
        } else {
            let at = Timestamp(t.0.saturating_add(cooling_off_ms.max(0)));
            let place = self.pending.partition_point(|(k, ..)| *k <= kind);
            self.pending.insert(place, (kind, period, limit, at));
            at
        }
    }
}

/// The period sums a command at `periods` would add to: a period that started after the
/// kept one starts from 0; an earlier one (a late command) counts in the kept one.
pub fn current(sums: &PeriodSums, periods: Periods) -> PeriodSums {
    let mut out = *sums;
    for (i, start) in periods.0.iter().enumerate() {
        if *start > out[i].0 {
            out[i] = (*start, 0);
        }
    }
    out
}

/// Adds `amount` to every period's sum.
pub fn add_to(sums: &mut PeriodSums, amount: i64) {
    for (_, sum) in sums {
        *sum = sum.saturating_add(amount);
    }
}

/// The limit of `kind` that `amount` more in the periods' sums `now` would break, if any: a
/// deposit against the deposit limits, a bet (lost if it loses) against the loss limits.
pub fn refusal(
    limits: &Limits,
    kind: LimitKind,
    now: &PeriodSums,
    amount: i64,
) -> Option<LimitRefusal> {
    DepositPeriod::ALL.into_iter().find_map(|p| {
        let limit = limits.in_force(kind)[p.index()]?;
        let used = now[p.index()].1;
        (used.saturating_add(amount) > limit).then_some(match kind {
            LimitKind::Deposit => LimitRefusal::Deposit(p, limit, used),
            LimitKind::Loss => LimitRefusal::Loss(p, limit, used),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_periods_start_at_midnight_monday_and_the_first() {
        // 2026-03-04T15:00:00Z is a Wednesday.
        let t = Timestamp(1_772_636_400_000);
        let p = UtcCalendar.periods(t);
        assert_eq!(p.0[0], Timestamp(1_772_582_400_000)); // 2026-03-04T00:00Z
        assert_eq!(p.0[1], Timestamp(1_772_409_600_000)); // 2026-03-02T00:00Z, Monday
        assert_eq!(p.0[2], Timestamp(1_772_323_200_000)); // 2026-03-01T00:00Z
                                                          // Before 1970 too: 1969-12-31T23:59:59.999Z.
        let p = UtcCalendar.periods(Timestamp(-1));
        assert_eq!(p.0[0], Timestamp(-86_400_000));
        assert_eq!(p.0[1], Timestamp(-3 * 86_400_000)); // Monday 1969-12-29
        assert_eq!(p.0[2], Timestamp(-31 * 86_400_000)); // 1969-12-01
        for days in [-800_000i64, -1, 0, 59, 60, 365, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn a_lower_limit_is_at_once_a_higher_one_after_the_cooling_off() {
        let mut l = Limits::default();
        let t = Timestamp(1_000);
        let day = DepositPeriod::Day;
        assert_eq!(l.set(LimitKind::Deposit, day, Some(500), t, 60), t);
        assert_eq!(l.deposit[0], Some(500));
        assert_eq!(l.set(LimitKind::Deposit, day, Some(400), t, 60), t);
        assert_eq!(
            l.set(LimitKind::Deposit, day, Some(900), t, 60),
            Timestamp(1_060)
        );
        // A loss limit is another limit: its own first one is at once, and it leaves the
        // deposit limit's pending raise alone.
        assert_eq!(l.set(LimitKind::Loss, day, Some(700), t, 60), t);
        assert_eq!((l.loss[0], l.pending.len()), (Some(700), 1));
        assert_eq!(l.deposit[0], Some(400));
        l.settle(Timestamp(1_059));
        assert_eq!(l.deposit[0], Some(400));
        l.settle(Timestamp(1_060));
        assert_eq!((l.deposit[0], l.pending.len()), (Some(900), 0));
        // Removing is raising to no limit.
        l.set(LimitKind::Deposit, day, None, Timestamp(2_000), 60);
        assert_eq!(l.deposit[0], Some(900));
        // A lower limit meanwhile replaces the pending removal.
        l.set(LimitKind::Deposit, day, Some(100), Timestamp(2_010), 60);
        l.settle(Timestamp(9_999));
        assert_eq!(l.deposit[0], Some(100));
        // A raised loss limit waits like a deposit limit, and settles into the loss limits.
        l.set(LimitKind::Loss, day, Some(800), Timestamp(3_000), 60);
        l.settle(Timestamp(3_059));
        assert_eq!(l.loss[0], Some(700));
        l.settle(Timestamp(3_060));
        assert_eq!((l.loss[0], l.deposit[0]), (Some(800), Some(100)));
    }

    #[test]
    fn a_session_runs_while_no_break_is_longer_than_the_configured_one() {
        let t = |ms| Timestamp(ms);
        let s = Session::at(None, t(1_000), 100);
        assert_eq!(
            s,
            Session {
                start: t(1_000),
                last: t(1_000)
            }
        );
        let s = Session::at(Some(s), t(1_100), 100);
        assert_eq!(
            s,
            Session {
                start: t(1_000),
                last: t(1_100)
            }
        );
        // A late one inside the session keeps its latest.
        let s = Session::at(Some(s), t(1_050), 100);
        assert_eq!(s.last, t(1_100));
        // A break of more than 100 starts a new session.
        let s = Session::at(Some(s), t(1_201), 100);
        assert_eq!(
            s,
            Session {
                start: t(1_201),
                last: t(1_201)
            }
        );
        let mut l = Limits::default();
        assert_eq!(l.session_refusal(s, t(9_999)), None);
        l.set_session(Some(60_000), t(0), 10);
        assert_eq!(l.session_refusal(s, t(61_200)), None);
        assert_eq!(
            l.session_refusal(s, t(61_201)),
            Some(LimitRefusal::Session(60_000, t(1_201)))
        );
        // A longer limit waits; a shorter one is at once and drops the waiting one.
        assert_eq!(l.set_session(Some(120_000), t(5), 10), t(15));
        l.settle(t(14));
        assert_eq!(l.session, Some(60_000));
        l.settle(t(15));
        assert_eq!((l.session, l.session_pending), (Some(120_000), None));
        l.set_session(None, t(20), 10);
        l.set_session(Some(30_000), t(21), 10);
        l.settle(t(1_000));
        assert_eq!((l.session, l.session_pending), (Some(30_000), None));
    }

    #[test]
    fn a_refusal_names_the_first_period_its_kind_breaks() {
        let mut l = Limits::default();
        let t = Timestamp(0);
        l.set(LimitKind::Loss, DepositPeriod::Week, Some(1_000), t, 0);
        let now: PeriodSums = [(t, 100), (t, 900), (t, 900)];
        assert_eq!(refusal(&l, LimitKind::Loss, &now, 100), None);
        assert_eq!(
            refusal(&l, LimitKind::Loss, &now, 101),
            Some(LimitRefusal::Loss(DepositPeriod::Week, 1_000, 900))
        );
        // No deposit limit: deposits are not refused by the loss limit.
        assert_eq!(refusal(&l, LimitKind::Deposit, &now, 10_000), None);
        // A player ahead (a negative loss) may stake more than the limit.
        let ahead: PeriodSums = [(t, -500); 3];
        assert_eq!(refusal(&l, LimitKind::Loss, &ahead, 1_500), None);
        let mut sums = ahead;
        add_to(&mut sums, 1_501);
        assert_eq!(sums[1].1, 1_001);
    }
}
