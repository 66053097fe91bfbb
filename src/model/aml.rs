//! W-11, patron cash: per player and local day of the jurisdiction, the cash paid in and
//! taken out; a case at each threshold once per day and way; a structuring case when enough
//! cash-ins just under the reportable threshold come within the window.

use super::entities::CashDay;
use super::state::Model;
use super::types::{CaseRow, MoveRow};
use super::wallet::local_day;

/// Moves a case cites at most, each way.
const CITED: usize = 16;

impl Model {
    /// A cash move of `player` (`dir`: `in` or `out`), at `time` (a machine's: booked).
    pub(super) fn patron_cash(&mut self, player: &str, mv: MoveRow) {
        let rules = self.cfg.aml;
        let zone = self.cfg.limits_time_zone.clone();
        let day = local_day(&zone, mv.time);
        let currency = self.cfg.currency.clone();
        let w = self.wallets.entry(player.to_owned()).or_default();
        let c = w.cash.get_or_insert_with(CashDay::default);
        // A later day starts over; an earlier one (a late move) counts in the latest.
        if day > c.day {
            *c = CashDay {
                day,
                near: std::mem::take(&mut c.near),
                ..CashDay::default()
            };
        }
        c.moves.push(mv.clone());
        let that_way: Vec<MoveRow> = c
            .moves
            .iter()
            .filter(|m| m.dir == mv.dir)
            .cloned()
            .collect();
        let total: i64 = that_way.iter().map(|m| m.amount).sum();
        let left_out = that_way.len().saturating_sub(CITED) as u32;
        let mut cases = Vec::new();
        for (kind, threshold) in [("log", rules.log_minor), ("report", rules.report_minor)] {
            if threshold > 0 && total >= threshold && c.opened.insert((mv.dir, kind)) {
                cases.push(CaseRow {
                    player: player.to_owned(),
                    kind,
                    dir: mv.dir,
                    day: c.day,
                    total,
                    threshold,
                    evidence: that_way.iter().take(CITED).cloned().collect(),
                    left_out,
                    currency: currency.clone(),
                });
            }
        }
        // Structuring: cash-ins from the floor up to (not including) the reportable
        // threshold; those older than the window no longer count.
        if mv.dir == "in"
            && rules.structuring_count > 0
            && mv.amount >= rules.structuring_floor_minor
            && mv.amount < rules.report_minor
        {
            c.near
                .retain(|m| m.time > mv.time - rules.structuring_window_ms);
            c.near.push(mv.clone());
            if c.near.len() >= rules.structuring_count as usize {
                let evidence = std::mem::take(&mut c.near);
                cases.push(CaseRow {
                    player: player.to_owned(),
                    kind: "structuring",
                    dir: "in",
                    day: c.day,
                    total: evidence.iter().map(|m| m.amount).sum(),
                    threshold: rules.report_minor,
                    evidence,
                    left_out: 0,
                    currency,
                });
            }
        }
        self.cases.extend(cases);
    }
}
