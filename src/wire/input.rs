//! The owned form of an input event, as producers build and encode it.

use pitboss_actors::domain::transfer::Direction;
use serde::{Deserialize, Serialize};

use super::WireError;

/// An input event as it travels on `pitboss.game-events`.
///
/// Fields are plain wire values (strings, integers): this type checks nothing, so it can
/// also describe the invalid messages tests need. Validation happens when it becomes a
/// domain input ([`super::decode_input`], or `Input::try_from(&envelope)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputEnvelope {
    /// The event's id, a UUID in hyphenated text form; the idempotency key of everything
    /// the event causes.
    pub event_id: String,
    /// The schema version: 1 or 2 ([`super::INPUT_SCHEMA_VERSIONS`]).
    pub schema_version: u32,
    /// Who sent the event.
    pub source: Source,
    /// The source's sequence-number epoch (version 2, machine sources): raised by the
    /// machine interface when its numbering restarts (RAM clear, gateway restart). Absent in
    /// version 1, which means epoch 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// The source's sequence number.
    pub seq: u64,
    /// When the event happened at the source, in milliseconds since the Unix epoch.
    pub event_time: i64,
    /// When the hall gateway received the event from the machine (version 2), ms since the
    /// Unix epoch; kept through store-and-forward. The event time is checked against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_time: Option<i64>,
    /// What happened.
    pub payload: InputPayload,
}

/// The sender of an event: a hall and exactly one of a machine or a game server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The hall (or online brand).
    pub hall: String,
    /// The machine, for machine events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// The game server (or cash desk), for wallet commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// What happened: externally tagged, a map with one key naming the kind.
///
/// Amounts are integer minor units. `kind` of cash in is `bill`, `ticket` or `cashless`; of
/// cash out `ticket`, `cashless` or `handpay`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputPayload {
    /// A wager on a machine.
    Bet {
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
    },
    /// A payout of the game in progress.
    Win {
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
    },
    /// The game in progress ended.
    GameEnd {},
    /// Money entered the machine.
    CashIn {
        /// `bill`, `ticket` or `cashless`.
        kind: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
        /// A `ticket`'s validation number (18 digits): the voucher it redeems (RULES.md
        /// V-5). Only with kind `ticket`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        validation: Option<String>,
        /// Version 2, kind `cashless` only: the credit type of the transfer, `cashable`
        /// (the default), `restricted` or `nonrestricted` (promotional credits, RULES.md
        /// M-13).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credit_type: Option<String>,
    },
    /// Money left the machine.
    CashOut {
        /// `ticket`, `cashless` or `handpay`.
        kind: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
        /// A `ticket`'s validation number (18 digits): the voucher it issues (RULES.md
        /// V-2). Only with kind `ticket`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        validation: Option<String>,
    },
    /// A player card was inserted.
    CardIn { player: String },
    /// The player card was removed.
    CardOut {},
    /// The machine reports a progressive hit.
    JackpotHit {
        pool: String,
        /// The level index (0 = first level).
        level: u8,
        /// What the machine showed and paid, in minor units (version 2); without it the
        /// pool pays the level's amount.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<i64>,
        /// ISO 4217 code of `amount` (required with it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
    },
    /// A cabinet door opened.
    DoorOpen {},
    /// A cabinet door closed.
    DoorClose {},
    /// The machine tilted.
    Tilt {
        /// The machine's tilt code.
        code: u32,
    },
    /// The tilt was cleared.
    TiltClear {},
    /// The machine lost communication with its host.
    CommsLost {},
    /// Communication restored.
    CommsRestored {},
    /// The machine lost its power (RULES.md M-6).
    PowerOff {},
    /// The machine was powered on.
    PowerOn {},
    /// The machine's absolute meters (RULES.md M-8), sent periodically, at door close and at
    /// the end of the gaming day.
    MeterSnapshot {
        /// `periodic`, `door_close`, `day_end` or `request`.
        reason: String,
        /// ISO 4217 code of the money meters.
        currency: String,
        /// The meters, absolute.
        meters: SnapshotMeters,
    },
    /// The machine locked up to pay by hand (RULES.md M-10).
    HandpayPending {
        /// `cancelled_credits` (the player's credits) or `jackpot` (a win above the
        /// machine's handpay limit).
        kind: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
    },
    /// An attendant paid the oldest pending handpay and reset the machine (RULES.md M-10).
    HandpayReset {
        /// The attendant's id.
        attendant: String,
    },
    /// A cash desk sells a ticket (RULES.md V-2); `source.server` is the desk. Kafka key:
    /// the validation number.
    VoucherIssue {
        /// 18 digits.
        validation: String,
        /// The desk's transaction id (V-7).
        tx: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
    },
    /// A redemption request (V-3) from a machine's gateway (`source.machine`) or a desk
    /// (`source.server`), with the amount the ticket shows.
    VoucherRedeem {
        validation: String,
        tx: String,
        amount: i64,
        currency: String,
    },
    /// A desk pays the voucher it holds (V-4); `source.server` is the desk.
    VoucherCommit { validation: String, tx: String },
    /// The holder releases its hold (V-4): machine or desk.
    VoucherCancel { validation: String, tx: String },
    /// A back office voids an issued voucher (V-6); `source.server` is the back office.
    VoucherVoid {
        validation: String,
        tx: String,
        /// Why, in words (audited).
        reason: String,
    },
    /// A cashier opens the desk's next shift with the counted float (RULES.md D-1);
    /// `source.server` is the desk. Kafka key: the desk.
    ShiftOpen {
        /// The desk's transaction id (D-6).
        tx: String,
        /// The cashier's id, 1 to 64 bytes.
        cashier: String,
        /// The counted float, minor units, >= 0.
        float: i64,
        currency: String,
    },
    /// Cash from the vault into the desk's drawer (D-2).
    DeskFill {
        tx: String,
        amount: i64,
        currency: String,
    },
    /// Cash from the desk's drawer to the vault (D-2).
    DeskCredit {
        tx: String,
        amount: i64,
        currency: String,
    },
    /// The cashier closes the open shift with the counted cash (D-4).
    ShiftClose {
        tx: String,
        /// The counted cash, minor units, >= 0.
        counted: i64,
        currency: String,
    },
    /// Money into a wallet.
    Deposit {
        /// The wallet's player.
        player: String,
        /// Transaction id (idempotency key).
        tx: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
        /// The game provider's round (version 2, RULES.md E-2): part of the command's
        /// content, echoed in its answer. Ignored in a version 1 event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        round: Option<String>,
    },
    /// Money out of a wallet.
    Withdraw {
        /// The wallet's player.
        player: String,
        /// Transaction id (idempotency key).
        tx: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
        /// The game provider's round (version 2, RULES.md E-2): part of the command's
        /// content, echoed in its answer. Ignored in a version 1 event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        round: Option<String>,
    },
    /// A wager debited from a wallet.
    WalletBet {
        /// The wallet's player.
        player: String,
        /// Transaction id (idempotency key).
        tx: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
        /// The game provider's round (version 2, RULES.md E-2): part of the command's
        /// content, echoed in its answer. Ignored in a version 1 event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        round: Option<String>,
    },
    /// A payout credited to a wallet.
    WalletWin {
        /// The wallet's player.
        player: String,
        /// Transaction id (idempotency key).
        tx: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
        /// The bet it settles, if the game server says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bet_tx: Option<String>,
        /// The game provider's round (version 2, RULES.md E-2): part of the command's
        /// content, echoed in its answer. Ignored in a version 1 event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        round: Option<String>,
    },
    /// The KYC provider's word on a player (RULES.md W-8): `unverified`, `verified` or
    /// `blocked`. A wallet command (Kafka key: the player), answered like the others;
    /// `source.server` is the KYC service.
    KycStatus {
        /// The wallet's player.
        player: String,
        /// Transaction id (idempotency key).
        tx: String,
        /// `unverified`, `verified` or `blocked`.
        status: String,
    },
    /// A player's deposit limit for a period (RULES.md W-9): `day`, `week` or `month` in
    /// the jurisdiction's local time; without `amount` the limit is removed. A wallet
    /// command; `source.server` is the operator's responsible-gaming service.
    DepositLimit {
        /// The wallet's player.
        player: String,
        /// Transaction id (idempotency key).
        tx: String,
        /// `day`, `week` or `month`.
        period: String,
        /// The limit in minor units; absent: no limit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<i64>,
        /// ISO 4217 code, with `amount`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
    },
    /// A player's loss limit for a period (RULES.md W-9): the most the player may lose (bets
    /// less wins and refunds) in a local day, week or month; without `amount` the limit is
    /// removed. A wallet command like `deposit_limit`.
    LossLimit {
        /// The wallet's player.
        player: String,
        /// Transaction id (idempotency key).
        tx: String,
        /// `day`, `week` or `month`.
        period: String,
        /// The limit in minor units; absent: no limit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<i64>,
        /// ISO 4217 code, with `amount`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
    },
    /// A player's session limit (RULES.md W-9): the longest a playing session (bets and
    /// wins with no break longer than `responsible-gaming.session-break-minutes`) may last,
    /// in minutes (1 to 1440); without `minutes` the limit is removed.
    SessionLimit {
        /// The wallet's player.
        player: String,
        /// Transaction id (idempotency key).
        tx: String,
        /// The limit in minutes; absent: no limit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minutes: Option<i64>,
    },
    /// A player excludes themself from deposits and bets until a time (RULES.md W-9).
    SelfExclusion {
        /// The wallet's player.
        player: String,
        /// Transaction id (idempotency key).
        tx: String,
        /// The end of the exclusion, ms since the Unix epoch.
        until: i64,
    },
    /// Holds money in the player's wallet for a cashless transfer to a machine (RULES.md
    /// W-10). A wallet command; `source.server` is the cashless host; `tx` is the transfer
    /// id the machine's `cashless_transfer` names.
    TransferRequest {
        /// The wallet's player.
        player: String,
        /// The transfer id (idempotency key).
        tx: String,
        /// The machine the money is for.
        machine: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
        /// Version 2 (RULES.md W-12): `cashable` (absent: the cash) or `restricted` (the
        /// bonus, which the machine takes as restricted promotional credits).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credit_type: Option<String>,
    },
    /// Gives back the money held for a transfer its machine did not take (RULES.md W-10).
    TransferCancel {
        /// The wallet's player.
        player: String,
        /// Transaction id of the cancel itself.
        tx: String,
        /// The transfer to cancel.
        transfer: String,
    },
    /// A cashless transfer the machine made (RULES.md W-10): `to_machine` (credits in from
    /// the player's wallet, the acknowledgement of a `transfer_request`) or `from_machine`
    /// (credits out to the wallet). A machine event, counted as a cashless cash in or out.
    CashlessTransfer {
        /// The transfer id.
        transfer: String,
        /// Whose wallet.
        player: String,
        /// `to_machine` or `from_machine`.
        direction: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
        /// Version 2 (RULES.md W-12): the credits the machine took, `cashable` (absent) or
        /// `restricted` (to the machine only: counted on its `restricted_in`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credit_type: Option<String>,
    },
    /// Awards a player bonus money (RULES.md W-12): stakeable only, it becomes cash once
    /// `wagering` times its amount was staked, and is gone at `expires_at`. A wallet
    /// command; `source.server` is the promotions system.
    BonusAward {
        /// The wallet's player.
        player: String,
        /// Transaction id (idempotency key).
        tx: String,
        /// Amount in minor units.
        amount: i64,
        /// ISO 4217 code.
        currency: String,
        /// The wagering requirement, a multiple of the amount (0 to 100).
        wagering: i64,
        /// When the bonus expires, ms since the Unix epoch (after the command's time).
        expires_at: i64,
    },
    /// Cancels a bet (refunds it, or refuses it in advance if it has not arrived).
    Rollback {
        /// The wallet's player.
        player: String,
        /// Transaction id of the rollback itself.
        tx: String,
        /// The bet to cancel.
        bet_tx: String,
        /// ISO 4217 code.
        currency: String,
        /// The game provider's round (version 2, RULES.md E-2): part of the command's
        /// content, echoed in its answer. Ignored in a version 1 event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        round: Option<String>,
    },
}

/// A machine's absolute meters as a snapshot carries them (RULES.md M-8): money in minor
/// units, games as counts; each 0 to 2^63-1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeters {
    /// Total wagered.
    pub coin_in: i64,
    /// Total won by games.
    pub coin_out: i64,
    /// Jackpot awards paid.
    pub jackpot: i64,
    /// Cancelled credits paid by hand.
    pub handpaid: i64,
    pub games_played: i64,
    pub games_won: i64,
    pub bills_in: i64,
    pub tickets_in: i64,
    pub tickets_out: i64,
    pub cashless_in: i64,
    pub cashless_out: i64,
}

impl SnapshotMeters {
    /// Moves the meters as a machine's own would for an event it sends (simulators and
    /// generators that report snapshots): `game_won` is the open game's "paid something"
    /// flag, set by a win and taken by the game end.
    pub fn count(&mut self, payload: &InputPayload, game_won: &mut bool) {
        match payload {
            InputPayload::Bet { amount, .. } => self.coin_in += amount,
            InputPayload::Win { amount, .. } => {
                self.coin_out += amount;
                *game_won = true;
            }
            InputPayload::GameEnd {} => {
                self.games_played += 1;
                if std::mem::take(game_won) {
                    self.games_won += 1;
                }
            }
            InputPayload::CashIn {
                kind,
                amount,
                credit_type,
                ..
            } => match (kind.as_str(), credit_type.as_deref()) {
                ("bill", _) => self.bills_in += amount,
                ("ticket", _) => self.tickets_in += amount,
                // RULES.md M-13: promotional credits have meters of their own.
                (_, Some("restricted" | "nonrestricted")) => {}
                _ => self.cashless_in += amount,
            },
            InputPayload::CashOut { kind, amount, .. } => match kind.as_str() {
                "ticket" => self.tickets_out += amount,
                "cashless" => self.cashless_out += amount,
                _ => self.handpaid += amount,
            },
            // RULES.md W-10: a transfer is a cashless cash-in or cash-out.
            InputPayload::CashlessTransfer {
                direction,
                amount,
                credit_type,
                ..
            } => match Direction::from_name(direction) {
                // W-12: restricted credits count on the promotional meters.
                Some(Direction::ToMachine) if credit_type.as_deref() == Some("restricted") => {}
                Some(Direction::ToMachine) => self.cashless_in += amount,
                Some(Direction::FromMachine) => self.cashless_out += amount,
                None => {}
            },
            _ => {}
        }
    }
}

impl InputPayload {
    /// The kind's name on the wire (the payload map's key).
    pub fn kind(&self) -> &'static str {
        match self {
            InputPayload::Bet { .. } => "bet",
            InputPayload::Win { .. } => "win",
            InputPayload::GameEnd {} => "game_end",
            InputPayload::CashIn { .. } => "cash_in",
            InputPayload::CashOut { .. } => "cash_out",
            InputPayload::CardIn { .. } => "card_in",
            InputPayload::CardOut {} => "card_out",
            InputPayload::JackpotHit { .. } => "jackpot_hit",
            InputPayload::DoorOpen {} => "door_open",
            InputPayload::DoorClose {} => "door_close",
            InputPayload::Tilt { .. } => "tilt",
            InputPayload::TiltClear {} => "tilt_clear",
            InputPayload::CommsLost {} => "comms_lost",
            InputPayload::CommsRestored {} => "comms_restored",
            InputPayload::PowerOff {} => "power_off",
            InputPayload::PowerOn {} => "power_on",
            InputPayload::MeterSnapshot { .. } => "meter_snapshot",
            InputPayload::HandpayPending { .. } => "handpay_pending",
            InputPayload::HandpayReset { .. } => "handpay_reset",
            InputPayload::Deposit { .. } => "deposit",
            InputPayload::Withdraw { .. } => "withdraw",
            InputPayload::WalletBet { .. } => "wallet_bet",
            InputPayload::WalletWin { .. } => "wallet_win",
            InputPayload::Rollback { .. } => "rollback",
            InputPayload::KycStatus { .. } => "kyc_status",
            InputPayload::DepositLimit { .. } => "deposit_limit",
            InputPayload::LossLimit { .. } => "loss_limit",
            InputPayload::SessionLimit { .. } => "session_limit",
            InputPayload::SelfExclusion { .. } => "self_exclusion",
            InputPayload::VoucherIssue { .. } => "voucher_issue",
            InputPayload::VoucherRedeem { .. } => "voucher_redeem",
            InputPayload::VoucherCommit { .. } => "voucher_commit",
            InputPayload::VoucherCancel { .. } => "voucher_cancel",
            InputPayload::VoucherVoid { .. } => "voucher_void",
            InputPayload::TransferRequest { .. } => "transfer_request",
            InputPayload::TransferCancel { .. } => "transfer_cancel",
            InputPayload::CashlessTransfer { .. } => "cashless_transfer",
            InputPayload::BonusAward { .. } => "bonus_award",
            InputPayload::ShiftOpen { .. } => "shift_open",
            InputPayload::DeskFill { .. } => "desk_fill",
            InputPayload::DeskCredit { .. } => "desk_credit",
            InputPayload::ShiftClose { .. } => "shift_close",
        }
    }

    /// Whether it is a desk's shift command (RULES.md D), keyed by the desk.
    pub fn is_desk_command(&self) -> bool {
        matches!(
            self,
            InputPayload::ShiftOpen { .. }
                | InputPayload::DeskFill { .. }
                | InputPayload::DeskCredit { .. }
                | InputPayload::ShiftClose { .. }
        )
    }

    /// The validation number of a voucher command (RULES.md V-1), `None` for other events.
    pub fn voucher(&self) -> Option<&str> {
        match self {
            InputPayload::VoucherIssue { validation, .. }
            | InputPayload::VoucherRedeem { validation, .. }
            | InputPayload::VoucherCommit { validation, .. }
            | InputPayload::VoucherCancel { validation, .. }
            | InputPayload::VoucherVoid { validation, .. } => Some(validation),
            _ => None,
        }
    }

    /// The player of a wallet command, `None` for machine events.
    pub fn player(&self) -> Option<&str> {
        match self {
            InputPayload::Deposit { player, .. }
            | InputPayload::Withdraw { player, .. }
            | InputPayload::WalletBet { player, .. }
            | InputPayload::WalletWin { player, .. }
            | InputPayload::Rollback { player, .. }
            | InputPayload::KycStatus { player, .. }
            | InputPayload::DepositLimit { player, .. }
            | InputPayload::LossLimit { player, .. }
            | InputPayload::SessionLimit { player, .. }
            | InputPayload::SelfExclusion { player, .. }
            | InputPayload::TransferRequest { player, .. }
            | InputPayload::TransferCancel { player, .. }
            | InputPayload::BonusAward { player, .. } => Some(player),
            _ => None,
        }
    }

    /// The round a wallet command names (version 2), `None` without one and for machine
    /// events.
    pub fn round(&self) -> Option<&str> {
        match self {
            InputPayload::Deposit { round, .. }
            | InputPayload::Withdraw { round, .. }
            | InputPayload::WalletBet { round, .. }
            | InputPayload::WalletWin { round, .. }
            | InputPayload::Rollback { round, .. } => round.as_deref(),
            _ => None,
        }
    }

    /// Sets (or clears) a wallet command's round; machine events have none and are left
    /// as they are.
    pub fn set_round(&mut self, to: Option<String>) {
        match self {
            InputPayload::Deposit { round, .. }
            | InputPayload::Withdraw { round, .. }
            | InputPayload::WalletBet { round, .. }
            | InputPayload::WalletWin { round, .. }
            | InputPayload::Rollback { round, .. } => *round = to,
            _ => {}
        }
    }
}

impl InputEnvelope {
    /// A machine event of schema version 1.
    pub fn machine(
        event_id: uuid::Uuid,
        hall: &str,
        machine: &str,
        seq: u64,
        event_time: i64,
        payload: InputPayload,
    ) -> Self {
        Self {
            event_id: event_id.hyphenated().to_string(),
            schema_version: 1,
            source: Source {
                hall: hall.to_owned(),
                machine: Some(machine.to_owned()),
                server: None,
            },
            epoch: None,
            seq,
            event_time,
            receive_time: None,
            payload,
        }
    }

    /// A wallet command of schema version 1, sent by a game server.
    pub fn wallet(
        event_id: uuid::Uuid,
        hall: &str,
        server: &str,
        seq: u64,
        event_time: i64,
        payload: InputPayload,
    ) -> Self {
        Self {
            event_id: event_id.hyphenated().to_string(),
            schema_version: 1,
            source: Source {
                hall: hall.to_owned(),
                machine: None,
                server: Some(server.to_owned()),
            },
            epoch: None,
            seq,
            event_time,
            receive_time: None,
            payload,
        }
    }

    /// The Kafka key the event is produced with: the player for wallet commands, the
    /// validation number for voucher commands (RULES.md V-1), the desk for a desk's shift
    /// commands (D), the machine otherwise (empty if the source names none).
    pub fn kafka_key(&self) -> &str {
        match (self.payload.player(), self.payload.voucher()) {
            (Some(player), _) => player,
            (None, Some(validation)) => validation,
            (None, None) if self.payload.is_desk_command() => {
                self.source.server.as_deref().unwrap_or("")
            }
            (None, None) => self.source.machine.as_deref().unwrap_or(""),
        }
    }

    /// The MessagePack bytes (a map with field names, `rmp_serde::to_vec_named`).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Strings, integers and maps with string keys: serializing into a Vec cannot fail.
        rmp_serde::to_vec_named(self).expect("an InputEnvelope always serializes")
    }

    /// Reads the owned form back from bytes, checking the shape but none of the values
    /// (tools and tests; the processor uses [`super::decode_input`]).
    ///
    /// # Errors
    ///
    /// [`WireError`] when the bytes are not one MessagePack map of the envelope's shape.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() > super::MESSAGE_BYTES_MAX {
            return Err(WireError::Oversize { len: bytes.len() });
        }
        super::scan::check_one_map(bytes)?;
        let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
        de.set_max_depth(super::NESTING_DEPTH_MAX);
        Self::deserialize(&mut de).map_err(WireError::from_rmp)
    }
}
