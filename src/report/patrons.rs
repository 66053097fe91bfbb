//! The patron-cash report (RULES.md W-11): per patron, the cash in and out counted in one
//! local day of the jurisdiction (`responsible-gaming.time-zone`, the day W-11's thresholds
//! count in), from the wallets' stored ledgers, with the threshold each total reached.
//!
//! A wallet records every cash move it counts (a deposit, a withdrawal, a carded-in player's
//! bill or handpay at a machine) as a `patron_cash_in` / `patron_cash_out` entry at a time in
//! the day it counted in (a late move's, counted in a later day, at that day's start), so a
//! day's rows are the totals W-11 held that day. Cost: one pass over the stored ledger: a
//! back-office report, not a hot path.

use std::collections::BTreeMap;

use pitboss_actors::domain::aml::{AmlRules, CaseKind};
use pitboss_actors::shell::{EntityKey, LedgerEntry, Movement};
use serde::Serialize;

use super::ReportError;
use crate::gaming_day::{parse_date, DayBounds, DayRule};
use crate::store::{AuditSource, LedgerSink};

/// One patron's day. Amounts in minor units.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PatronRow {
    pub player: String,
    pub cash_in_minor: i64,
    pub cash_out_minor: i64,
    /// Cash moves counted each way.
    pub cash_ins: u64,
    pub cash_outs: u64,
    /// The highest threshold the day's total reached each way: `report`, `log` or empty
    /// (RULES.md W-11's `report-threshold-minor` and `log-threshold-minor`; 0 = off).
    pub threshold_in: &'static str,
    pub threshold_out: &'static str,
}

/// The patrons' day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PatronReport {
    /// `YYYY-MM-DD`, local to `time_zone`.
    pub date: String,
    pub time_zone: String,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Every patron with cash counted that day, by player.
    pub patrons: Vec<PatronRow>,
    /// The sum of the rows (`player` is `DAY`; thresholds empty).
    pub day: PatronRow,
}

/// Reads the stored wallets' ledgers and makes `date`'s report (of `player`, or of every
/// patron).
pub async fn read_patrons(
    source: &dyn AuditSource,
    time_zone: &str,
    aml: &AmlRules,
    date: &str,
    player: Option<&str>,
    currency: &str,
) -> Result<PatronReport, ReportError> {
    let d = parse_date(date).map_err(ReportError::BadRequest)?;
    if let Some(p) = player {
        pitboss_actors::domain::PlayerId::new(p)
            .map_err(|e| ReportError::BadRequest(format!("bad player id: {e}")))?;
    }
    // W-11's day: local midnight to midnight (a midnight the clock skips starts the day at
    // the first instant after it, as a gaming day's rollover does).
    let rule = DayRule::new(time_zone, "00:00")
        .map_err(|e| ReportError::BadRequest(format!("responsible-gaming.time-zone: {e}")))?;
    let bounds = rule.bounds(d).map_err(ReportError::BadRequest)?;
    let sink = Patrons {
        bounds,
        player: player.map(str::to_owned),
        rows: BTreeMap::new(),
    };
    let sink = crate::store::scan_into(source, sink)
        .await
        .map_err(|e| ReportError::Store(format!("reading the stored ledger: {e}")))?;
    let mut day = PatronRow {
        player: "DAY".into(),
        ..PatronRow::default()
    };
    let patrons: Vec<PatronRow> = sink
        .rows
        .into_values()
        .map(|mut r| {
            r.threshold_in = reached(r.cash_in_minor, aml);
            r.threshold_out = reached(r.cash_out_minor, aml);
            day.cash_in_minor += r.cash_in_minor;
            day.cash_out_minor += r.cash_out_minor;
            day.cash_ins += r.cash_ins;
            day.cash_outs += r.cash_outs;
            r
        })
        .collect();
    if patrons.is_empty() {
        return Err(ReportError::NoData(match player {
            Some(p) => format!("no cash of patron {p} is counted on {date} ({time_zone})"),
            None => format!("no patron's cash is counted on {date} ({time_zone})"),
        }));
    }
    Ok(PatronReport {
        date: date.to_owned(),
        time_zone: time_zone.to_owned(),
        currency: currency.to_owned(),
        patrons,
        day,
    })
}

/// The highest threshold `total` reached (W-11): its case kind's name, or empty.
fn reached(total: i64, aml: &AmlRules) -> &'static str {
    aml.reached(total).map_or("", CaseKind::name)
}

/// The ledger scan's sink: the day's bounds, the patron asked for, the rows so far.
struct Patrons {
    bounds: DayBounds,
    player: Option<String>,
    rows: BTreeMap<String, PatronRow>,
}

impl LedgerSink for Patrons {
    fn add(&mut self, key: &EntityKey, e: &LedgerEntry) {
        let EntityKey::Wallet(id) = key else {
            return;
        };
        let inward = match e.kind {
            Movement::PatronCashIn => true,
            Movement::PatronCashOut => false,
            _ => return,
        };
        if !(self.bounds.start_ms..self.bounds.end_ms).contains(&e.time.0)
            || self.player.as_deref().is_some_and(|p| p != id.as_str())
        {
            return;
        }
        let r = match self.rows.get_mut(id.as_str()) {
            Some(r) => r,
            None => self
                .rows
                .entry(id.to_string())
                .or_insert_with(|| PatronRow {
                    player: id.to_string(),
                    ..PatronRow::default()
                }),
        };
        if inward {
            r.cash_in_minor += e.amount;
            r.cash_ins += 1;
        } else {
            r.cash_out_minor += e.amount;
            r.cash_outs += 1;
        }
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}

/// The report as CSV: a header, one line per patron, then the day's total.
pub fn csv(r: &PatronReport) -> String {
    let mut out = String::from(
        "date,time_zone,player,currency,cash_in_minor,cash_out_minor,cash_ins,cash_outs,threshold_in,threshold_out\n",
    );
    for p in r.patrons.iter().chain(std::iter::once(&r.day)) {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            r.date,
            r.time_zone,
            p.player,
            r.currency,
            p.cash_in_minor,
            p.cash_out_minor,
            p.cash_ins,
            p.cash_outs,
            p.threshold_in,
            p.threshold_out
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_total_reaches_the_highest_threshold_at_or_below_it() {
        let aml = AmlRules {
            log_minor: 300_000,
            report_minor: 1_000_000,
            ..AmlRules::default()
        };
        assert_eq!(reached(299_999, &aml), "");
        assert_eq!(reached(300_000, &aml), "log");
        assert_eq!(reached(999_999, &aml), "log");
        assert_eq!(reached(1_000_000, &aml), "report");
        let off = AmlRules {
            log_minor: 0,
            report_minor: 0,
            ..AmlRules::default()
        };
        assert_eq!(reached(i64::MAX, &off), "");
    }
}
