//! A cash desk's shifts and drawer (RULES.md D): a cashier opens a shift with a counted
//! float, fills and credits move cash between the vault and the drawer, the desk's voucher
//! sales and payments (applied by the vouchers, D-3) are booked to the shift their time
//! falls in, and closing the shift compares the counted cash with the expected.

use std::collections::VecDeque;

use super::error::{DomainError, Subject};
use super::ids::{EventId, HallId, ServerId, TxId};
use super::kinds::Total;
use super::machine::Alert;
use super::money::{add, Amount, Currency};
use super::time::Timestamp;

/// Closed shifts a desk keeps (D-5): about a month at three shifts a day.
pub const SHIFTS_KEPT: usize = 100;
/// Event ids of the cash operations a desk keeps, to book each once (D-3).
pub const BOOKED_KEPT: usize = 256;
/// Unshifted cash operations a desk keeps, for a shift that opens later to take (D-3).
pub const UNSHIFTED_KEPT: usize = 64;
/// Answers a desk remembers (D-6).
pub const ANSWERS_KEPT: usize = 64;
/// The longest cashier id, in bytes (D-1).
pub const CASHIER_MAX: usize = 64;

/// What a desk command asks (D-1, D-2, D-4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeskOp {
    /// Open a shift for the cashier with the counted float.
    Open { cashier: String, float: i64 },
    /// Cash from the vault into the drawer.
    Fill(Amount),
    /// Cash from the drawer to the vault.
    Credit(Amount),
    /// Close the open shift with the counted cash.
    Close { counted: i64 },
}

impl DeskOp {
    /// The operation as outputs name it.
    pub fn kind(&self) -> ShiftOp {
        match self {
            DeskOp::Open { .. } => ShiftOp::Open,
            DeskOp::Fill(_) => ShiftOp::Fill,
            DeskOp::Credit(_) => ShiftOp::Credit,
            DeskOp::Close { .. } => ShiftOp::Close,
        }
    }

    /// The amount it names: the float, the fill or credit, the counted cash.
    pub fn amount(&self) -> i64 {
        match self {
            DeskOp::Open { float, .. } => *float,
            DeskOp::Fill(a) | DeskOp::Credit(a) => a.minor(),
            DeskOp::Close { counted } => *counted,
        }
    }
}

/// A desk command: who asks (the desk is the actor), the transaction id, the operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeskCommand {
    pub tx: TxId,
    pub op: DeskOp,
}

/// What the envelope tells the desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeskMeta {
    /// The input event (for a cash operation: the voucher command's).
    pub event_id: EventId,
    /// Event time.
    pub time: Timestamp,
    /// The desk's hall (the sender's).
    pub hall: HallId,
}

/// Which way a desk's cash operation moved the drawer (D-3): in, the player paid the desk (a
/// ticket sold); out, the desk paid the player (a ticket paid).
pub use super::aml::CashDir;

/// A cash operation another actor applied for the desk (D-3): a fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeskCash {
    pub dir: CashDir,
    /// Minor units, > 0.
    pub amount: i64,
}

impl DeskCash {
    /// The ledger movement and signed change it books.
    pub fn movement(self) -> (DeskMove, i64) {
        match self.dir {
            CashDir::In => (DeskMove::CashIn, self.amount),
            CashDir::Out => (DeskMove::CashOut, -self.amount),
        }
    }
}

/// Whose money a desk's cash operation moved (D-3, D-10): a ticket's, sold or paid, or a
/// player's wallet, deposited or withdrawn at the desk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CashSource {
    Ticket,
    Wallet,
}

impl CashSource {
    pub fn name(self) -> &'static str {
        match self {
            CashSource::Ticket => "ticket",
            CashSource::Wallet => "wallet",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [CashSource::Ticket, CashSource::Wallet]
            .into_iter()
            .find(|k| k.name() == s)
    }
}

/// What an output says happened (D-7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftOp {
    Open,
    Fill,
    Credit,
    Close,
    /// A closed shift's figures revised by a late cash operation (D-5).
    Revise,
}

impl ShiftOp {
    pub const ALL: [ShiftOp; 5] = [
        ShiftOp::Open,
        ShiftOp::Fill,
        ShiftOp::Credit,
        ShiftOp::Close,
        ShiftOp::Revise,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ShiftOp::Open => "open",
            ShiftOp::Fill => "fill",
            ShiftOp::Credit => "credit",
            ShiftOp::Close => "close",
            ShiftOp::Revise => "revise",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Why a desk command was refused (besides the currency and a conflicting repeat).
pub use super::kinds::DeskRefusal;

/// A shift's figures (D-7), open or closed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShiftFigures {
    /// 1, 2, ... per desk; 0 for a desk that never had a shift.
    pub number: u32,
    pub cashier: String,
    pub opened_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub float: i64,
    /// Tickets sold for cash.
    pub cash_in: i64,
    /// Tickets paid in cash.
    pub cash_out: i64,
    pub fills: i64,
    pub credits: i64,
    /// The cash counted at the close.
    pub counted: Option<i64>,
    /// Cash operations booked (D-3).
    pub operations: u32,
    /// Revisions after the close (D-5).
    pub revision: u32,
}

impl ShiftFigures {
    /// What the drawer should hold: float + cash in - cash out + fills - credits.
    pub fn expected(&self) -> i64 {
        // Saturating: a state the core made never saturates ([`ShiftFigures::changed`]); a
        // damaged stored one must not panic.
        self.float
            .saturating_add(self.cash_in)
            .saturating_sub(self.cash_out)
            .saturating_add(self.fills)
            .saturating_sub(self.credits)
    }

    /// Counted - expected, once closed.
    pub fn variance(&self) -> Option<i64> {
        self.counted.map(|c| c.saturating_sub(self.expected()))
    }

    /// The shift with `f` applied, if every figure, the expected cash and the variance stay
    /// within 64 bits (E-5: else `overflow`, and nothing changes).
    fn changed(
        &self,
        f: impl FnOnce(&mut Self) -> Result<(), DomainError>,
    ) -> Result<Self, DomainError> {
        let mut s = self.clone();
        f(&mut s)?;
        let e = i128::from(s.float) + i128::from(s.cash_in) - i128::from(s.cash_out)
            + i128::from(s.fills)
            - i128::from(s.credits);
        let v = s.counted.map(|c| i128::from(c) - e);
        if i64::try_from(e).is_err() || v.is_some_and(|v| i64::try_from(v).is_err()) {
            return Err(DomainError::Overflow(Total::DeskCash));
        }
        Ok(s)
    }

    /// Whether the shift covers an operation at `t`: opened at or before it and, if closed,
    /// closed after it (D-3).
    pub fn covers(&self, t: Timestamp) -> bool {
        self.opened_at <= t && self.closed_at.is_none_or(|c| t < c)
    }
}

/// What a desk publishes (D-7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShiftNote {
    pub op: ShiftOp,
    /// The command's transaction id (`None` for a revision).
    pub tx: Option<TxId>,
    /// The amount the command named (0 for a revision).
    pub amount: i64,
    /// Refused, and why (`None`: applied).
    pub refused: Option<DomainError>,
    /// The desk's hall.
    pub hall: HallId,
    /// The shift after the command: the one it opened, changed or closed, else the desk's
    /// latest (number 0 when it never had one).
    pub shift: ShiftFigures,
    /// The input event that caused it (for a repeat, the first one).
    pub cause: EventId,
    /// When it was booked.
    pub time: Timestamp,
}

/// A ledger movement of the desk (D-9): level 0 the drawer, level 1 unshifted cash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeskMove {
    Float,
    CashIn,
    CashOut,
    Fill,
    Credit,
    Close,
}

/// What applying a message produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeskEffect {
    /// A ledger movement: level, signed change, balance after at that level, booked time,
    /// and the cash operations it folds (1 but for those a shift takes at its opening, D-3).
    Moved {
        kind: DeskMove,
        level: u8,
        delta: i64,
        balance: i64,
        time: Timestamp,
        causes: u32,
    },
    /// Publish on the shifts topic.
    Note(Box<ShiftNote>),
    /// An alert for the operators.
    Alert(Alert),
}

/// The desk's reply, for the caller's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    Done,
    /// Already applied: nothing changed.
    Repeat,
}

/// A command answered, as remembered (D-6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    pub tx: TxId,
    pub op: DeskOp,
    pub currency: Currency,
    pub note: ShiftNote,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeskState {
    pub id: ServerId,
    /// The hall of its latest message (`None` before any).
    pub hall: Option<HallId>,
    /// The network's currency (E-4).
    pub currency: Currency,
    /// Shifts opened so far (the last one's number).
    pub next: u32,
    pub open: Option<ShiftFigures>,
    /// Closed shifts, oldest first (at most [`SHIFTS_KEPT`]).
    pub closed: VecDeque<ShiftFigures>,
    /// Cash operations no shift covered (D-3).
    pub unshifted_in: i64,
    pub unshifted_out: i64,
    /// Every cash operation booked, to a shift or not (D-9): taken for tickets sold, paid
    /// for tickets.
    pub cash_in: i64,
    pub cash_out: i64,
    /// Of those, wallet deposits and withdrawals at the desk (RULES.md D-10).
    pub wallet_in: i64,
    pub wallet_out: i64,
    /// Event ids of the cash operations booked, oldest first (at most [`BOOKED_KEPT`]).
    pub booked: VecDeque<EventId>,
    /// The newest unshifted cash operations (time, what), oldest first (at most
    /// [`UNSHIFTED_KEPT`]): a shift opened at or before one's time takes it (D-3).
    pub unshifted_ops: VecDeque<(Timestamp, DeskCash)>,
    /// Commands answered, oldest first (at most [`ANSWERS_KEPT`]).
    pub answered: VecDeque<Answered>,
}

impl DeskState {
    pub fn new(id: ServerId, currency: Currency) -> Self {
        Self {
            id,
            hall: None,
            currency,
            next: 0,
            open: None,
            closed: VecDeque::new(),
            unshifted_in: 0,
            unshifted_out: 0,
            cash_in: 0,
            cash_out: 0,
            wallet_in: 0,
            wallet_out: 0,
            booked: VecDeque::new(),
            unshifted_ops: VecDeque::new(),
            answered: VecDeque::new(),
        }
    }

    /// The drawer's expected cash: the open shift's, else 0 (the level-0 balance).
    pub fn drawer(&self) -> i64 {
        self.open.as_ref().map_or(0, ShiftFigures::expected)
    }

    /// Unshifted cash, net (the level-1 balance).
    pub fn unshifted(&self) -> i64 {
        self.unshifted_in.saturating_sub(self.unshifted_out)
    }

    /// The shift an output names when the command changed none: the open one, else the
    /// latest closed, else an empty one.
    fn latest(&self) -> ShiftFigures {
        self.open
            .clone()
            .or_else(|| self.closed.back().cloned())
            .unwrap_or_default()
    }

    fn refusal(&self, refusal: DeskRefusal, detail: String) -> DomainError {
        DomainError::Desk {
            refusal,
            desk: self.id.to_string(),
            detail,
        }
    }

    /// Applies a desk command (D-1, D-2, D-4, D-6). Every command gets a note (its answer)
    /// except a conflicting repeat, returned as `Err` (`tx_conflict`); a refusal is an
    /// answer too (`Ok`, with the refusal in the note).
    pub fn apply(
        &mut self,
        meta: &DeskMeta,
        cmd: &DeskCommand,
        currency: Currency,
        fx: &mut Vec<DeskEffect>,
    ) -> Result<Reply, DomainError> {
        if let Some(first) = self.answered.iter().find(|a| a.tx == cmd.tx) {
            if first.op == cmd.op && first.currency == currency {
                fx.push(DeskEffect::Note(Box::new(first.note.clone())));
                return Ok(Reply::Repeat);
            }
            return Err(DomainError::DeskTxConflict {
                desk: self.id.to_string(),
                tx: cmd.tx.to_string(),
            });
        }
        self.hall = Some(meta.hall.clone());
        let outcome = self.apply_new(meta, cmd, currency, fx);
        let shift = match &outcome {
            Ok(Some(s)) => s.clone(),
            _ => self.latest(),
        };
        let note = ShiftNote {
            op: cmd.op.kind(),
            tx: Some(cmd.tx.clone()),
            amount: cmd.op.amount(),
            refused: outcome.err(),
            hall: meta.hall.clone(),
            shift,
            cause: meta.event_id,
            time: meta.time,
        };
        self.answered.push_back(Answered {
            tx: cmd.tx.clone(),
            op: cmd.op.clone(),
            currency,
            note: note.clone(),
        });
        while self.answered.len() > ANSWERS_KEPT {
            self.answered.pop_front();
        }
        fx.push(DeskEffect::Note(Box::new(note)));
        Ok(Reply::Done)
    }

    fn moved(&self, kind: DeskMove, delta: i64, time: Timestamp) -> DeskEffect {
        DeskEffect::Moved {
            kind,
            level: 0,
            delta,
            balance: self.drawer(),
            time,
            causes: 1,
        }
    }

    /// A command never answered before: the shift it changed, or its refusal.
    fn apply_new(
        &mut self,
        meta: &DeskMeta,
        cmd: &DeskCommand,
        currency: Currency,
        fx: &mut Vec<DeskEffect>,
    ) -> Result<Option<ShiftFigures>, DomainError> {
        if currency != self.currency {
            return Err(DomainError::WrongCurrency {
                entity: Subject::Desk(self.id.to_string()),
                expected: self.currency.to_string(),
                got: currency.to_string(),
            });
        }
        let t = meta.time;
        match &cmd.op {
            DeskOp::Open { cashier, float } => {
                if let Some(open) = &self.open {
                    return Err(self.refusal(
                        DeskRefusal::AlreadyOpen,
                        format!("shift {} of {} is open", open.number, open.cashier),
                    ));
                }
                // D-3: unshifted operations dated at or after the opening were read before
                // it (from another partition): the shift takes them.
                let mut shift = ShiftFigures {
                    number: self.next + 1,
                    cashier: cashier.clone(),
                    opened_at: t,
                    float: *float,
                    ..ShiftFigures::default()
                };
                let (mut taken, mut kept) = (Vec::new(), VecDeque::new());
                for (at, cash) in self.unshifted_ops.iter().copied() {
                    if at < t {
                        kept.push_back((at, cash));
                        continue;
                    }
                    shift = shift.changed(|s| {
                        match cash.dir {
                            CashDir::In => {
                                s.cash_in = add(s.cash_in, cash.amount, Total::DeskCash)?
                            }
                            CashDir::Out => {
                                s.cash_out = add(s.cash_out, cash.amount, Total::DeskCash)?
                            }
                        }
                        s.operations = s.operations.saturating_add(1);
                        Ok(())
                    })?;
                    taken.push((at, cash));
                }
                self.next += 1;
                // Booked one by one after the float, so the ledger's balance follows.
                self.open = Some(ShiftFigures {
                    cash_in: 0,
                    cash_out: 0,
                    operations: 0,
                    ..shift.clone()
                });
                fx.push(self.moved(DeskMove::Float, *float, t));
                // One movement per direction out of level 1 and one into the drawer, each
                // folding the operations taken (their sums fit: the shift's figures do).
                for dir in [CashDir::In, CashDir::Out] {
                    let ops: Vec<i64> = taken
                        .iter()
                        .filter(|(_, c)| c.dir == dir)
                        .map(|(_, c)| c.amount)
                        .collect();
                    if ops.is_empty() {
                        continue;
                    }
                    let (n, sum) = (ops.len() as u32, ops.iter().sum::<i64>());
                    let (kind, delta) = DeskCash { dir, amount: sum }.movement();
                    match dir {
                        CashDir::In => self.unshifted_in -= sum,
                        CashDir::Out => self.unshifted_out -= sum,
                    }
                    fx.push(DeskEffect::Moved {
                        kind,
                        level: 1,
                        delta: -delta,
                        balance: self.unshifted(),
                        time: t,
                        causes: n,
                    });
                    if let Some(open) = &mut self.open {
                        match dir {
                            CashDir::In => open.cash_in += sum,
                            CashDir::Out => open.cash_out += sum,
                        }
                        open.operations += n;
                    }
                    fx.push(DeskEffect::Moved {
                        kind,
                        level: 0,
                        delta,
                        balance: self.drawer(),
                        time: t,
                        causes: n,
                    });
                }
                debug_assert_eq!(self.open.as_ref(), Some(&shift));
                self.unshifted_ops = kept;
                Ok(self.open.clone())
            }
            DeskOp::Fill(a) | DeskOp::Credit(a) => {
                let Some(open) = &self.open else {
                    return Err(self.refusal(DeskRefusal::NotOpen, "no shift is open".into()));
                };
                let a = a.minor();
                let fill = matches!(cmd.op, DeskOp::Fill(_));
                self.open = Some(open.changed(|s| {
                    if fill {
                        s.fills = add(s.fills, a, Total::DeskCash)?;
                    } else {
                        s.credits = add(s.credits, a, Total::DeskCash)?;
                    }
                    Ok(())
                })?);
                let (kind, delta) = if fill {
                    (DeskMove::Fill, a)
                } else {
                    (DeskMove::Credit, -a)
                };
                fx.push(self.moved(kind, delta, t));
                Ok(self.open.clone())
            }
            DeskOp::Close { counted } => {
                let Some(open) = &self.open else {
                    return Err(self.refusal(DeskRefusal::NotOpen, "no shift is open".into()));
                };
                // Closed at the later of its opening and the close's time, so that it
                // covers no negative span.
                let shift = open.changed(|s| {
                    s.closed_at = Some(t.max(s.opened_at));
                    s.counted = Some(*counted);
                    Ok(())
                })?;
                self.open = None;
                let expected = shift.expected();
                fx.push(self.moved(DeskMove::Close, -expected, t));
                self.variance_alert(&shift, fx);
                self.closed.push_back(shift.clone());
                while self.closed.len() > SHIFTS_KEPT {
                    self.closed.pop_front();
                }
                Ok(Some(shift))
            }
        }
    }

    fn variance_alert(&self, shift: &ShiftFigures, fx: &mut Vec<DeskEffect>) {
        let Some(counted) = shift.counted else { return };
        let variance = counted - shift.expected();
        if variance != 0 {
            fx.push(DeskEffect::Alert(Alert::ShiftVariance {
                desk: self.id.clone(),
                shift: shift.number,
                expected: shift.expected(),
                counted,
                variance,
            }));
        }
    }

    /// Books a cash operation another actor applied for this desk (D-3, D-5, D-10): to the
    /// shift covering its time (a closed one is revised), else as unshifted cash, alerted.
    /// Never refused; one already booked (its event id kept) changes nothing.
    pub fn apply_cash(
        &mut self,
        meta: &DeskMeta,
        cash: DeskCash,
        source: CashSource,
        fx: &mut Vec<DeskEffect>,
    ) -> Result<Reply, DomainError> {
        if self.booked.contains(&meta.event_id) {
            return Ok(Reply::Repeat);
        }
        let reply = self.book_cash(meta, cash, source, fx);
        // Booked, or refused for a total beyond the bounds: either way done with.
        self.booked.push_back(meta.event_id);
        while self.booked.len() > BOOKED_KEPT {
            self.booked.pop_front();
        }
        reply
    }

    fn book_cash(
        &mut self,
        meta: &DeskMeta,
        cash: DeskCash,
        source: CashSource,
        fx: &mut Vec<DeskEffect>,
    ) -> Result<Reply, DomainError> {
        if self.hall.is_none() {
            self.hall = Some(meta.hall.clone());
        }
        // The desk's totals first: a total beyond the bounds books nothing. Wallet cash
        // counts in them and apart (D-10); within `cash_in`, it stays within the bounds.
        let wallet = source == CashSource::Wallet;
        let (mut cash_in, mut cash_out) = (self.cash_in, self.cash_out);
        let (mut wallet_in, mut wallet_out) = (self.wallet_in, self.wallet_out);
        match cash.dir {
            CashDir::In => {
                cash_in = add(cash_in, cash.amount, Total::DeskCash)?;
                if wallet {
                    wallet_in = add(wallet_in, cash.amount, Total::DeskCash)?;
                }
            }
            CashDir::Out => {
                cash_out = add(cash_out, cash.amount, Total::DeskCash)?;
                if wallet {
                    wallet_out = add(wallet_out, cash.amount, Total::DeskCash)?;
                }
            }
        }
        let reply = self.book_shift(meta, cash, fx)?;
        (self.cash_in, self.cash_out) = (cash_in, cash_out);
        (self.wallet_in, self.wallet_out) = (wallet_in, wallet_out);
        Ok(reply)
    }

    fn book_shift(
        &mut self,
        meta: &DeskMeta,
        cash: DeskCash,
        fx: &mut Vec<DeskEffect>,
    ) -> Result<Reply, DomainError> {
        let t = meta.time;
        let (kind, delta) = cash.movement();
        let book = |s: &ShiftFigures| {
            s.changed(|s| {
                match cash.dir {
                    CashDir::In => s.cash_in = add(s.cash_in, cash.amount, Total::DeskCash)?,
                    CashDir::Out => s.cash_out = add(s.cash_out, cash.amount, Total::DeskCash)?,
                }
                s.operations = s.operations.saturating_add(1);
                Ok(())
            })
        };
        if let Some(open) = self.open.as_ref().filter(|s| s.covers(t)) {
            self.open = Some(book(open)?);
            fx.push(self.moved(kind, delta, t));
            return Ok(Reply::Done);
        }
        if let Some(i) = self.closed.iter().rposition(|s| s.covers(t)) {
            let before = self.closed[i].variance();
            let mut shift = book(&self.closed[i])?;
            shift.revision = shift.revision.saturating_add(1);
            self.closed[i] = shift.clone();
            // The operation moved the drawer, and the drawer went to the vault at the close:
            // the level-0 balance passes through it and is the open shift's again.
            fx.push(DeskEffect::Moved {
                kind,
                level: 0,
                delta,
                balance: self.drawer() + delta,
                time: t,
                causes: 1,
            });
            fx.push(self.moved(DeskMove::Close, -delta, t));
            if shift.variance() != before {
                self.variance_alert(&shift, fx);
            }
            let hall = self.hall.clone().unwrap_or_else(|| meta.hall.clone());
            fx.push(DeskEffect::Note(Box::new(ShiftNote {
                op: ShiftOp::Revise,
                tx: None,
                amount: 0,
                refused: None,
                hall,
                shift,
                cause: meta.event_id,
                time: t,
            })));
            return Ok(Reply::Done);
        }
        match cash.dir {
            CashDir::In => {
                self.unshifted_in = add(self.unshifted_in, cash.amount, Total::DeskCash)?
            }
            CashDir::Out => {
                self.unshifted_out = add(self.unshifted_out, cash.amount, Total::DeskCash)?
            }
        }
        self.unshifted_ops.push_back((t, cash));
        while self.unshifted_ops.len() > UNSHIFTED_KEPT {
            self.unshifted_ops.pop_front();
        }
        fx.push(DeskEffect::Moved {
            kind,
            level: 1,
            delta,
            balance: self.unshifted(),
            time: t,
            causes: 1,
        });
        fx.push(DeskEffect::Alert(Alert::DeskCashWithoutShift {
            desk: self.id.clone(),
            amount: delta,
        }));
        Ok(Reply::Done)
    }

    /// Checks the desk's invariants; panics on a broken one.
    pub fn assert_invariants(&self) {
        assert!(self.closed.len() <= SHIFTS_KEPT);
        assert!(self.booked.len() <= BOOKED_KEPT);
        assert!(self.unshifted_ops.len() <= UNSHIFTED_KEPT);
        assert!(self.answered.len() <= ANSWERS_KEPT);
        if let Some(open) = &self.open {
            assert_eq!(open.number, self.next, "the open shift is the newest");
            assert!(open.closed_at.is_none() && open.counted.is_none());
        }
        for s in &self.closed {
            assert!(s.closed_at.is_some() && s.counted.is_some());
            assert!(s.number <= self.next);
        }
        assert!(self.unshifted_in >= 0 && self.unshifted_out >= 0);
        assert!(self.unshifted_in <= self.cash_in && self.unshifted_out <= self.cash_out);
        assert!(self.wallet_in >= 0 && self.wallet_out >= 0);
        assert!(self.wallet_in <= self.cash_in && self.wallet_out <= self.cash_out);
    }
}
