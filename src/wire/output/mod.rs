//! Output events: the wire form of what the core emits, their topics, keys and ids.
//!
//! Every output is a MessagePack map
//! `{output_id, schema_version: 1, kind, cause_event_id?, payload}`; `cause_event_id` is the
//! input event that caused it, absent for GGR windows, pool levels and rejections.
//!
//! # Output ids
//!
//! An output id is a UUID v5 under [`OUTPUT_ID_NAMESPACE`] whose name is the UTF-8 text of
//! the components below joined by single spaces (ids never contain a space, so the text is
//! unambiguous; event ids are lower-case hyphenated UUIDs):
//!
//! | kind | name |
//! | --- | --- |
//! | `alert` | `<cause> alert <index>` (`<cause> alert sequence_stale` for that alert) |
//! | `wallet` | `wallet <player> <provider> <tx>` (a repeat republishes the first answer under it) |
//! | `refused` | `<cause> refused` (`<cause> refused sequence_stale` for that refusal) |
//! | `jackpot_hit` | `hit <pool> <level> <hit_number>` |
//! | `ggr` | `ggr <hall> <window_start_ms> <revision>` |
//! | `jackpot_levels` | `levels <pool>` then ` <amount> <hits>` for every level in order |
//! | `rejected` | `rejected <partition> <offset>` |
//! | `transfer` | `<cause> transfer` (the machine's acknowledgement) |
//! | `aml_case_closed` | `aml-close <case id> <closed_at> <operator> <SHA-256 of the reason, hex>` |
//! | `gaming_day` | `gaming-day <hall> <date> <revision> <handle> <wins> <jackpots> <games> <windows>` |
//! | `gaming_day_network` | `gaming-day-network <date> <halls_closed> <halls_open> <revision> <handle> <wins> <jackpots> <promo> <games> <windows>` |
//! | `gaming_day_machine` | `gaming-day-machine <machine> <hall> <date>` then every amount of the row in its order, and `<movements>` |
//!
//! A replay of the same input therefore yields the same ids, and consumers drop duplicates
//! by id. Pool levels are identified by their content: publishing an unchanged pool again
//! yields the same id. So are the gaming-day reports (RULES.md H-5), a hall's, the network's
//! and a machine's: an unchanged day published again has the same id, and a revised one a
//! new id.

use std::fmt;

use uuid::Uuid;

use super::MESSAGE_BYTES_MAX;

mod decode;
mod encode;
mod payload;

pub use decode::{decode_output, OutputEvent};
pub use encode::{
    encode_case_closed, encode_gaming_day, encode_gaming_day_machine, encode_gaming_day_network,
    encode_output, encode_rejection,
};
pub use payload::{
    AlertPayload, AmlCaseClosedPayload, AmlCasePayload, Bin, CashMovePayload,
    GamingDayMachinePayload, GamingDayNetworkPayload, GamingDayPayload, GgrPayload,
    JackpotHitPayload, JackpotLevelsPayload, LevelPayload, MeterVarianceRow, OutputEnvelope,
    RatedSessionPayload, RefusedPayload, RejectedPayload, ShiftPayload, TransferPayload,
    VoucherPayload, WalletPayload,
};

/// The namespace of every output id (UUID v5).
pub const OUTPUT_ID_NAMESPACE: Uuid = Uuid::from_u128(0xc7b9_2cd6_03ad_4093_b1cf_47bf_f804_994d);

/// At most this many bytes of a rejected message are copied into the rejection, so that a
/// rejection always fits in a Kafka message; `original_len` tells the full length.
pub const REJECTED_ORIGINAL_BYTES_MAX: usize = MESSAGE_BYTES_MAX;

/// An output topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Hall GGR windows, keyed by hall id.
    Ggr,
    /// Jackpot levels and hits, keyed by pool id.
    Jackpots,
    /// Wallet balance changes, keyed by player id.
    WalletEvents,
    /// Operator alerts, keyed by machine id.
    Alerts,
    /// Refused and rejected input, keyed by the entity (or the original message's key).
    Rejected,
    /// Voucher answers, ticket facts and lapses, keyed by validation number (RULES.md V-8).
    Vouchers,
    /// Rated card sessions (player tracking), keyed by player id (RULES.md M-12).
    Sessions,
    /// AML cases for the compliance officers, keyed by player id (RULES.md W-11).
    Compliance,
    /// Each hall's gaming-day report at the day's close and its revisions, keyed by hall id
    /// (RULES.md H-5).
    Reports,
    /// Desk commands' answers and revised shifts, keyed by desk (RULES.md D-7).
    Shifts,
}

impl Topic {
    /// Every output topic.
    pub const ALL: [Topic; 10] = [
        Topic::Ggr,
        Topic::Jackpots,
        Topic::WalletEvents,
        Topic::Alerts,
        Topic::Rejected,
        Topic::Vouchers,
        Topic::Sessions,
        Topic::Compliance,
        Topic::Reports,
        Topic::Shifts,
    ];

    /// The topic's name unless configured otherwise.
    pub fn default_name(self) -> &'static str {
        match self {
            Topic::Ggr => "pitboss.ggr",
            Topic::Jackpots => "pitboss.jackpots",
            Topic::WalletEvents => "pitboss.wallet-events",
            Topic::Alerts => "pitboss.alerts",
            Topic::Rejected => "pitboss.rejected",
            Topic::Vouchers => "pitboss.vouchers",
            Topic::Sessions => "pitboss.sessions",
            Topic::Compliance => "pitboss.compliance",
            Topic::Reports => "pitboss.reports",
            Topic::Shifts => "pitboss.shifts",
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.default_name())
    }
}

/// An output ready to produce: where it goes, its key, its id and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputRecord {
    pub topic: Topic,
    /// The Kafka key.
    pub key: String,
    /// The deterministic output id (also in the bytes).
    pub id: Uuid,
    /// The id of the input event that caused it, as text, if any: the
    /// `pitboss-cause-event-id` header. For an aggregate (a GGR window, a pool's levels) the
    /// latest input event it is the first to include, in the header only: the bytes do not
    /// name it, because a replay may apply the same events from different sources in
    /// another order and must publish the same bytes under the same id (RULES.md H-2).
    pub cause: Option<String>,
    /// For an aggregate: how many input events it is the first to include (the
    /// `pitboss-cause-count` header), so the load harness can say how many events its
    /// latency samples cover. `None` for an output with one cause.
    pub causes: Option<u32>,
    /// The MessagePack bytes.
    pub bytes: Vec<u8>,
}

impl OutputRecord {
    /// Names an aggregate's latest new input event and how many it includes, in the headers.
    pub(crate) fn aggregate(mut self, carried: pitboss_actors::domain::Carried) -> Self {
        self.cause = carried.latest.map(|c| c.to_string());
        self.causes = Some(carried.count);
        self
    }
}

/// The `kind` of each output, as written.
const KIND_GGR: &str = "ggr";
const KIND_LEVELS: &str = "jackpot_levels";
const KIND_HIT: &str = "jackpot_hit";
const KIND_WALLET: &str = "wallet";
const KIND_ALERT: &str = "alert";
const KIND_REFUSED: &str = "refused";
const KIND_REJECTED: &str = "rejected";
const KIND_VOUCHER: &str = "voucher";
const KIND_SESSION: &str = "rated_session";
const KIND_CASE: &str = "aml_case";
const KIND_CASE_CLOSED: &str = "aml_case_closed";
const KIND_GAMING_DAY: &str = "gaming_day";
const KIND_GAMING_DAY_NETWORK: &str = "gaming_day_network";
const KIND_GAMING_DAY_MACHINE: &str = "gaming_day_machine";
const KIND_TRANSFER: &str = "transfer";
const KIND_SHIFT: &str = "shift";
