//! The generator's books of cashless transfers (RULES.md W-10): their random source and
//! transfer ids, apart from the flows that use them (`transfers.rs`), so that the generator's
//! world can hold them without the two files importing each other.

use rand::rngs::SmallRng;
use rand::SeedableRng;

/// The generator's transfer books: its random source and transfer ids.
pub(super) struct Transfers {
    /// Draws every transfer decision, apart from the rest of the stream.
    pub(super) rng: SmallRng,
    serial: u64,
}

impl Transfers {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            rng: SmallRng::seed_from_u64(seed ^ 0x0074_7261_6e73_6672),
            serial: 0,
        }
    }

    pub(super) fn next_id(&mut self) -> String {
        self.serial += 1;
        format!("XF-{}", self.serial)
    }
}
