//! What the consumer thread hands the processor task: batches of consumed messages, each
//! already decoded on the consumer thread (so decoding runs in parallel with the processor),
//! and the questions a rebalance or a shutdown asks.

use std::ops::Range;
use std::sync::mpsc as std_mpsc;

use pitboss_actors::domain::jackpot::JackpotHit;
use pitboss_actors::domain::machine::GgrDelta;
use pitboss_actors::domain::Timestamp;
use pitboss_actors::shell::Input;
use rdkafka::message::Message;

use crate::kafka::internal::{
    decode_desk_ops, decode_ggr_deltas, decode_machine_awards, decode_pool_commands,
    decode_voucher_facts, decode_wallet_transfers, DeskParts, InternalError, PoolParts,
    VoucherParts,
};
use crate::kafka::{Src, Tp};
use crate::wire;

/// One consumed message, as a view into its batch's buffer.
#[derive(Clone, Debug)]
pub struct Msg {
    pub src: Src,
    pub partition: i32,
    pub offset: i64,
    /// The payload's bytes in the batch buffer (empty for a null payload).
    pub payload: Range<usize>,
    /// The key's bytes in the batch buffer, if it had a key.
    pub key: Option<Range<usize>>,
}

/// Consumed messages, in consumption order, decoded.
#[derive(Default)]
pub struct Batch {
    /// Payloads and keys, back to back.
    pub data: Vec<u8>,
    pub msgs: Vec<Msg>,
    /// Each message decoded (same order).
    pub decoded: Vec<Decoded>,
}

impl Batch {
    pub fn payload(&self, m: &Msg) -> &[u8] {
        &self.data[m.payload.clone()]
    }

    pub fn key(&self, m: &Msg) -> Option<&[u8]> {
        m.key.clone().map(|r| &self.data[r])
    }

    pub(super) fn push(&mut self, src: Src, m: &rdkafka::message::BorrowedMessage<'_>) {
        let payload = m.payload().unwrap_or_default();
        let start = self.data.len();
        self.data.extend_from_slice(payload);
        let payload = start..self.data.len();
        let key = m.key().map(|k| {
            let start = self.data.len();
            self.data.extend_from_slice(k);
            start..self.data.len()
        });
        let (partition, offset) = (m.partition(), m.offset());
        let mut decoded = Decoded::new(src, partition, offset, &self.data[payload.clone()]);
        decoded.received_at(m.timestamp().to_millis());
        self.decoded.push(decoded);
        self.msgs.push(Msg {
            src,
            partition,
            offset,
            payload,
            key,
        });
    }
}

/// A message for a wallet on the internal transfers topic: a machine's transfer fact, the
/// sweep's lapse of its holds, or a command from the input topic (RULES.md W-10).
pub type TransferParts = (
    pitboss_actors::domain::PlayerId,
    pitboss_actors::domain::wallet::WalletMeta,
    crate::kafka::internal::WalletParts,
);

/// Offsets to commit: partition and the next offset to consume.
pub type Offsets = Vec<(Tp, i64)>;

/// What the consumer thread asks of the processor task.
pub enum Work {
    /// Process these messages.
    Batch(Batch),
    /// Partitions are being revoked: finish, hand over, and answer with the offsets to commit.
    Revoke {
        parts: Vec<Tp>,
        reply: std_mpsc::SyncSender<Offsets>,
    },
    /// Partitions are being assigned: answer with the positions the store reflects for
    /// them (consumption starts there instead of at the committed offsets, when known).
    Assign {
        parts: Vec<Tp>,
        reply: std_mpsc::SyncSender<Offsets>,
    },
    /// The consumer stopped polling (shutdown): finish, and answer with the final offsets.
    Stop {
        reply: std_mpsc::SyncSender<Offsets>,
    },
}

/// A consumed message, decoded.
pub enum Decoded {
    Input(Box<Input>),
    /// An input message that is not a valid event.
    Rejected(wire::WireError),
    /// Pool commands, with the awarded machine's input partition.
    Pool(Vec<PoolParts>),
    Ggr(Vec<GgrDelta>),
    Award(Vec<JackpotHit>),
    /// Voucher commands and ticket facts for the vouchers this instance owns.
    Voucher(Vec<(pitboss_actors::domain::ValidationNo, VoucherParts)>),
    /// Machines' cashless transfers, and the sweep's lapses, for the wallets this instance
    /// owns (RULES.md W-10).
    Transfer(Vec<TransferParts>),
    /// Desk commands and cash operations for the desks this instance owns (RULES.md D).
    Desk(Vec<(pitboss_actors::domain::ServerId, DeskParts)>),
    /// An internal message that cannot be read: an internal failure.
    Bad(String),
}

impl Decoded {
    /// Decodes a message of the given topic.
    pub fn new(src: Src, partition: i32, offset: i64, bytes: &[u8]) -> Self {
        fn all<T, U>(
            items: Vec<T>,
            f: impl Fn(&T) -> Result<U, InternalError>,
        ) -> Result<Vec<U>, InternalError> {
            items.iter().map(f).collect()
        }
        let internal = match src {
            Src::Input => {
                return match wire::decode_input(bytes) {
                    Ok(i) => Decoded::Input(Box::new(i)),
                    Err(e) => Decoded::Rejected(e),
                }
            }
            Src::PoolCommands => decode_pool_commands(bytes)
                .and_then(|v| all(v, |i| i.to_domain()))
                .map(Decoded::Pool),
            Src::GgrDeltas => decode_ggr_deltas(bytes)
                .and_then(|v| all(v, |i| i.to_domain()))
                .map(Decoded::Ggr),
            Src::MachineAwards => decode_machine_awards(bytes)
                .and_then(|v| all(v, |i| i.to_domain()))
                .map(Decoded::Award),
            Src::VoucherFacts => decode_voucher_facts(bytes)
                .and_then(|v| all(v, |i| i.to_domain()))
                .map(Decoded::Voucher),
            Src::WalletTransfers => decode_wallet_transfers(bytes)
                .and_then(|v| all(v, |i| i.to_domain()))
                .map(Decoded::Transfer),
            Src::DeskOps => decode_desk_ops(bytes)
                .and_then(|v| all(v, |i| i.to_domain()))
                .map(Decoded::Desk),
        };
        internal.unwrap_or_else(|e| {
            Decoded::Bad(format!(
                "internal message at {src:?} partition {partition} offset {offset}: {e}"
            ))
        })
    }

    /// RULES.md E-3: a machine event that does not say when its gateway received it
    /// (`receive_time`, wire version 2) is taken as received at its Kafka record's
    /// timestamp, so its event time is checked against that.
    pub fn received_at(&mut self, record_ms: Option<i64>) {
        if let (Decoded::Input(input), Some(ms)) = (self, record_ms) {
            if let Input::Machine { meta, .. } = input.as_mut() {
                if meta.receive_time.is_none() {
                    meta.receive_time = Some(Timestamp(ms));
                }
            }
        }
    }

    /// Effects (internal) or events (input) it carries: its share of the in-flight bound.
    #[inline]
    pub(crate) fn weight(&self) -> usize {
        match self {
            Decoded::Pool(v) => v.len(),
            Decoded::Ggr(v) => v.len(),
            Decoded::Award(v) => v.len(),
            Decoded::Voucher(v) => v.len(),
            Decoded::Transfer(v) => v.len(),
            _ => 1,
        }
    }
}
