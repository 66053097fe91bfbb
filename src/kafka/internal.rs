//! The wire form of messages between entities on the internal topics (schema:
//! `schemas/internal/batch.schema.json`).
//!
//! One Kafka message carries a batch of effects for one partition:
//!
//! ```text
//! { schema_version: 1, kind: "pool_commands" | "ggr_deltas" | "machine_awards"
//!   | "voucher_facts" | "wallet_transfers",
//!   items: [ { ...item fields }, ... ] }
//! ```
//!
//! MessagePack named maps throughout (`rmp_serde::to_vec_named`), like the public topics, so
//! fields can be added. Items are appended to an outbox buffer one by one
//! ([`BatchBuf::push`]); the header has a fixed length (the item count is written as a
//! 32-bit array length), so a full buffer is the message itself and no copy is made.
//!
//! Every item names its source and the source's sequence number: pools and halls keep the
//! last number applied per source, machines the last hit number per pool level, so an item
//! delivered twice is applied once.

use std::borrow::Cow;

use pitboss_actors::domain::aml::CashDir;
use pitboss_actors::domain::desk::{
    CashDir as DeskCashDir, CashSource, DeskCash, DeskCommand, DeskMeta, DeskOp,
};
use pitboss_actors::domain::jackpot::{JackpotHit, PoolCommand, PoolMeta};
use pitboss_actors::domain::machine::GgrDelta;
use pitboss_actors::domain::transfer::{CreditType, Direction, TransferFact};
use pitboss_actors::domain::voucher::{Party, VoucherCommand, VoucherFact, VoucherMeta, VoucherOp};
use pitboss_actors::domain::wallet::{WalletCommand, WalletMeta};
use pitboss_actors::domain::{
    Amount, Currency, DomainError, EventId, HallId, MachineId, PlayerId, PoolId, RoundId, ServerId,
    SourceKey, Timestamp, TxId, ValidationNo, VoucherOpKind,
};
use pitboss_actors::shell::{DeskMsg, PlayerFact, VoucherMsg};
use serde::{Deserialize, Serialize};

use crate::store::codec::wallet::OpFields;

/// The only internal schema version this build reads and writes.
pub const INTERNAL_SCHEMA_VERSION: u32 = 1;

/// Deepest nesting accepted when decoding (a batch needs 3 levels).
const DEPTH_MAX: usize = 8;

/// Which internal topic a batch belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Contributions and claims for pools, keyed (partitioned) by pool id.
    PoolCommands,
    /// GGR deltas for halls, partitioned by hall id.
    GgrDeltas,
    /// Jackpot awards for machines, on the partition of the machine's input events.
    MachineAwards,
    /// Voucher commands and machines' ticket facts, partitioned by validation number.
    VoucherFacts,
    /// Machines' cashless transfers for wallets (RULES.md W-10), on the partition of the
    /// player's wallet commands (murmur2 of the player id, input topic's partition count).
    WalletTransfers,
    /// Desk commands and the desks' cash operations (RULES.md D), partitioned by desk id.
    DeskOps,
}

impl Kind {
    /// The `kind` field's value.
    pub fn name(self) -> &'static str {
        match self {
            Kind::PoolCommands => "pool_commands",
            Kind::GgrDeltas => "ggr_deltas",
            Kind::MachineAwards => "machine_awards",
            Kind::VoucherFacts => "voucher_facts",
            Kind::WalletTransfers => "wallet_transfers",
            Kind::DeskOps => "desk_ops",
        }
    }
}

/// Why an internal message cannot be read. pitboss wrote it, so this is a bug or a version
/// skew between instances: the processor stops rather than skip money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InternalError {
    /// Not a batch of the expected shape.
    #[error("undecodable internal batch: {0}")]
    Decode(String),
    /// Written by a newer pitboss.
    #[error("internal schema_version {0} is not supported (supported: {INTERNAL_SCHEMA_VERSION})")]
    Version(u32),
    /// A batch of another kind on this topic.
    #[error("internal batch of kind {got:?} where {expected:?} was expected")]
    Kind {
        /// The topic's kind.
        expected: &'static str,
        /// The batch's kind.
        got: String,
    },
    /// A value the domain refuses.
    #[error("invalid internal item: {0}")]
    Domain(#[from] DomainError),
    /// A field out of range.
    #[error("invalid internal item: {0}")]
    Invalid(String),
}

/// A contribution or claim for a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolCommandItem<'a> {
    #[serde(borrow)]
    pub pool: Cow<'a, str>,
    /// `machine` or `wallet`.
    #[serde(borrow)]
    pub source_kind: Cow<'a, str>,
    /// The source's id.
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    /// The source's sequence number.
    pub seq: u64,
    /// The input event that caused it (UUID text).
    #[serde(borrow)]
    pub cause: Cow<'a, str>,
    /// `contribute` or `claim`.
    #[serde(borrow)]
    pub op: Cow<'a, str>,
    /// The machine that bet or hit.
    #[serde(borrow)]
    pub machine: Cow<'a, str>,
    /// `contribute`: the bet; `claim`: the bets of the machine's open game; minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bet: Option<i64>,
    /// `claim`: the level index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    /// `claim`: what the machine paid (version 2 claims), minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// `contribute`: true when the machine may not win a mystery hit with it (offline or
    /// in tilt, RULES.md P-2); absent when it may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ineligible: Option<bool>,
    /// The input partition of the machine's events: where its awards must go.
    pub machine_partition: i32,
}

/// A GGR delta for a hall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GgrDeltaItem<'a> {
    #[serde(borrow)]
    pub hall: Cow<'a, str>,
    /// `machine` or `wallet`.
    #[serde(borrow)]
    pub source_kind: Cow<'a, str>,
    /// The source's id.
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    /// The source's sequence number.
    pub seq: u64,
    /// Start of the one-minute window, ms since the Unix epoch.
    pub window_start: i64,
    /// Wagered (negative for a rolled-back bet), minor units.
    pub bets: i64,
    /// Won, minor units.
    pub wins: i64,
    /// Games completed.
    pub games: i64,
    /// Jackpot awards paid, minor units (absent before RULES.md H-1: 0).
    #[serde(default)]
    pub jackpots: i64,
    /// Restricted promotional credits played, minor units (RULES.md M-13; absent: 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub promo: i64,
    /// The input event whose effect it is: its 128-bit id as [high 64 bits, low 64 bits]
    /// (MessagePack integers take fewer bytes than the id's text; absent: [0, 0]). It only
    /// names a published window's cause for the load harness; no rule depends on it.
    #[serde(default)]
    pub cause: (u64, u64),
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// A jackpot award for a machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineAwardItem<'a> {
    /// The machine awarded.
    #[serde(borrow)]
    pub machine: Cow<'a, str>,
    #[serde(borrow)]
    pub pool: Cow<'a, str>,
    /// The level index.
    pub level: u8,
    /// The level's name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// The amount, minor units.
    pub amount: i64,
    /// The level's hit number.
    pub hit_number: u64,
    /// The input event that caused it (UUID text).
    #[serde(borrow)]
    pub cause: Cow<'a, str>,
}

/// A voucher command (from the input topic) or a machine's ticket fact, for the instance
/// that owns the voucher (RULES.md V).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherItem<'a> {
    /// The validation number.
    #[serde(borrow)]
    pub validation: Cow<'a, str>,
    /// The input event (UUID text).
    #[serde(borrow)]
    pub cause: Cow<'a, str>,
    /// Event time (a fact: the machine's booked time), ms since the Unix epoch.
    pub time: i64,
    /// The sender's hall.
    #[serde(borrow)]
    pub hall: Cow<'a, str>,
    /// `machine` or `desk`.
    #[serde(borrow)]
    pub party_kind: Cow<'a, str>,
    #[serde(borrow)]
    pub party: Cow<'a, str>,
    /// `issue`, `redeem`, `commit`, `cancel`, `void` (commands), `printed`, `credited`
    /// (facts), `expire` (the sweep's lapse, RULES.md V-6).
    #[serde(borrow)]
    pub op: Cow<'a, str>,
    /// A command's transaction id.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tx: Option<Cow<'a, str>>,
    /// Minor units (issue, redeem, facts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// A command's currency, if it named one.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Cow<'a, str>>,
    /// A void's reason.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'a, str>>,
}

/// What a voucher item carries, validated: the message without its completion token.
pub enum VoucherParts {
    Command(VoucherMeta, VoucherCommand, Option<Currency>),
    Fact(VoucherMeta, VoucherFact),
    /// The sweep's lapse (RULES.md V-6).
    Lapse(VoucherMeta),
}

/// The sender named on a sweep's lapse item (RULES.md V-6): pitboss itself.
const LAPSE_PARTY: &str = "pitboss-sweep";

/// The item for a voucher message.
pub fn voucher_item<'a>(
    validation: &'a ValidationNo,
    msg: &'a VoucherMsg,
    cause: &'a str,
) -> VoucherItem<'a> {
    let party = |p: &'a Party| match p {
        Party::Machine(m) => ("machine", m.as_str()),
        Party::Desk(d) => ("desk", d.as_str()),
    };
    let (meta, (party_kind, party), op, tx, amount, currency, reason) = match msg {
        VoucherMsg::Command {
            meta,
            cmd,
            currency,
            ..
        } => {
            let (amount, reason) = match &cmd.op {
                VoucherOp::Issue(a) | VoucherOp::Redeem(a) => (Some(a.minor()), None),
                VoucherOp::Void(r) => (None, Some(r.as_str().into())),
                VoucherOp::Commit | VoucherOp::Cancel => (None, None),
            };
            (
                meta,
                party(&cmd.party),
                cmd.op.kind(),
                Some(cmd.tx.as_str().into()),
                amount,
                currency.as_ref().map(|c| c.as_str().to_owned().into()),
                reason,
            )
        }
        VoucherMsg::Fact { meta, fact, .. } => {
            let (op, m, a) = match fact {
                VoucherFact::Printed(m, a) => (VoucherOpKind::Printed, m, a),
                VoucherFact::Credited(m, a) => (VoucherOpKind::Credited, m, a),
            };
            (
                meta,
                ("machine", m.as_str()),
                op,
                None,
                Some(a.minor()),
                None,
                None,
            )
        }
        // The sweep's: what lapsed by its time; sent by pitboss itself.
        VoucherMsg::Lapse { meta, .. } => (
            meta,
            ("desk", LAPSE_PARTY),
            VoucherOpKind::Expire,
            None,
            None,
            None,
            None,
        ),
    };
    VoucherItem {
        validation: validation.as_str().into(),
        cause: cause.into(),
        time: meta.time.0,
        hall: meta.hall.as_str().into(),
        party_kind: party_kind.into(),
        party: party.into(),
        op: op.name().into(),
        tx,
        amount,
        currency,
        reason,
    }
}

impl VoucherItem<'_> {
    /// Validates into the domain's types.
    pub fn to_domain(&self) -> Result<(ValidationNo, VoucherParts), InternalError> {
        let validation = ValidationNo::new(&self.validation)?;
        let meta = VoucherMeta {
            event_id: parse_event_id(&self.cause)?,
            time: Timestamp(self.time),
            hall: HallId::new(&self.hall)?,
        };
        let party = match &*self.party_kind {
            "machine" => Party::Machine(MachineId::new(&self.party)?),
            "desk" => Party::Desk(ServerId::new(&self.party)?),
            other => {
                return Err(InternalError::Invalid(format!(
                    "party_kind {:?} (expected machine or desk)",
                    other.chars().take(32).collect::<String>()
                )))
            }
        };
        let amount = || -> Result<Amount, InternalError> {
            Ok(Amount::new(self.amount.ok_or_else(|| {
                InternalError::Invalid("a voucher item without its amount".into())
            })?)?)
        };
        let op = VoucherOpKind::from_name(&self.op).ok_or_else(|| {
            InternalError::Invalid(format!(
                "voucher op {:?}",
                self.op.chars().take(32).collect::<String>()
            ))
        })?;
        let machine = || match &party {
            Party::Machine(m) => Ok(m.clone()),
            Party::Desk(_) => Err(InternalError::Invalid("a ticket fact from a desk".into())),
        };
        let op = match op {
            VoucherOpKind::Printed => {
                let fact = VoucherFact::Printed(machine()?, amount()?);
                return Ok((validation, VoucherParts::Fact(meta, fact)));
            }
            VoucherOpKind::Credited => {
                let fact = VoucherFact::Credited(machine()?, amount()?);
                return Ok((validation, VoucherParts::Fact(meta, fact)));
            }
            VoucherOpKind::Issue => VoucherOp::Issue(amount()?),
            VoucherOpKind::Redeem => VoucherOp::Redeem(amount()?),
            VoucherOpKind::Commit => VoucherOp::Commit,
            VoucherOpKind::Cancel => VoucherOp::Cancel,
            VoucherOpKind::Void => VoucherOp::Void(self.reason.as_deref().unwrap_or("").into()),
            // The sweep's lapse travels as `expire`: book what lapsed by its time.
            VoucherOpKind::Expire => return Ok((validation, VoucherParts::Lapse(meta))),
            VoucherOpKind::Release => {
                return Err(InternalError::Invalid(format!(
                    "voucher op {op} is not a message"
                )))
            }
        };
        let tx = TxId::new(self.tx.as_deref().unwrap_or(""))?;
        let currency = self.currency.as_deref().map(Currency::new).transpose()?;
        let cmd = VoucherCommand { party, tx, op };
        Ok((validation, VoucherParts::Command(meta, cmd, currency)))
    }
}

/// A desk command (from the input topic) or a cash operation a voucher applied for the desk,
/// for the instance that owns the desk (RULES.md D).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskItem<'a> {
    /// The desk.
    #[serde(borrow)]
    pub desk: Cow<'a, str>,
    /// The input event (UUID text).
    #[serde(borrow)]
    pub cause: Cow<'a, str>,
    /// Event time, ms since the Unix epoch.
    pub time: i64,
    /// The desk's hall.
    #[serde(borrow)]
    pub hall: Cow<'a, str>,
    /// `open`, `fill`, `credit`, `close` (commands), `cash_in`, `cash_out` (cash operations).
    #[serde(borrow)]
    pub op: Cow<'a, str>,
    /// A command's transaction id.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tx: Option<Cow<'a, str>>,
    /// Minor units: the float, the fill or credit, the counted cash, the cash moved.
    pub amount: i64,
    /// An open's cashier.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub cashier: Option<Cow<'a, str>>,
    /// A command's currency.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Cow<'a, str>>,
    /// A cash operation's source: `wallet` (RULES.md D-10); absent, a ticket's (D-3).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Cow<'a, str>>,
}

/// What a desk item carries, validated: the message without its completion token.
pub enum DeskParts {
    Command(DeskMeta, DeskCommand, Currency),
    Cash(DeskMeta, DeskCash, CashSource),
}

/// The item for a desk message.
pub fn desk_item<'a>(desk: &'a ServerId, msg: &'a DeskMsg, cause: &'a str) -> DeskItem<'a> {
    let mut source = None;
    let (meta, op, tx, amount, cashier, currency) = match msg {
        DeskMsg::Command {
            meta,
            cmd,
            currency,
            ..
        } => {
            let cashier = match &cmd.op {
                DeskOp::Open { cashier, .. } => Some(cashier.as_str().into()),
                _ => None,
            };
            (
                meta,
                cmd.op.kind().name(),
                Some(cmd.tx.as_str().into()),
                cmd.op.amount(),
                cashier,
                Some(currency.as_str().to_owned().into()),
            )
        }
        DeskMsg::Cash {
            meta,
            cash,
            source: from,
            ..
        } => {
            let op = match cash.dir {
                DeskCashDir::In => "cash_in",
                DeskCashDir::Out => "cash_out",
            };
            if *from != CashSource::Ticket {
                source = Some(from.name().into());
            }
            (meta, op, None, cash.amount, None, None)
        }
    };
    DeskItem {
        desk: desk.as_str().into(),
        cause: cause.into(),
        time: meta.time.0,
        hall: meta.hall.as_str().into(),
        op: op.into(),
        tx,
        amount,
        cashier,
        currency,
        source,
    }
}

impl DeskItem<'_> {
    /// Validates into the domain's types.
    pub fn to_domain(&self) -> Result<(ServerId, DeskParts), InternalError> {
        let desk = ServerId::new(&self.desk)?;
        let meta = DeskMeta {
            event_id: parse_event_id(&self.cause)?,
            time: Timestamp(self.time),
            hall: HallId::new(&self.hall)?,
        };
        let positive = || Amount::new(self.amount);
        let count = || {
            if self.amount < 0 {
                Err(InternalError::Invalid(format!(
                    "a desk count of {}",
                    self.amount
                )))
            } else {
                Ok(self.amount)
            }
        };
        let op = match &*self.op {
            "cash_in" | "cash_out" => {
                let dir = if self.op == "cash_in" {
                    DeskCashDir::In
                } else {
                    DeskCashDir::Out
                };
                let amount = positive()?.minor();
                let source = match self.source.as_deref() {
                    None => CashSource::Ticket,
                    Some(s) => CashSource::from_name(s).ok_or_else(|| {
                        InternalError::Invalid(format!("a desk cash source {s:?}"))
                    })?,
                };
                let cash = DeskCash { dir, amount };
                return Ok((desk, DeskParts::Cash(meta, cash, source)));
            }
            "open" => DeskOp::Open {
                cashier: self.cashier.as_deref().unwrap_or("").to_owned(),
                float: count()?,
            },
            "fill" => DeskOp::Fill(positive()?),
            "credit" => DeskOp::Credit(positive()?),
            "close" => DeskOp::Close { counted: count()? },
            other => {
                return Err(InternalError::Invalid(format!(
                    "desk op {:?}",
                    other.chars().take(32).collect::<String>()
                )))
            }
        };
        let tx = TxId::new(self.tx.as_deref().unwrap_or(""))?;
        let currency = Currency::new(self.currency.as_deref().unwrap_or(""))?;
        Ok((
            desk,
            DeskParts::Command(meta, DeskCommand { tx, op }, currency),
        ))
    }
}

/// Decodes a batch of desk messages.
pub fn decode_desk_ops(bytes: &[u8]) -> Result<Vec<DeskItem<'_>>, InternalError> {
    decode(bytes, Kind::DeskOps)
}

/// Decodes a batch of voucher messages.
pub fn decode_voucher_facts(bytes: &[u8]) -> Result<Vec<VoucherItem<'_>>, InternalError> {
    decode(bytes, Kind::VoucherFacts)
}

/// A machine's cashless transfer for its player's wallet (RULES.md W-10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletTransferItem<'a> {
    /// The wallet's player.
    #[serde(borrow)]
    pub player: Cow<'a, str>,
    /// The machine's event (UUID text): with `transfer`, what the wallet deduplicates by.
    #[serde(borrow)]
    pub cause: Cow<'a, str>,
    /// The event's booked time, ms since the Unix epoch.
    pub time: i64,
    /// The machine's hall.
    #[serde(borrow)]
    pub hall: Cow<'a, str>,
    /// The machine that moved the money.
    #[serde(borrow)]
    pub machine: Cow<'a, str>,
    /// The transfer id.
    #[serde(borrow)]
    pub transfer: Cow<'a, str>,
    /// `to_machine` or `from_machine`; `lapse` for the sweep's lapse; `command` for a wallet
    /// command from the input topic.
    #[serde(borrow)]
    pub direction: Cow<'a, str>,
    /// Minor units.
    pub amount: i64,
    /// A machine's transfer: the machine's effect number for the event, by which the wallet
    /// applies a redelivered fact once however old (0 or absent: not numbered, an item
    /// written before it existed).
    #[serde(default)]
    pub seq: u64,
    /// A wallet command (direction `command`): with several instances every wallet command
    /// goes through this topic, so that a wallet's commands and its machines' transfers are
    /// applied in one order, the same on every replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<WalletCommandItem>,
    /// A machine's transfer of restricted credits: `restricted` (RULES.md W-12); absent:
    /// cashable.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub credit_type: Option<Cow<'a, str>>,
}

/// A wallet command on the internal transfers topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletCommandItem {
    pub provider: String,
    pub tx: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<String>,
    /// The amount's currency (`None`: the command names none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub op: String,
    pub amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bet_tx: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kyc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<String>,
    /// A restricted transfer request's credit type (RULES.md W-12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
    /// A bonus award's wagering multiple (W-12; its expiry is `until`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wagering: Option<u32>,
}

/// What an item of the internal transfers topic carries for a wallet (RULES.md W-10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalletParts {
    /// A machine's transfer.
    Fact(TransferFact),
    /// The sweep's lapse of the wallet's holds.
    Lapse,
    /// A command from the input topic, with its amount's currency.
    Command(WalletCommand, Option<Currency>),
    /// What this machine tells the wallet about the player's play there, with the machine's
    /// effect number (0 for a card-in: RULES.md W-9, M-12, W-11).
    Player(MachineId, u64, PlayerFact),
}

/// The `direction` of an item that carries a wallet command.
const COMMAND: &str = "command";

/// The item for a wallet command.
pub fn wallet_command_item<'a>(
    player: &'a PlayerId,
    meta: &'a WalletMeta,
    cmd: &WalletCommand,
    currency: Option<&Currency>,
    cause: &'a str,
) -> WalletTransferItem<'a> {
    let f = OpFields::of(&cmd.op);
    WalletTransferItem {
        player: player.as_str().into(),
        cause: cause.into(),
        time: meta.time.0,
        hall: meta.hall.as_str().into(),
        machine: "".into(),
        transfer: "".into(),
        direction: COMMAND.into(),
        amount: 0,
        seq: 0,
        command: Some(WalletCommandItem {
            provider: cmd.provider.to_string(),
            tx: cmd.tx.to_string(),
            round: cmd.round.as_ref().map(|r| r.to_string()),
            currency: currency.map(|c| c.to_string()),
            op: f.op,
            amount: f.amount,
            bet_tx: f.bet_tx,
            kyc: f.kyc,
            period: f.period,
            limit: f.limit,
            until: f.until,
            machine: f.machine,
            transfer: f.transfer,
            credit: f.credit,
            wagering: f.wagering,
        }),
        credit_type: None,
    }
}

impl WalletCommandItem {
    fn to_domain(&self) -> Result<(WalletCommand, Option<Currency>), InternalError> {
        let op = OpFields {
            op: self.op.clone(),
            amount: self.amount,
            bet_tx: self.bet_tx.clone(),
            kyc: self.kyc.clone(),
            period: self.period.clone(),
            limit: self.limit,
            until: self.until,
            machine: self.machine.clone(),
            transfer: self.transfer.clone(),
            credit: self.credit.clone(),
            wagering: self.wagering,
        }
        .to_op()
        .map_err(|e| InternalError::Invalid(format!("a wallet command: {e}")))?;
        let cmd = WalletCommand {
            provider: ServerId::new(&self.provider)?,
            tx: TxId::new(&self.tx)?,
            op,
            round: self.round.as_deref().map(RoundId::new).transpose()?,
        };
        let currency = self.currency.as_deref().map(Currency::new).transpose()?;
        Ok((cmd, currency))
    }
}

/// The `direction` of an item that carries the sweep's lapse of a wallet's holds, not a
/// machine's fact (its `machine` and `transfer` are empty, its `amount` 0).
const LAPSE: &str = "lapse";

/// The item for a machine's transfer fact, or (without one) for the sweep's lapse.
pub fn wallet_transfer_item<'a>(
    player: &'a PlayerId,
    meta: &'a WalletMeta,
    fact: Option<&'a TransferFact>,
    cause: &'a str,
) -> WalletTransferItem<'a> {
    WalletTransferItem {
        player: player.as_str().into(),
        cause: cause.into(),
        time: meta.time.0,
        hall: meta.hall.as_str().into(),
        machine: fact.map_or("", |f| f.machine.as_str()).into(),
        transfer: fact.map_or("", |f| f.transfer.as_str()).into(),
        direction: fact.map_or(LAPSE, |f| f.direction.name()).into(),
        amount: fact.map_or(0, |f| f.amount.minor()),
        seq: fact.map_or(0, |f| f.seq),
        command: None,
        credit_type: fact
            .filter(|f| f.credit.is_restricted())
            .map(|f| f.credit.name().into()),
    }
}

/// The `direction` of an item that carries a player's card-in at a machine (RULES.md W-9;
/// its `transfer` is empty, its `amount` 0).
const CARD_IN: &str = "card_in";

/// The `direction`s of items that carry a carded-in player's cash at a machine (RULES.md
/// W-11; `amount`: the cash, `seq`: the machine's effect number, `transfer` empty).
const CASH_IN: &str = "cash_in";
const CASH_OUT: &str = "cash_out";

/// The `direction` of an item that carries a rated session's loyalty points (RULES.md
/// M-12; `amount`: the points, `seq`: the machine's effect number, `transfer` empty).
const POINTS: &str = "points";

/// An item a machine sends its player's wallet about the player, not about a transfer:
/// `direction` says what, `amount` how much, `seq` the machine's effect number.
fn player_item<'a>(
    player: &'a PlayerId,
    meta: &'a WalletMeta,
    machine: &'a MachineId,
    direction: &'static str,
    (amount, seq): (i64, u64),
    cause: &'a str,
) -> WalletTransferItem<'a> {
    WalletTransferItem {
        player: player.as_str().into(),
        cause: cause.into(),
        time: meta.time.0,
        hall: meta.hall.as_str().into(),
        machine: machine.as_str().into(),
        transfer: "".into(),
        direction: direction.into(),
        amount,
        seq,
        command: None,
        credit_type: None,
    }
}

/// The item for what a machine tells a player's wallet: a card-in (amount and number 0),
/// a rated session's points or a carded-in player's cash (with the machine's effect number).
pub fn wallet_player_item<'a>(
    player: &'a PlayerId,
    meta: &'a WalletMeta,
    machine: &'a MachineId,
    seq: u64,
    fact: PlayerFact,
    cause: &'a str,
) -> WalletTransferItem<'a> {
    let (direction, amount, seq) = match fact {
        PlayerFact::CardIn => (CARD_IN, 0, 0),
        PlayerFact::Points(points) => (POINTS, points, seq),
        PlayerFact::Cash(amount, CashDir::In) => (CASH_IN, amount, seq),
        PlayerFact::Cash(amount, CashDir::Out) => (CASH_OUT, amount, seq),
    };
    player_item(player, meta, machine, direction, (amount, seq), cause)
}

impl WalletTransferItem<'_> {
    /// Validates into the domain's types.
    pub fn to_domain(&self) -> Result<(PlayerId, WalletMeta, WalletParts), InternalError> {
        let meta = WalletMeta {
            event_id: parse_event_id(&self.cause)?,
            time: Timestamp(self.time),
            hall: HallId::new(&self.hall)?,
        };
        let player = PlayerId::new(&self.player)?;
        if self.direction == LAPSE {
            return Ok((player, meta, WalletParts::Lapse));
        }
        if self.direction == CASH_IN || self.direction == CASH_OUT {
            let machine = MachineId::new(&self.machine)?;
            let amount = Amount::new(self.amount)?.minor();
            let dir = if self.direction == CASH_IN {
                CashDir::In
            } else {
                CashDir::Out
            };
            let fact = PlayerFact::Cash(amount, dir);
            return Ok((player, meta, WalletParts::Player(machine, self.seq, fact)));
        }
        if self.direction == POINTS {
            let machine = MachineId::new(&self.machine)?;
            if self.amount <= 0 {
                return Err(InternalError::Invalid(format!(
                    "loyalty points {} (expected more than 0)",
                    self.amount
                )));
            }
            let fact = PlayerFact::Points(self.amount);
            return Ok((player, meta, WalletParts::Player(machine, self.seq, fact)));
        }
        if self.direction == CARD_IN {
            let machine = MachineId::new(&self.machine)?;
            let fact = PlayerFact::CardIn;
            return Ok((player, meta, WalletParts::Player(machine, 0, fact)));
        }
        if self.direction == COMMAND {
            let c = self.command.as_ref().ok_or_else(|| {
                InternalError::Invalid("a wallet command item without its command".into())
            })?;
            let (cmd, currency) = c.to_domain()?;
            return Ok((player, meta, WalletParts::Command(cmd, currency)));
        }
        let direction = Direction::from_name(&self.direction).ok_or_else(|| {
            InternalError::Invalid(format!(
                "direction {:?} (expected to_machine, from_machine, lapse, command, card_in, points, cash_in or cash_out)",
                self.direction.chars().take(32).collect::<String>()
            ))
        })?;
        let fact = TransferFact {
            transfer: TxId::new(&self.transfer)?,
            machine: MachineId::new(&self.machine)?,
            direction,
            amount: Amount::new(self.amount)?,
            credit: match self.credit_type.as_deref() {
                None => CreditType::Cashable,
                Some(c) => CreditType::from_name(c).ok_or_else(|| {
                    InternalError::Invalid(format!(
                        "credit type {:?} (expected cashable or restricted)",
                        c.chars().take(32).collect::<String>()
                    ))
                })?,
            },
            seq: self.seq,
        };
        Ok((player, meta, WalletParts::Fact(fact)))
    }
}

/// Decodes a batch of machines' transfer facts.
pub fn decode_wallet_transfers(bytes: &[u8]) -> Result<Vec<WalletTransferItem<'_>>, InternalError> {
    decode(bytes, Kind::WalletTransfers)
}

#[derive(Deserialize)]
struct Batch<'a, T> {
    schema_version: u32,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    items: Vec<T>,
}

/// Length of the fixed header [`BatchBuf`] writes.
fn header_len(kind: Kind) -> usize {
    // map(3), "schema_version", 1, "kind", <kind>, "items", array32(n)
    1 + 15 + 1 + 5 + 1 + kind.name().len() + 6 + 5
}

/// An outbox buffer: a batch under construction, which is the Kafka message's bytes.
#[derive(Debug)]
pub struct BatchBuf {
    kind: Kind,
    bytes: Vec<u8>,
    count: u32,
}

impl BatchBuf {
    /// An empty batch.
    pub fn new(kind: Kind) -> Self {
        let mut b = Self {
            kind,
            bytes: Vec::with_capacity(4096),
            count: 0,
        };
        b.reset();
        b
    }

    fn reset(&mut self) {
        self.bytes.clear();
        self.count = 0;
        let name = self.kind.name();
        self.bytes.push(0x83);
        self.bytes.push(0xa0 | 14);
        self.bytes.extend_from_slice(b"schema_version");
        self.bytes.push(INTERNAL_SCHEMA_VERSION as u8);
        self.bytes.push(0xa0 | 4);
        self.bytes.extend_from_slice(b"kind");
        self.bytes.push(0xa0 | name.len() as u8);
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0xa0 | 5);
        self.bytes.extend_from_slice(b"items");
        self.bytes.push(0xdd);
        self.bytes.extend_from_slice(&0u32.to_be_bytes());
        debug_assert_eq!(self.bytes.len(), header_len(self.kind));
    }

    /// Items in the batch.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// No items yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes so far.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Appends one item.
    pub fn push<T: Serialize>(&mut self, item: &T) {
        // Strings, integers and maps with string keys: writing into a Vec cannot fail.
        rmp_serde::encode::write_named(&mut self.bytes, item)
            .expect("an internal item always serializes");
        self.count += 1;
    }

    /// The finished message (valid until the next `push` or `clear`).
    pub fn message(&mut self) -> &[u8] {
        let at = header_len(self.kind) - 4;
        self.bytes[at..at + 4].copy_from_slice(&self.count.to_be_bytes());
        &self.bytes
    }

    /// Empties the batch, keeping its allocation.
    pub fn clear(&mut self) {
        self.reset();
    }
}

fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8], kind: Kind) -> Result<Vec<T>, InternalError> {
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
    de.set_max_depth(DEPTH_MAX);
    let batch: Batch<'a, T> =
        Batch::deserialize(&mut de).map_err(|e| InternalError::Decode(e.to_string()))?;
    if batch.schema_version != INTERNAL_SCHEMA_VERSION {
        return Err(InternalError::Version(batch.schema_version));
    }
    if batch.kind != kind.name() {
        return Err(InternalError::Kind {
            expected: kind.name(),
            got: batch.kind.chars().take(32).collect(),
        });
    }
    Ok(batch.items)
}

/// Reads a batch of pool commands.
pub fn decode_pool_commands(bytes: &[u8]) -> Result<Vec<PoolCommandItem<'_>>, InternalError> {
    decode(bytes, Kind::PoolCommands)
}

/// Reads a batch of GGR deltas.
pub fn decode_ggr_deltas(bytes: &[u8]) -> Result<Vec<GgrDeltaItem<'_>>, InternalError> {
    decode(bytes, Kind::GgrDeltas)
}

/// Reads a batch of machine awards.
pub fn decode_machine_awards(bytes: &[u8]) -> Result<Vec<MachineAwardItem<'_>>, InternalError> {
    decode(bytes, Kind::MachineAwards)
}

/// The text form of an event id, without allocating.
pub fn event_id_text(id: EventId, buf: &mut [u8; uuid::fmt::Hyphenated::LENGTH]) -> &str {
    uuid::Uuid::from_u128(id.0).hyphenated().encode_lower(buf)
}

fn parse_event_id(s: &str) -> Result<EventId, InternalError> {
    uuid::Uuid::try_parse(s)
        .map(|u| EventId(u.as_u128()))
        .map_err(|_| InternalError::Invalid(format!("cause {s:?} is not a UUID")))
}

fn source_kind(s: &SourceKey) -> (&'static str, &str) {
    match s {
        SourceKey::Machine(m) => ("machine", m.as_str()),
        SourceKey::Wallet(p) => ("wallet", p.as_str()),
        SourceKey::Award(m) => ("award", m.as_str()),
    }
}

fn parse_source(kind: &str, id: &str) -> Result<SourceKey, InternalError> {
    match kind {
        "machine" => Ok(SourceKey::Machine(MachineId::new(id)?)),
        "wallet" => Ok(SourceKey::Wallet(PlayerId::new(id)?)),
        "award" => Ok(SourceKey::Award(MachineId::new(id)?)),
        other => Err(InternalError::Invalid(format!(
            "source_kind {:?} (expected machine or wallet)",
            other.chars().take(32).collect::<String>()
        ))),
    }
}

/// The item for a pool message.
pub fn pool_item<'a>(
    pool: &'a PoolId,
    meta: &'a PoolMeta,
    cmd: &'a PoolCommand,
    machine_partition: i32,
    cause: &'a str,
) -> PoolCommandItem<'a> {
    let (source_kind, source) = source_kind(&meta.source);
    let mut ineligible = None;
    let (op, machine, bet, level, amount) = match cmd {
        PoolCommand::Contribute {
            machine,
            bet,
            eligible,
        } => {
            ineligible = (!eligible).then_some(true);
            ("contribute", machine, Some(bet.minor()), None, None)
        }
        PoolCommand::Claim {
            machine,
            level,
            bet,
            amount,
        } => (
            "claim",
            machine,
            Some(*bet),
            Some(*level),
            amount.map(|a| a.minor()),
        ),
    };
    PoolCommandItem {
        pool: pool.as_str().into(),
        source_kind: source_kind.into(),
        source: source.into(),
        seq: meta.seq,
        cause: cause.into(),
        op: op.into(),
        machine: machine.as_str().into(),
        bet,
        level,
        amount,
        ineligible,
        machine_partition,
    }
}

/// A decoded pool message: the pool, its meta and command, and the awarded machine's
/// input partition.
pub type PoolParts = (PoolId, PoolMeta, PoolCommand, i32);

impl PoolCommandItem<'_> {
    /// Validates into the domain's types.
    pub fn to_domain(&self) -> Result<PoolParts, InternalError> {
        let pool = PoolId::new(&self.pool)?;
        let machine = MachineId::new(&self.machine)?;
        let cmd = match (&*self.op, self.bet, self.level) {
            ("contribute", Some(bet), _) => PoolCommand::Contribute {
                machine,
                bet: Amount::new(bet)?,
                eligible: self.ineligible != Some(true),
            },
            ("claim", bet, Some(level)) => PoolCommand::Claim {
                machine,
                level,
                bet: bet.unwrap_or(0),
                amount: self.amount.map(Amount::new).transpose()?,
            },
            (op, _, _) => {
                return Err(InternalError::Invalid(format!(
                    "pool command {:?} without its field",
                    op.chars().take(32).collect::<String>()
                )))
            }
        };
        let meta = PoolMeta {
            source: parse_source(&self.source_kind, &self.source)?,
            seq: self.seq,
            cause: parse_event_id(&self.cause)?,
        };
        Ok((pool, meta, cmd, self.machine_partition))
    }
}

/// The item for a GGR delta.
pub fn ggr_item(d: &GgrDelta) -> GgrDeltaItem<'_> {
    let (source_kind, source) = source_kind(&d.source);
    GgrDeltaItem {
        hall: d.hall.as_str().into(),
        source_kind: source_kind.into(),
        source: source.into(),
        seq: d.seq,
        window_start: d.window.0,
        bets: d.bets,
        wins: d.wins,
        games: d.games,
        jackpots: d.jackpots,
        promo: d.promo,
        cause: ((d.cause.0 >> 64) as u64, d.cause.0 as u64),
    }
}

impl GgrDeltaItem<'_> {
    /// Validates into the domain's type.
    pub fn to_domain(&self) -> Result<GgrDelta, InternalError> {
        Ok(GgrDelta {
            source: parse_source(&self.source_kind, &self.source)?,
            seq: self.seq,
            cause: EventId((u128::from(self.cause.0) << 64) | u128::from(self.cause.1)),
            hall: HallId::new(&self.hall)?,
            window: Timestamp(self.window_start),
            bets: self.bets,
            wins: self.wins,
            games: self.games,
            jackpots: self.jackpots,
            promo: self.promo,
        })
    }
}

/// The item for an award.
pub fn award_item<'a>(hit: &'a JackpotHit, cause: &'a str) -> MachineAwardItem<'a> {
    MachineAwardItem {
        machine: hit.machine.as_str().into(),
        pool: hit.pool.as_str().into(),
        level: hit.level,
        name: hit.name.as_str().into(),
        amount: hit.amount.minor(),
        hit_number: hit.hit_number,
        cause: cause.into(),
    }
}

impl MachineAwardItem<'_> {
    /// Validates into the domain's type.
    pub fn to_domain(&self) -> Result<JackpotHit, InternalError> {
        Ok(JackpotHit {
            pool: PoolId::new(&self.pool)?,
            level: self.level,
            name: self.name.to_string(),
            amount: Amount::new(self.amount)?,
            machine: MachineId::new(&self.machine)?,
            hit_number: self.hit_number,
            cause: parse_event_id(&self.cause)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitboss_actors::domain::wallet::WalletOp;

    fn sample_pool() -> (PoolId, PoolMeta, PoolCommand) {
        let m = MachineId::new("M-001-00001").unwrap();
        (
            PoolId::new("WAP-1").unwrap(),
            PoolMeta {
                source: SourceKey::Machine(m.clone()),
                seq: 42,
                cause: EventId(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            },
            PoolCommand::Contribute {
                machine: m,
                bet: Amount::new(250).unwrap(),
                eligible: true,
            },
        )
    }

    #[test]
    fn pool_commands_round_trip() {
        let (pool, meta, cmd) = sample_pool();
        let claim = PoolCommand::Claim {
            machine: MachineId::new("M-2").unwrap(),
            level: 2,
            bet: 40,
            amount: Some(Amount::new(5_005).unwrap()),
        };
        let mut buf = BatchBuf::new(Kind::PoolCommands);
        let mut t = [0u8; 36];
        let cause = event_id_text(meta.cause, &mut t).to_owned();
        buf.push(&pool_item(&pool, &meta, &cmd, 3, &cause));
        buf.push(&pool_item(&pool, &meta, &claim, 5, &cause));
        assert_eq!(buf.len(), 2);
        let bytes = buf.message().to_vec();
        let items = decode_pool_commands(&bytes).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].to_domain().unwrap(),
            (pool.clone(), meta.clone(), cmd, 3)
        );
        assert_eq!(items[1].to_domain().unwrap(), (pool, meta, claim, 5));
        assert_eq!(cause, "01234567-89ab-cdef-0123-456789abcdef");
        // The buffer is reusable.
        buf.clear();
        assert!(buf.is_empty());
        assert!(decode_pool_commands(buf.message()).unwrap().is_empty());
    }

    #[test]
    fn ggr_deltas_and_awards_round_trip() {
        let d = GgrDelta {
            source: SourceKey::Wallet(PlayerId::new("P-0000001").unwrap()),
            seq: 7,
            cause: EventId(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            hall: HallId::new("ONLINE-1").unwrap(),
            window: Timestamp(1_800_000_000_000),
            bets: -50,
            wins: 0,
            games: 0,
            jackpots: 25,
            promo: 0,
        };
        let mut buf = BatchBuf::new(Kind::GgrDeltas);
        buf.push(&ggr_item(&d));
        let bytes = buf.message().to_vec();
        assert_eq!(
            decode_ggr_deltas(&bytes).unwrap()[0].to_domain().unwrap(),
            d
        );

        let hit = JackpotHit {
            pool: PoolId::new("WAP-1").unwrap(),
            level: 1,
            name: "major".into(),
            amount: Amount::new(123_456).unwrap(),
            machine: MachineId::new("M-9").unwrap(),
            hit_number: 3,
            cause: EventId(99),
        };
        let mut t = [0u8; 36];
        let cause = event_id_text(hit.cause, &mut t).to_owned();
        let mut buf = BatchBuf::new(Kind::MachineAwards);
        buf.push(&award_item(&hit, &cause));
        let bytes = buf.message().to_vec();
        assert_eq!(
            decode_machine_awards(&bytes).unwrap()[0]
                .to_domain()
                .unwrap(),
            hit
        );
    }

    /// RULES.md V-6: the sweep's lapse reaches the voucher's owner as what it is.
    #[test]
    fn a_sweeps_lapse_round_trips() {
        let validation = ValidationNo::new("100000000000000001").unwrap();
        let meta = VoucherMeta {
            event_id: EventId(77),
            time: Timestamp(1_800_000_000_000),
            hall: HallId::new("H-1").unwrap(),
        };
        let msg = VoucherMsg::Lapse {
            meta: meta.clone(),
            ack: pitboss_actors::shell::AckToken::none(),
        };
        let mut t = [0u8; 36];
        let cause = event_id_text(meta.event_id, &mut t).to_owned();
        let mut buf = BatchBuf::new(Kind::VoucherFacts);
        buf.push(&voucher_item(&validation, &msg, &cause));
        let bytes = buf.message().to_vec();
        let items = decode_voucher_facts(&bytes).unwrap();
        match items[0].to_domain().unwrap() {
            (v, VoucherParts::Lapse(m)) => assert_eq!((v, m), (validation, meta)),
            _ => panic!("not a lapse: {:?}", items[0]),
        }
    }

    #[test]
    fn a_transfer_fact_and_a_lapse_survive_the_round_trip_and_a_bad_direction_is_refused() {
        let player = PlayerId::new("P-7").unwrap();
        let meta = WalletMeta {
            event_id: EventId(91),
            time: Timestamp(1_800_000_000_000),
            hall: HallId::new("H-1").unwrap(),
        };
        let fact = TransferFact {
            transfer: TxId::new("X-1").unwrap(),
            machine: MachineId::new("M-17").unwrap(),
            direction: Direction::FromMachine,
            amount: Amount::new(2_500).unwrap(),
            credit: CreditType::Cashable,
            seq: 41,
        };
        let mut t = [0u8; 36];
        let cause = event_id_text(meta.event_id, &mut t).to_owned();
        let mut buf = BatchBuf::new(Kind::WalletTransfers);
        buf.push(&wallet_transfer_item(&player, &meta, Some(&fact), &cause));
        // The sweep's lapse travels in the same batches (RULES.md W-10).
        buf.push(&wallet_transfer_item(&player, &meta, None, &cause));
        // And a player's card-in at a machine (RULES.md W-9).
        let machine = MachineId::new("M-18").unwrap();
        let card_in = PlayerFact::CardIn;
        buf.push(&wallet_player_item(
            &player, &meta, &machine, 0, card_in, &cause,
        ));
        let bytes = buf.message().to_vec();
        let items = decode_wallet_transfers(&bytes).unwrap();
        assert_eq!(
            items[2].to_domain().unwrap(),
            (
                player.clone(),
                meta.clone(),
                WalletParts::Player(machine.clone(), 0, card_in)
            )
        );
        // And a rated session's loyalty points (RULES.md M-12); none is not an item.
        let mut pts = BatchBuf::new(Kind::WalletTransfers);
        for (seq, points) in [(9, 42), (10, 0)] {
            let fact = PlayerFact::Points(points);
            pts.push(&wallet_player_item(
                &player, &meta, &machine, seq, fact, &cause,
            ));
        }
        let pts = pts.message().to_vec();
        let pts = decode_wallet_transfers(&pts).unwrap();
        assert_eq!(
            pts[0].to_domain().unwrap(),
            (
                player.clone(),
                meta.clone(),
                WalletParts::Player(machine.clone(), 9, PlayerFact::Points(42))
            )
        );
        assert!(pts[1].to_domain().is_err());
        // And a carded-in player's cash (RULES.md W-11), both ways.
        let mut cash = BatchBuf::new(Kind::WalletTransfers);
        for dir in [CashDir::In, CashDir::Out] {
            let fact = PlayerFact::Cash(5_000, dir);
            cash.push(&wallet_player_item(
                &player, &meta, &machine, 11, fact, &cause,
            ));
        }
        let cash = cash.message().to_vec();
        let cash = decode_wallet_transfers(&cash).unwrap();
        for (i, dir) in [CashDir::In, CashDir::Out].into_iter().enumerate() {
            assert_eq!(
                cash[i].to_domain().unwrap().2,
                WalletParts::Player(machine.clone(), 11, PlayerFact::Cash(5_000, dir))
            );
        }
        assert_eq!(
            items[0].to_domain().unwrap(),
            (
                player.clone(),
                meta.clone(),
                WalletParts::Fact(fact.clone())
            )
        );
        assert_eq!(
            items[1].to_domain().unwrap(),
            (player.clone(), meta.clone(), WalletParts::Lapse)
        );
        // A machine's restricted credits keep their type (RULES.md W-12).
        let restricted = TransferFact {
            direction: Direction::ToMachine,
            credit: CreditType::Restricted,
            ..fact
        };
        let mut buf = BatchBuf::new(Kind::WalletTransfers);
        buf.push(&wallet_transfer_item(
            &player,
            &meta,
            Some(&restricted),
            &cause,
        ));
        let bytes = buf.message().to_vec();
        assert_eq!(
            decode_wallet_transfers(&bytes).unwrap()[0]
                .to_domain()
                .unwrap(),
            (player.clone(), meta.clone(), WalletParts::Fact(restricted))
        );
        // A wallet command travels the same way, every kind of operation intact.
        for (op, currency) in [
            (
                WalletOp::Win {
                    amount: Amount::new(700).unwrap(),
                    bet_tx: Some(TxId::new("B-1").unwrap()),
                },
                Some("EUR"),
            ),
            (
                WalletOp::TransferRequest {
                    machine: MachineId::new("M-1").unwrap(),
                    amount: Amount::new(50).unwrap(),
                    credit: CreditType::Restricted,
                },
                Some("EUR"),
            ),
            (
                WalletOp::BonusAward {
                    amount: Amount::new(700).unwrap(),
                    wagering: 35,
                    expires: Timestamp(1_900_000_000_000),
                },
                Some("EUR"),
            ),
            (
                WalletOp::TransferCancel {
                    transfer: TxId::new("X-1").unwrap(),
                },
                None,
            ),
            (
                WalletOp::SelfExclude {
                    until: Timestamp(1_900_000_000_000),
                },
                None,
            ),
        ] {
            let cmd = WalletCommand {
                provider: ServerId::new("GS-1").unwrap(),
                tx: TxId::new("T-1").unwrap(),
                op,
                round: Some(RoundId::new("R-1").unwrap()),
            };
            let currency = currency.map(|c| Currency::new(c).unwrap());
            let mut buf = BatchBuf::new(Kind::WalletTransfers);
            buf.push(&wallet_command_item(
                &player,
                &meta,
                &cmd,
                currency.as_ref(),
                &cause,
            ));
            let bytes = buf.message().to_vec();
            let items = decode_wallet_transfers(&bytes).unwrap();
            assert_eq!(
                items[0].to_domain().unwrap(),
                (
                    player.clone(),
                    meta.clone(),
                    WalletParts::Command(cmd, currency)
                )
            );
        }
        let mut bad = items[0].clone();
        bad.direction = "sideways".into();
        assert!(matches!(bad.to_domain(), Err(InternalError::Invalid(_))));
        assert!(
            decode_voucher_facts(&bytes).is_err(),
            "a batch of another kind is refused"
        );
    }

    #[test]
    fn the_header_is_a_standard_messagepack_map() {
        let (pool, meta, cmd) = sample_pool();
        let mut buf = BatchBuf::new(Kind::PoolCommands);
        buf.push(&pool_item(
            &pool,
            &meta,
            &cmd,
            0,
            "01234567-89ab-cdef-0123-456789abcdef",
        ));
        let v: serde_json::Value = rmp_serde::from_slice(buf.message()).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["kind"], "pool_commands");
        assert_eq!(v["items"][0]["pool"], "WAP-1");
        assert_eq!(v["items"][0]["bet"], 250);
        assert!(v["items"][0].get("level").is_none());
    }

    #[test]
    fn wrong_kind_version_and_garbage_are_errors() {
        let mut buf = BatchBuf::new(Kind::GgrDeltas);
        let e = decode_pool_commands(buf.message()).unwrap_err();
        assert!(matches!(e, InternalError::Kind { .. }), "{e}");
        assert!(matches!(
            decode_ggr_deltas(b"\xc1"),
            Err(InternalError::Decode(_))
        ));
        let mut v = BatchBuf::new(Kind::GgrDeltas).message().to_vec();
        v[16] = 2;
        assert_eq!(
            decode_ggr_deltas(&v).unwrap_err(),
            InternalError::Version(2)
        );
        let item = MachineAwardItem {
            machine: "M-1".into(),
            pool: "WAP-1".into(),
            level: 0,
            name: "grand".into(),
            amount: 0,
            hit_number: 1,
            cause: "01234567-89ab-cdef-0123-456789abcdef".into(),
        };
        assert!(item.to_domain().is_err(), "a zero award is refused");
    }
}
