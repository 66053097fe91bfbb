//! Patron cash and anti-money-laundering cases (RULES.md W-11): per player and local day of
//! the jurisdiction, the cash the player paid in and took out across machines and the
//! wallet; a case when a day's total reaches the logging or the reportable threshold, and
//! when several cash-ins just under the reportable threshold come within a window
//! (structuring). Pure: the day comes from the [`super::limits::Calendar`] the shell passes.

use std::collections::BTreeMap;

use super::ids::{EventId, MachineId, PlayerId};
use super::money::Currency;
use super::time::Timestamp;

/// The thresholds (RULES.md W-11), minor units; 0 turns a check off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AmlRules {
    /// A day's cash in (or out) at or above this is logged: a `log` case.
    pub log_minor: i64,
    /// A day's cash in (or out) at or above this is reportable: a `report` case.
    pub report_minor: i64,
    /// A cash-in at or above this and below `report_minor` is near the threshold.
    pub structuring_floor_minor: i64,
    /// This many near-threshold cash-ins within `structuring_window_ms` are a `structuring`
    /// case (0: off).
    pub structuring_count: u32,
    pub structuring_window_ms: i64,
}

impl AmlRules {
    /// Whether a day's total each way reached a threshold (W-11; 0 turns it off): the
    /// highest one reached, `Report` before `Log`.
    pub fn reached(&self, total: i64) -> Option<CaseKind> {
        [
            (CaseKind::Report, self.report_minor),
            (CaseKind::Log, self.log_minor),
        ]
        .into_iter()
        .find(|(_, threshold)| *threshold > 0 && total >= *threshold)
        .map(|(kind, _)| kind)
    }
}

/// Cash moves a case cites at most; the rest are counted in [`AmlCase::left_out`].
pub const MOVES_KEPT: usize = 16;

/// Which way cash went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CashDir {
    /// Paid in (bills at a machine, a deposit).
    In,
    /// Taken out (a handpay, a withdrawal).
    Out,
}

impl CashDir {
    /// The stable name (`in`, `out`).
    pub fn name(self) -> &'static str {
        match self {
            CashDir::In => "in",
            CashDir::Out => "out",
        }
    }
}

/// One cash move of a patron: the evidence a case cites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CashMove {
    /// The input event.
    pub cause: EventId,
    /// Minor units.
    pub amount: i64,
    /// Its time (a machine's: the booked time).
    pub at: Timestamp,
    pub dir: CashDir,
    /// The machine, or `None` for the wallet itself.
    pub machine: Option<MachineId>,
}

/// What kind of case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseKind {
    /// The day's total reached the logging threshold.
    Log,
    /// The day's total reached the reportable threshold.
    Report,
    /// Several cash-ins just under the reportable threshold within the window.
    Structuring,
}

impl CaseKind {
    /// The stable name (`log`, `report`, `structuring`).
    pub fn name(self) -> &'static str {
        match self {
            CaseKind::Log => "log",
            CaseKind::Report => "report",
            CaseKind::Structuring => "structuring",
        }
    }
}

/// A case for the compliance officers (RULES.md W-11).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmlCase {
    pub player: PlayerId,
    /// The wallet's currency (the network's).
    pub currency: Currency,
    pub kind: CaseKind,
    pub dir: CashDir,
    /// The start of the local day counted.
    pub day: Timestamp,
    /// The day's total that way when the case opened (structuring: the near-threshold
    /// cash-ins' sum).
    pub total: i64,
    /// The threshold reached.
    pub threshold: i64,
    /// The moves that make it, oldest first (at most [`MOVES_KEPT`]).
    pub evidence: Vec<CashMove>,
    /// Moves of the day that way beyond those cited.
    pub left_out: u32,
}

/// A patron's cash of the current local day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatronCash {
    /// The start of the local day counted.
    pub day: Timestamp,
    pub cash_in: i64,
    pub cash_out: i64,
    /// Cases opened this day: bit 0 in/log, 1 in/report, 2 out/log, 3 out/report.
    pub opened: u8,
    /// The day's moves, oldest first, at most [`MOVES_KEPT`] each way.
    pub moves: Vec<CashMove>,
    /// Moves of the day beyond those kept, in and out.
    pub left_out: (u32, u32),
    /// Near-threshold cash-ins not yet part of a structuring case, oldest first (any day).
    pub near: Vec<CashMove>,
    /// Per machine, the effect number of the newest cash fact counted from it: a fact
    /// redelivered after a crash is counted once.
    pub seen: BTreeMap<MachineId, u64>,
}

impl PatronCash {
    /// A machine's fact (`seq`: its effect number) not counted yet.
    pub fn fresh(&self, machine: &MachineId, seq: u64) -> bool {
        self.seen.get(machine).is_none_or(|s| seq > *s)
    }

    /// Counts `mv` in `day` (the local day of its time; a day before the one counted counts
    /// in that one) and returns the cases it opens.
    pub fn count(
        &mut self,
        player: &PlayerId,
        currency: Currency,
        mv: CashMove,
        day: Timestamp,
        rules: &AmlRules,
    ) -> Vec<AmlCase> {
        if day > self.day {
            self.day = day;
            self.cash_in = 0;
            self.cash_out = 0;
            self.opened = 0;
            self.moves.clear();
            self.left_out = (0, 0);
        }
        let mut cases = Vec::new();
        let (total, left_out, base) = match mv.dir {
            CashDir::In => (&mut self.cash_in, &mut self.left_out.0, 0),
            CashDir::Out => (&mut self.cash_out, &mut self.left_out.1, 2),
        };
        *total = total.saturating_add(mv.amount);
        let total = *total;
        if self.moves.iter().filter(|m| m.dir == mv.dir).count() < MOVES_KEPT {
            self.moves.push(mv.clone());
        } else {
            *left_out += 1;
        }
        let left_out = *left_out;
        for (bit, kind, threshold) in [
            (base, CaseKind::Log, rules.log_minor),
            (base + 1, CaseKind::Report, rules.report_minor),
        ] {
            if threshold > 0 && total >= threshold && self.opened & (1 << bit) == 0 {
                self.opened |= 1 << bit;
                cases.push(AmlCase {
                    player: player.clone(),
                    currency,
                    kind,
                    dir: mv.dir,
                    day: self.day,
                    total,
                    threshold,
                    evidence: self
                        .moves
                        .iter()
                        .filter(|m| m.dir == mv.dir)
                        .cloned()
                        .collect(),
                    left_out,
                });
            }
        }
        let near = mv.dir == CashDir::In
            && rules.structuring_count > 0
            && mv.amount >= rules.structuring_floor_minor
            && mv.amount < rules.report_minor;
        if near {
            let since = mv.at.0.saturating_sub(rules.structuring_window_ms);
            self.near.retain(|m| m.at.0 > since);
            self.near.push(mv.clone());
            if self.near.len() >= rules.structuring_count as usize {
                let evidence = std::mem::take(&mut self.near);
                cases.push(AmlCase {
                    player: player.clone(),
                    currency,
                    kind: CaseKind::Structuring,
                    dir: CashDir::In,
                    day: self.day,
                    total: evidence.iter().map(|m| m.amount).sum(),
                    threshold: rules.report_minor,
                    evidence,
                    left_out: 0,
                });
            }
        }
        cases
    }

    /// Notes the machine fact `seq` as counted.
    pub fn saw(&mut self, machine: &MachineId, seq: u64) {
        self.seen.insert(machine.clone(), seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(n: u128, amount: i64, at: i64, dir: CashDir) -> CashMove {
        CashMove {
            cause: EventId(n),
            amount,
            at: Timestamp(at),
            dir,
            machine: None,
        }
    }

    fn eur() -> Currency {
        Currency::new("EUR").unwrap()
    }

    const RULES: AmlRules = AmlRules {
        log_minor: 300_000,
        report_minor: 1_000_000,
        structuring_floor_minor: 900_000,
        structuring_count: 2,
        structuring_window_ms: 86_400_000,
    };

    #[test]
    fn a_day_opens_each_case_once_each_way_and_a_new_day_starts_over() {
        let p = PlayerId::new("P-1").unwrap();
        let mut c = PatronCash::default();
        let day = Timestamp(0);
        assert!(c
            .count(&p, eur(), mv(1, 200_000, 10, CashDir::In), day, &RULES)
            .is_empty());
        let cases = c.count(&p, eur(), mv(2, 100_000, 20, CashDir::In), day, &RULES);
        assert_eq!(cases.len(), 1);
        assert_eq!(
            (cases[0].kind, cases[0].total, cases[0].evidence.len()),
            (CaseKind::Log, 300_000, 2)
        );
        // Out counts apart.
        assert!(c
            .count(&p, eur(), mv(3, 299_999, 30, CashDir::Out), day, &RULES)
            .is_empty());
        // Past the reportable threshold: the report case, the log one not again.
        let cases = c.count(&p, eur(), mv(4, 800_000, 40, CashDir::In), day, &RULES);
        assert_eq!(
            cases.iter().map(|c| c.kind).collect::<Vec<_>>(),
            [CaseKind::Report]
        );
        // A late move counts in the day counted; a new day starts over.
        assert!(
            c.count(&p, eur(), mv(5, 1, 50, CashDir::Out), Timestamp(-1), &RULES)
                .len()
                == 1
        );
        assert!(c
            .count(
                &p,
                eur(),
                mv(6, 200_000, 60, CashDir::In),
                Timestamp(86_400_000),
                &RULES
            )
            .is_empty());
        assert_eq!((c.cash_in, c.cash_out, c.opened), (200_000, 0, 0));
    }

    #[test]
    fn a_cash_in_exactly_the_window_old_no_longer_counts_for_structuring() {
        let p = PlayerId::new("P-1").unwrap();
        let mut c = PatronCash::default();
        let w = RULES.structuring_window_ms;
        let first = c.count(
            &p,
            eur(),
            mv(1, 950_000, 0, CashDir::In),
            Timestamp(0),
            &RULES,
        );
        assert!(first.iter().all(|c| c.kind != CaseKind::Structuring));
        let cases = c.count(
            &p,
            eur(),
            mv(2, 950_000, w, CashDir::In),
            Timestamp(w),
            &RULES,
        );
        assert!(
            cases.iter().all(|c| c.kind != CaseKind::Structuring),
            "{cases:?}"
        );
        let cases = c.count(
            &p,
            eur(),
            mv(3, 950_000, w + 1, CashDir::In),
            Timestamp(w),
            &RULES,
        );
        assert!(
            cases.iter().any(|c| c.kind == CaseKind::Structuring),
            "{cases:?}"
        );
    }

    #[test]
    fn cash_ins_just_under_the_threshold_within_the_window_are_structuring() {
        let p = PlayerId::new("P-1").unwrap();
        let mut c = PatronCash::default();
        let rules = AmlRules {
            log_minor: 0,
            report_minor: 1_000_000,
            ..RULES
        };
        assert!(c
            .count(
                &p,
                eur(),
                mv(1, 950_000, 0, CashDir::In),
                Timestamp(0),
                &rules
            )
            .is_empty());
        // Out of the window: the first no longer counts.
        let late = 86_400_001;
        assert!(c
            .count(
                &p,
                eur(),
                mv(2, 950_000, late, CashDir::In),
                Timestamp(86_400_000),
                &rules
            )
            .is_empty());
        let cases = c.count(
            &p,
            eur(),
            mv(3, 900_000, late + 5, CashDir::In),
            Timestamp(86_400_000),
            &rules,
        );
        // The day's total passed the threshold too: both cases.
        let kinds: Vec<_> = cases.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [CaseKind::Report, CaseKind::Structuring]);
        let s = &cases[1];
        assert_eq!((s.total, s.threshold), (1_850_000, 1_000_000));
        let causes: Vec<_> = s.evidence.iter().map(|m| m.cause).collect();
        assert_eq!(causes, [EventId(2), EventId(3)]);
        assert!(c.near.is_empty());
    }
}
