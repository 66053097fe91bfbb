//! The gaming-day report's machine rows (issue 13, RULES.md H-4): per machine, what its
//! hall's gaming day moved on its meters, summed from the machine's stored money ledger.
//!
//! A machine books each ledger movement at the booked time its hall's GGR window counts it
//! at (RULES.md E-3, H-1): a bet or a win at its event's, a jackpot handpay at its lock-up's,
//! a jackpot award at the time of the event that hit. So a hall's machines' coin in, wins
//! and jackpots of a day are exactly what the hall's windows of that day hold for them, and
//! the test `store::gaming_day` holds the two to it. The ledger also says what the windows
//! do not: drop (bills and tickets in), tickets out, cashless in and out, and cancelled
//! credits paid by hand.
//!
//! Cost: one pass over the stored ledger and the stored states (a machine's hall is its
//! state's), whatever the date: the report is for the operator's back office, not the hot
//! path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use pitboss_actors::domain::machine::theoretical_win;
use pitboss_actors::domain::{HallId, MachineId};
use pitboss_actors::shell::{
    EntityKey, HoldOverrides, LedgerEntry, Movement, RuntimeConfig, Snapshot,
};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::error::ReportError;
use crate::gaming_day::{DayBounds, GamingDays};
use crate::store::{AuditSource, LedgerSink};

/// The theoretical holds the machine rows apply (RULES.md M-12): a machine's own, else its
/// hall's, else the network's.
#[derive(Clone, Debug, Default)]
pub struct Holds {
    /// The network's, parts per million of coin in.
    pub network_ppm: i64,
    pub overrides: Arc<HoldOverrides>,
}

impl Holds {
    /// The holds a runtime configuration rates sessions with.
    pub fn of_config(rc: &RuntimeConfig) -> Self {
        Self {
            network_ppm: rc.theoretical_hold_ppm,
            overrides: rc.hold_overrides.clone(),
        }
    }

    /// The hold of `machine` standing in `hall`, parts per million.
    pub fn of(&self, machine: &MachineId, hall: &HallId) -> i64 {
        self.overrides.of(machine, hall, self.network_ppm)
    }
}

/// One machine's gaming day. Amounts in minor units.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MachineDayRow {
    pub machine: String,
    /// The machine's hall (where its state says it stands).
    pub hall: String,
    /// Wagered: handle.
    pub coin_in_minor: i64,
    /// Won to the machine's credits.
    pub coin_out_minor: i64,
    /// Game wins paid by hand (jackpot handpays, RULES.md M-10).
    pub handpaid_wins_minor: i64,
    /// Jackpot awards of linked pools paid on the machine (RULES.md P-4).
    pub jackpots_minor: i64,
    /// Restricted promotional credits played: part of coin in, not revenue (RULES.md M-13).
    pub promo_played_minor: i64,
    /// Coin in - coin out - handpaid wins (the hall's GGR counts the same).
    pub ggr_minor: i64,
    /// GGR - jackpots - promotional credits played.
    pub net_win_minor: i64,
    /// Banknotes in.
    pub bills_in_minor: i64,
    /// Tickets redeemed at the machine.
    pub tickets_in_minor: i64,
    /// Bills in + tickets in.
    pub drop_minor: i64,
    /// Tickets printed.
    pub tickets_out_minor: i64,
    /// Cashless transfers in (wallet to machine).
    pub cashless_in_minor: i64,
    /// Cashless transfers out (machine to wallet).
    pub cashless_out_minor: i64,
    /// Cancelled credits paid by hand (a cash-out, not a win).
    pub handpays_minor: i64,
    /// Restricted promotional credits put on the machine (RULES.md M-13).
    pub restricted_in_minor: i64,
    /// Non-restricted promotional credits put on the machine (M-13).
    pub nonrestricted_in_minor: i64,
    /// The theoretical hold applied, percent: the machine's own, its hall's or the network's
    /// (`runtime.theoretical-hold-percent`, `-machines`, `-halls`).
    pub theoretical_hold_percent: String,
    /// Coin in x the theoretical hold, rounded down (as a rated session's, RULES.md M-12).
    pub theoretical_win_minor: i64,
    /// Net win / coin in, percent to two places (half away from zero); empty without coin in.
    pub hold_percent: String,
    /// Games ended (counted in the minute their hall's window counts them).
    pub games: i64,
    /// Ledger movements counted.
    pub movements: u64,
}

/// The machine rows of `date` (`YYYY-MM-DD`), of one hall or of every hall, by hall then
/// machine; each row's theoretical win at the machine's hold in its (current) hall.
pub async fn read_machine_rows(
    source: &dyn AuditSource,
    days: &GamingDays,
    date: &str,
    hall: Option<&str>,
    holds: &Holds,
) -> Result<Vec<MachineDayRow>, ReportError> {
    let d = crate::gaming_day::parse_date(date).map_err(ReportError::BadRequest)?;
    let states = source
        .entities()
        .await
        .map_err(|e| ReportError::Store(format!("reading the stored machines: {e}")))?;
    let mut sink = Days {
        of: HashMap::new(),
        rows: BTreeMap::new(),
    };
    for s in states {
        let Snapshot::Machine(m) = s.snapshot else {
            continue;
        };
        let h = m.profile.hall.as_str();
        if hall.is_some_and(|want| want != h) {
            continue;
        }
        let bounds = days.rule(h).bounds(d).map_err(ReportError::BadRequest)?;
        let of = Of {
            key: (h.to_string(), m.id.to_string()),
            bounds,
            hold_ppm: holds.of(&m.id, &m.profile.hall),
        };
        sink.of.insert(m.id.to_string(), of);
    }
    let sink = crate::store::scan_into(source, sink)
        .await
        .map_err(|e| ReportError::Store(format!("reading the stored ledger: {e}")))?;
    let Days { of, rows } = sink;
    Ok(rows
        .into_iter()
        .map(|((hall, machine), mut r)| {
            // A row is made only for a machine of `of`.
            let hold_ppm = of.get(&machine).map_or(holds.network_ppm, |o| o.hold_ppm);
            r.machine = machine;
            r.hall = hall;
            r.drop_minor = r.bills_in_minor + r.tickets_in_minor;
            r.ggr_minor = r.coin_in_minor - r.coin_out_minor - r.handpaid_wins_minor;
            r.net_win_minor = r.ggr_minor - r.jackpots_minor - r.promo_played_minor;
            r.theoretical_hold_percent = percent(Decimal::new(hold_ppm, 4));
            r.theoretical_win_minor = theoretical_win(r.coin_in_minor, hold_ppm);
            r.hold_percent = if r.coin_in_minor == 0 {
                String::new()
            } else {
                percent(
                    Decimal::from(r.net_win_minor) * Decimal::from(100)
                        / Decimal::from(r.coin_in_minor),
                )
            };
            r
        })
        .collect())
}

/// Two places, half away from zero, always with both digits ("8.00").
fn percent(p: Decimal) -> String {
    let mut p = p.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    p.rescale(2);
    p.to_string()
}

/// The ledger scan's sink: per machine of the report, what its row needs; the rows so far.
struct Days {
    of: HashMap<String, Of>,
    rows: BTreeMap<(String, String), MachineDayRow>,
}

/// A machine of the report: its row's (hall, machine) key, its hall's day and its
/// theoretical hold.
struct Of {
    key: (String, String),
    bounds: DayBounds,
    hold_ppm: i64,
}

impl LedgerSink for Days {
    fn add(&mut self, key: &EntityKey, e: &LedgerEntry) {
        let EntityKey::Machine(id) = key else {
            return;
        };
        let Some(Of {
            key: k, bounds: b, ..
        }) = self.of.get(id.as_str())
        else {
            return;
        };
        if e.time.0 < b.start_ms || e.time.0 >= b.end_ms {
            return;
        }
        // The meter a movement counts on. Credits down are negative in the ledger (-1); the
        // meters count up.
        type Meter = fn(&mut MachineDayRow) -> &mut i64;
        let (meter, sign): (Meter, i64) = match e.kind {
            Movement::Bet => (|r| &mut r.coin_in_minor, -1),
            Movement::Win => (|r| &mut r.coin_out_minor, 1),
            Movement::HandpaidWin => (|r| &mut r.handpaid_wins_minor, 1),
            Movement::JackpotPaid => (|r| &mut r.jackpots_minor, 1),
            Movement::BillIn => (|r| &mut r.bills_in_minor, 1),
            Movement::TicketIn => (|r| &mut r.tickets_in_minor, 1),
            Movement::CashlessIn => (|r| &mut r.cashless_in_minor, 1),
            Movement::TicketOut => (|r| &mut r.tickets_out_minor, -1),
            Movement::CashlessOut => (|r| &mut r.cashless_out_minor, -1),
            Movement::Handpay => (|r| &mut r.handpays_minor, -1),
            Movement::RestrictedIn => (|r| &mut r.restricted_in_minor, 1),
            Movement::NonRestrictedIn => (|r| &mut r.nonrestricted_in_minor, 1),
            Movement::PromoPlayed => (|r| &mut r.promo_played_minor, 1),
            Movement::Games => (|r| &mut r.games, 1),
            // Wallet, pool and voucher movements: not a machine's.
            _ => return,
        };
        let r = match self.rows.get_mut(k) {
            Some(r) => r,
            None => self.rows.entry(k.clone()).or_default(),
        };
        r.movements += 1;
        *meter(r) += sign * e.amount;
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}

/// Machine rows as CSV: a header, then one line per machine.
pub fn csv(date: &str, currency: &str, rows: &[MachineDayRow]) -> String {
    let mut out = String::from(
        "date,hall,machine,currency,coin_in_minor,coin_out_minor,handpaid_wins_minor,\
         jackpots_minor,promo_played_minor,ggr_minor,net_win_minor,bills_in_minor,\
         tickets_in_minor,drop_minor,tickets_out_minor,cashless_in_minor,cashless_out_minor,\
         handpays_minor,restricted_in_minor,nonrestricted_in_minor,theoretical_hold_percent,theoretical_win_minor,hold_percent,games,movements\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            date,
            r.hall,
            r.machine,
            currency,
            r.coin_in_minor,
            r.coin_out_minor,
            r.handpaid_wins_minor,
            r.jackpots_minor,
            r.promo_played_minor,
            r.ggr_minor,
            r.net_win_minor,
            r.bills_in_minor,
            r.tickets_in_minor,
            r.drop_minor,
            r.tickets_out_minor,
            r.cashless_in_minor,
            r.cashless_out_minor,
            r.handpays_minor,
            r.restricted_in_minor,
            r.nonrestricted_in_minor,
            r.theoretical_hold_percent,
            r.theoretical_win_minor,
            r.hold_percent,
            r.games,
            r.movements
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_have_two_places_rounded_half_away_from_zero() {
        assert_eq!(percent(Decimal::new(80_000, 4)), "8.00");
        assert_eq!(percent(Decimal::new(12_345, 4)), "1.23");
        assert_eq!(percent(Decimal::new(12_355, 4)), "1.24");
        assert_eq!(percent(Decimal::new(-12_355, 4)), "-1.24");
        assert_eq!(percent(Decimal::from(100)), "100.00");
    }
}
