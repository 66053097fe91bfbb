//! What an entity may do while it handles a message: send to another entity, emit an
//! output, count, look up what it needs from the configuration, read the clock. The runtime
//! implements it; an entity never sees the runtime, so it cannot reach into other actors,
//! the store or the arbiters.

use crate::domain::jackpot::{HitPointSource, PoolConfig};
use crate::domain::limits::Calendar;
use crate::domain::machine::MachineProfile;
use crate::domain::voucher::VoucherPolicy;
use crate::domain::{DomainError, EventId, HallId, PlayerId, PoolId, Timestamp};

use crate::shell::ack::AckToken;
use crate::shell::config::EntitySettings;
use crate::shell::messages::Remote;
use crate::shell::ports::sink::Output;

/// A runtime counter an entity moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// A repeated input, recognised and skipped.
    Duplicate,
    /// An input the core refused.
    Refused,
}

/// An entity's view of the runtime.
pub trait EntityContext {
    /// Delivers a message to another entity: here, or through the router where it lives.
    fn forward(&self, msg: Remote);
    /// Hands an output to the sink; `ack` completes when it is durable.
    fn emit(&self, output: Output, ack: &AckToken);
    /// Counts one occurrence.
    fn count(&self, counter: Counter);
    /// The profile a machine standing in `hall` starts with.
    fn machine_profile(&self, hall: &HallId) -> MachineProfile;
    /// The configuration a pool starts from, if the pool exists.
    fn pool_config(&self, pool: &PoolId) -> Option<PoolConfig>;
    /// The source of a pool's mystery hit points.
    fn hit_points(&self, pool: &PoolId) -> Box<dyn HitPointSource>;
    /// The settings entities read.
    fn settings(&self) -> &EntitySettings;
    /// The network's voucher policy (RULES.md V).
    fn voucher_policy(&self) -> &VoucherPolicy;
    /// Where days, weeks and months start in the jurisdiction's local time (RULES.md W-9).
    fn calendar(&self) -> &dyn Calendar;
    /// Processing time.
    fn now(&self) -> Timestamp;
    /// Whether entities record their money movements (the store keeps a ledger).
    fn keeps_ledger(&self) -> bool;
    /// Whether publications wait for a durable checkpoint holding them (RULES.md H-2: a
    /// durable store), rather than go out at once.
    fn publishes_after_checkpoint(&self) -> bool {
        false
    }

    /// RULES.md W-10: the player's wallet holds money for a transfer until `until`; the
    /// runtime's sweep sends it a lapse once that time has passed (a runtime without a
    /// sweep leaves the hold to lapse at the wallet's next message).
    fn hold_until(&self, _player: &PlayerId, _until: Timestamp) {}

    /// Reports an input the core refused: counted, and published with its reason.
    fn refuse(&self, entity: String, err: &DomainError, cause: EventId, ack: &AckToken) {
        self.count(Counter::Refused);
        self.emit(
            Output::Refused {
                entity,
                code: err.code(),
                reason: err.to_string(),
                cause,
            },
            ack,
        );
    }
}
