//! The voucher model's state (RULES.md V): a voucher as the model keeps it, apart from the
//! rules that move it (`voucher.rs`), so that the model's state can hold vouchers without
//! the two files importing each other.

use std::collections::VecDeque;

use super::types::VoucherView;
use super::validate::{Party, VoucherOpModel};

/// A machine's ticket fact (V-2, V-5), with the ticket's amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fact {
    /// Cash out to a ticket: the machine printed it.
    Printed(i64),
    /// Cash in of a ticket: the machine credited it.
    Credited(i64),
}

/// Where a voucher stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Status {
    /// Never issued: requests for it are answered all the same.
    Unissued,
    /// Owed to whoever holds the ticket.
    Issued,
    /// Owed, and held for one redeemer until a time (V-3).
    Held { by: Party, until: i64 },
    /// Paid out (V-4, V-5).
    Redeemed,
    /// Expired unredeemed (V-6).
    Expired,
    /// Voided by a back office (V-6).
    Voided,
}

impl Status {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Status::Unissued => "unissued",
            Status::Issued => "issued",
            Status::Held { .. } => "held",
            Status::Redeemed => "redeemed",
            Status::Expired => "expired",
            Status::Voided => "voided",
        }
    }

    /// V-8: issued or held, the voucher is owed.
    pub(super) fn open(&self) -> bool {
        matches!(self, Status::Issued | Status::Held { .. })
    }

    /// V-3's first four checks: why a voucher that is not open cannot be asked for.
    pub(super) fn closed_code(&self) -> Option<&'static str> {
        match self {
            Status::Unissued => Some("voucher_unknown"),
            Status::Redeemed => Some("voucher_already_redeemed"),
            Status::Expired => Some("voucher_expired"),
            Status::Voided => Some("voucher_voided"),
            Status::Issued | Status::Held { .. } => None,
        }
    }
}

/// A command answered, as the voucher remembers it (V-7).
#[derive(Clone, Debug)]
pub(super) struct Answered {
    pub(super) party: Party,
    pub(super) tx: String,
    /// The content: the operation (amount, reason) and the currency.
    pub(super) op: VoucherOpModel,
    pub(super) currency: Option<String>,
    /// The first answer: applied, or refused with a code.
    pub(super) answer: Result<(), &'static str>,
}

/// One validation number's voucher.
#[derive(Clone, Debug)]
pub(super) struct Voucher {
    pub(super) status: Status,
    /// V-2: amount, issuing hall, issuer, expiry (set once, at the issue).
    pub(super) amount: i64,
    pub(super) hall: Option<String>,
    pub(super) issuer: Option<Party>,
    pub(super) expires: Option<i64>,
    /// V-5: credited beyond what it owed, signed.
    pub(super) unbacked: i64,
    /// V-2: printed under its number once it was in use.
    pub(super) reprinted: i64,
    /// V-5: the first credit while unissued (its machine and amount), for its print.
    pub(super) early: Option<(String, i64)>,
    /// V-7: the newest answers.
    pub(super) answers: VecDeque<Answered>,
    /// V-7: the input event ids of the newest machine facts applied.
    pub(super) facts: VecDeque<String>,
    /// The voucher's own books (V-8), for the conservation check: what a machine issued
    /// (printed) and a desk issued (sold for cash), what a machine redeemed (the voucher's
    /// amount, whatever it credited) and a desk paid, what expired and what was voided.
    pub(super) books: Books,
}

/// A voucher's liability movements (V-8), by kind.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Books {
    pub(super) printed: i64,
    pub(super) sold: i64,
    pub(super) credited: i64,
    pub(super) paid: i64,
    pub(super) expired: i64,
    pub(super) voided: i64,
}

impl Voucher {
    pub(super) fn new() -> Self {
        Self {
            status: Status::Unissued,
            amount: 0,
            hall: None,
            issuer: None,
            expires: None,
            unbacked: 0,
            reprinted: 0,
            early: None,
            answers: VecDeque::new(),
            facts: VecDeque::new(),
            books: Books::default(),
        }
    }

    pub(super) fn view(&self) -> VoucherView {
        VoucherView {
            status: self.status.name(),
            amount: self.amount,
            hall: self.hall.clone(),
            unbacked: self.unbacked,
            reprinted: self.reprinted,
            issuer: self.issuer.as_ref().map(Party::text),
        }
    }

    /// V-8: what the house owes on it.
    pub(super) fn liability(&self) -> i64 {
        if self.status.open() {
            self.amount
        } else {
            0
        }
    }

    /// V-2: issued, once.
    pub(super) fn issue(&mut self, amount: i64, hall: &str, by: Party, expires: Option<i64>) {
        self.status = Status::Issued;
        self.amount = amount;
        self.hall = Some(hall.to_owned());
        self.issuer = Some(by);
        self.expires = expires;
    }
}

/// What issuing a voucher that a machine credited early did (V-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Early {
    /// No credit waited.
    None,
    /// Redeemed by it; the credit was for another amount than the voucher's (a variance).
    Redeemed { variance: bool },
    /// `unbacked` would overflow (E-5).
    Overflow,
}

impl Voucher {
    /// V-5: a voucher just issued that a machine credited before (read ahead of its issue)
    /// is redeemed by that credit: redeemed by a machine for its amount, and `unbacked`
    /// keeps only what the credit differed by.
    pub(super) fn redeem_early(&mut self) -> Early {
        let Some((_, credited)) = self.early.take() else {
            return Early::None;
        };
        let Some(left) = self.unbacked.checked_sub(self.amount) else {
            return Early::Overflow;
        };
        self.unbacked = left;
        self.status = Status::Redeemed;
        self.books.credited += self.amount;
        Early::Redeemed {
            variance: credited != self.amount,
        }
    }
}

impl Party {
    /// `machine <id>` or `desk <id>`.
    pub fn text(&self) -> String {
        match self {
            Party::Machine(m) => format!("machine {m}"),
            Party::Desk(d) => format!("desk {d}"),
        }
    }
}
