//! Responsible-gaming limits of a wallet (RULES.md W-9): deposit limits per day, week and
//! month in the jurisdiction's local time, self-exclusion until a time, and the cooling-off
//! that delays every change that protects the player less.
//!
//! The periods come from a [`Calendar`] the shell passes in (the jurisdiction's time zone is
//! configuration); the core only compares the period starts it is given.

use super::time::Timestamp;

/// A deposit limit's period, in the jurisdiction's local time: a day from midnight, a week
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
    /// Raised or removed deposit limits waiting out the cooling-off: (period, the new limit,
    /// when it takes effect), at most one per period.
    pub pending: Vec<(DepositPeriod, Option<i64>, Timestamp)>,
    /// Self-excluded until this time (exclusive).
    pub excluded_until: Option<Timestamp>,
}

/// What a wallet has deposited in its current day, week and month: (period start, sum).
/// Kept for every wallet, so that a limit set mid-period counts the period's deposits.
pub type Deposited = [(Timestamp, i64); 3];

/// Why a limit refuses a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitRefusal {
    /// The player is self-excluded until this time.
    SelfExcluded(Timestamp),
    /// A deposit would take the period's deposits above its limit: (period, limit, already
    /// deposited in the period).
    Deposit(DepositPeriod, i64, i64),
}

impl Limits {
    /// Takes in the pending changes whose cooling-off ended at or before `t`.
    pub fn settle(&mut self, t: Timestamp) {
        let deposit = &mut self.deposit;
        self.pending.retain(|(period, limit, at)| {
            if *at <= t {
                deposit[period.index()] = *limit;
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

    /// Sets a deposit limit (`None`: removes it): at once if it is lower than the limit in
    /// force (or the first), else after `cooling_off_ms` from `t`. Returns when it takes
    /// effect.
    pub fn set_deposit(
        &mut self,
        period: DepositPeriod,
        limit: Option<i64>,
        t: Timestamp,
        cooling_off_ms: i64,
    ) -> Timestamp {
        self.pending.retain(|(p, _, _)| *p != period);
        let lower = match (limit, self.deposit[period.index()]) {
            (Some(new), Some(old)) => new <= old,
            (Some(_), None) => true,
            (None, None) => true,
            (None, Some(_)) => false,
        };
        if lower {
            self.deposit[period.index()] = limit;
            t
        } else {
            let at = Timestamp(t.0.saturating_add(cooling_off_ms.max(0)));
            self.pending.push((period, limit, at));
            at
        }
    }
}

/// The period sums a deposit at `periods` would add to: a period that started after the
/// kept one starts from 0; an earlier one (a late command) counts in the kept one.
pub fn current(deposited: &Deposited, periods: Periods) -> Deposited {
    let mut out = *deposited;
    for (i, start) in periods.0.iter().enumerate() {
        if *start > out[i].0 {
            out[i] = (*start, 0);
        }
    }
    out
}

/// The limit a deposit of `amount` would break, if any.
pub fn deposit_refusal(limits: &Limits, now: &Deposited, amount: i64) -> Option<LimitRefusal> {
    DepositPeriod::ALL.into_iter().find_map(|p| {
        let limit = limits.deposit[p.index()]?;
        let used = now[p.index()].1;
        (used.saturating_add(amount) > limit).then_some(LimitRefusal::Deposit(p, limit, used))
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
        assert_eq!(l.set_deposit(DepositPeriod::Day, Some(500), t, 60), t);
        assert_eq!(l.deposit[0], Some(500));
        assert_eq!(l.set_deposit(DepositPeriod::Day, Some(400), t, 60), t);
        assert_eq!(
            l.set_deposit(DepositPeriod::Day, Some(900), t, 60),
            Timestamp(1_060)
        );
        assert_eq!(l.deposit[0], Some(400));
        l.settle(Timestamp(1_059));
        assert_eq!(l.deposit[0], Some(400));
        l.settle(Timestamp(1_060));
        assert_eq!((l.deposit[0], l.pending.len()), (Some(900), 0));
        // Removing is raising to no limit.
        l.set_deposit(DepositPeriod::Day, None, Timestamp(2_000), 60);
        assert_eq!(l.deposit[0], Some(900));
        // A lower limit meanwhile replaces the pending removal.
        l.set_deposit(DepositPeriod::Day, Some(100), Timestamp(2_010), 60);
        l.settle(Timestamp(9_999));
        assert_eq!(l.deposit[0], Some(100));
    }
}
