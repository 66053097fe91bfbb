//! The generator's books of vouchers (RULES.md V): what it believes of each ticket, its
//! numbers and transaction ids, apart from the flows that use them (`vouchers.rs`), so that
//! the generator's world can hold them without the two files importing each other.

use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::wire::InputEnvelope;

/// What the generator believes of a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    Open,
    Redeemed,
    Voided,
    Expired,
}

#[derive(Clone, Debug)]
pub(super) struct Ticket {
    pub(super) number: String,
    pub(super) amount: i64,
    pub(super) hall: String,
    pub(super) issued: i64,
    pub(super) state: State,
}

/// The generator's voucher books.
pub(super) struct Vouchers {
    /// Draws every voucher decision, apart from the rest of the stream.
    pub(super) rng: SmallRng,
    /// Validation numbers are `base + serial`, 18 digits with their leading zeros.
    pub(super) base: u64,
    pub(super) serial: u64,
    /// Transaction ids of desks and gateways.
    pub(super) tx: u64,
    pub(super) tickets: Vec<Ticket>,
    /// Voucher commands sent, for repeats and conflicts.
    pub(super) sent: Vec<InputEnvelope>,
}

impl Vouchers {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            rng: SmallRng::seed_from_u64(seed ^ 0x0076_6f75_6368_6572),
            base: (seed % 100_000) * 1_000_000_000_000,
            serial: 0,
            tx: 0,
            tickets: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// A number never used (RULES.md V-1: 18 digits, leading zeros kept).
    pub(super) fn fresh(&mut self) -> String {
        self.serial += 1;
        format!("{:018}", self.base + self.serial)
    }

    pub(super) fn tx(&mut self) -> String {
        self.tx += 1;
        format!("VT-{}", self.tx)
    }
}
