//! The desk model's state (RULES.md D): a cash desk as the model keeps it, apart from the
//! rules that move it (`desk.rs`), so that the model's state can hold desks without the two
//! files importing each other.

use std::collections::VecDeque;

use super::types::{DeskView, ShiftRow, ShiftView, UnshiftedOp};
use super::validate::DeskOpModel;

/// A command answered, as the desk remembers it (D-6).
#[derive(Clone, Debug)]
pub(super) struct DeskAnswered {
    pub(super) tx: String,
    /// The content: the operation (amount, cashier) and the currency.
    pub(super) op: DeskOpModel,
    pub(super) currency: String,
    /// The first answer, as published (D-7).
    pub(super) row: ShiftRow,
}

/// One desk: its shifts, the cash no shift covered, what it booked and answered.
#[derive(Clone, Debug, Default)]
pub(super) struct Desk {
    /// The hall of its latest command (D: the commands' `source.hall`), for revisions; for a
    /// desk no command reached, the hall of the first wallet cash it booked (D-10 forwards
    /// `source.hall`, "the desk's hall").
    pub(super) hall: Option<String>,
    /// Shifts opened so far.
    pub(super) next: u32,
    pub(super) open: Option<ShiftView>,
    /// D-5: the newest closed shifts, oldest first.
    pub(super) closed: VecDeque<ShiftView>,
    pub(super) unshifted_in: i64,
    pub(super) unshifted_out: i64,
    /// D-3: the newest unshifted operations, oldest first, but those a shift took: a shift
    /// that opens at or before one's time takes it.
    pub(super) unshifted_ops: VecDeque<UnshiftedOp>,
    /// D-3: the event ids of the newest operations booked, oldest first.
    pub(super) booked: VecDeque<String>,
    /// D-6: the newest answers, oldest first.
    pub(super) answers: VecDeque<DeskAnswered>,
    /// D-9: every cash operation booked, to a shift or not: in (tickets sold, D-10:
    /// deposits) and out (tickets paid, D-10: withdrawals).
    pub(super) cash_in: i64,
    pub(super) cash_out: i64,
    /// D-10: of those, the wallets' deposits and withdrawals at the desk.
    pub(super) wallet_in: i64,
    pub(super) wallet_out: i64,
}

impl Desk {
    /// D-7: the shift an output shows: the open one, else the newest closed one, else (a
    /// desk that never had one) number 0 and zeros.
    pub(super) fn current(&self) -> ShiftView {
        self.open
            .clone()
            .or_else(|| self.closed.back().cloned())
            .unwrap_or_default()
    }

    pub(super) fn view(&self) -> DeskView {
        DeskView {
            next: self.next,
            open: self.open.clone(),
            closed: self.closed.iter().cloned().collect(),
            unshifted_in: self.unshifted_in,
            unshifted_out: self.unshifted_out,
            unshifted_ops: self.unshifted_ops.iter().cloned().collect(),
            cash_in: self.cash_in,
            cash_out: self.cash_out,
            wallet_in: self.wallet_in,
            wallet_out: self.wallet_out,
            booked: self.booked.iter().cloned().collect(),
            answers: self
                .answers
                .iter()
                .map(|a| (a.tx.clone(), a.row.refused))
                .collect(),
        }
    }
}
