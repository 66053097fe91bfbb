//! E-1 and E-2: what is a valid event, read straight from the envelope's fields.

use std::collections::BTreeMap;

use crate::wire::{InputEnvelope, InputPayload};

use super::types::AMOUNT_MAX;

/// A valid event.
#[derive(Clone, Debug)]
pub enum Event {
    /// From a machine.
    Machine(MachineEvent),
    /// A wallet command from a provider.
    Wallet(WalletEvent),
    /// A voucher command from a machine's gateway or a desk (V-2..V-6).
    Voucher(VoucherEvent),
    /// A cash desk's shift command (D-1, D-2, D-4).
    Desk(DeskEvent),
}

/// A cash desk's command (D-1, D-2, D-4).
#[derive(Clone, Debug)]
pub struct DeskEvent {
    /// Event id text.
    pub id: String,
    /// The desk (`source.server`).
    pub desk: String,
    /// Its hall (`source.hall`).
    pub hall: String,
    /// The desk's transaction id (D-6).
    pub tx: String,
    /// Event time, as sent (a desk's clock is not checked, E-3 being for machines).
    pub time: i64,
    /// The currency of its amount.
    pub currency: String,
    /// What it asks.
    pub op: DeskOpModel,
}

/// A desk operation; with the currency, a command's content (D-6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeskOpModel {
    /// D-1: a shift for this cashier with this float.
    Open(String, i64),
    /// D-2: cash from the vault.
    Fill(i64),
    /// D-2: cash to the vault.
    Credit(i64),
    /// D-4: the shift closed with this much counted.
    Close(i64),
}

impl DeskOpModel {
    /// The operation's name on the wire's output (D-7).
    pub fn name(&self) -> &'static str {
        match self {
            DeskOpModel::Open(..) => "open",
            DeskOpModel::Fill(_) => "fill",
            DeskOpModel::Credit(_) => "credit",
            DeskOpModel::Close(_) => "close",
        }
    }

    /// The float, amount or counted it names.
    pub fn amount(&self) -> i64 {
        match self {
            DeskOpModel::Open(_, a)
            | DeskOpModel::Fill(a)
            | DeskOpModel::Credit(a)
            | DeskOpModel::Close(a) => *a,
        }
    }
}

/// A machine's event.
#[derive(Clone, Debug)]
pub struct MachineEvent {
    /// Event id text.
    pub id: String,
    /// The machine.
    pub machine: String,
    /// The hall its source names.
    pub hall: String,
    /// Sequence epoch (0 in version 1).
    pub epoch: u64,
    /// Sequence number.
    pub seq: u64,
    /// Event time.
    pub time: i64,
    /// Receive time (version 2).
    pub receive: Option<i64>,
    /// What happened.
    pub what: MachineWhat,
}

/// What a machine reports.
#[derive(Clone, Debug)]
pub enum MachineWhat {
    /// A wager.
    Bet(i64, String),
    /// A payout.
    Win(i64, String),
    /// The game ended.
    GameEnd,
    /// Money in: meter name, amount, currency, and a ticket's validation number (V-5).
    CashIn(&'static str, i64, String, Option<String>),
    /// Money out: meter name, amount, currency, and a ticket's validation number (V-2).
    CashOut(&'static str, i64, String, Option<String>),
    /// Card in.
    CardIn(String),
    /// Card out.
    CardOut,
    /// A progressive hit: pool, level, amount and currency (version 2).
    JackpotHit(String, u8, Option<(i64, String)>),
    /// Door opened.
    DoorOpen,
    /// Door closed.
    DoorClose,
    /// Tilt with a code.
    Tilt(u32),
    /// Tilt cleared.
    TiltClear,
    /// Comms lost.
    CommsLost,
    /// Comms restored.
    CommsRestored,
    /// Power lost.
    PowerOff,
    /// Powered on.
    PowerOn,
    /// Absolute meters (M-8), by their names in the snapshot, with the currency.
    MeterSnapshot(BTreeMap<&'static str, i64>, String),
    /// A handpay pending (M-10): kind, amount, currency.
    HandpayPending(&'static str, i64, String),
    /// A handpay reset by an attendant (M-10).
    HandpayReset(String),
    /// A cashless transfer (W-10): transfer id, player, `true` to the machine (its
    /// cashless cash-in) or `false` from it (its cashless cash-out), amount, currency, and
    /// (W-12) whether the machine took restricted credits (to it only).
    Transfer(String, String, bool, i64, String, bool),
}

/// The meters a snapshot carries (M-8), by name.
pub const SNAPSHOT_METERS: [&str; 11] = [
    "coin_in",
    "coin_out",
    "jackpot",
    "handpaid",
    "games_played",
    "games_won",
    "bills_in",
    "tickets_in",
    "tickets_out",
    "cashless_in",
    "cashless_out",
];

/// A wallet command.
#[derive(Clone, Debug)]
pub struct WalletEvent {
    /// Event id text.
    pub id: String,
    /// The player.
    pub player: String,
    /// The provider (the source's server).
    pub provider: String,
    /// The hall (online brand) whose revenue it counts in.
    pub hall: String,
    /// The transaction id.
    pub tx: String,
    /// Event time (booked as sent: E-3 is for machine clocks).
    pub time: i64,
    /// Currency of the command.
    pub currency: String,
    /// The game round it names (version 2); with the operation and the currency, its
    /// content (W-2).
    pub round: Option<String>,
    /// What it asks.
    pub op: WalletOpModel,
}

/// A wallet operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalletOpModel {
    /// Money in.
    Deposit(i64),
    /// Money out.
    Withdraw(i64),
    /// A wager.
    Bet(i64),
    /// A payout, naming the bet it settles or not.
    Win(i64, Option<String>),
    /// Cancel a bet.
    Rollback(String),
    /// W-8: the KYC provider's word (`unverified`, `verified`, `blocked`).
    Kyc(String),
    /// W-9: a `deposit` or `loss` limit for `day`, `week` or `month`, or a `session` limit
    /// in ms (no period); `None` removes it.
    Limit(String, String, Option<i64>),
    /// W-9: excluded until this time (ms).
    SelfExclusion(i64),
    /// W-10: hold this amount for a transfer (the command's tx) to this machine; W-12:
    /// `true` holds bonus for restricted credits.
    TransferRequest(String, i64, bool),
    /// W-10: give back the hold of this transfer.
    TransferCancel(String),
    /// W-12: a bonus of this amount, to be wagered this many times its amount, expiring at
    /// this time (ms).
    BonusAward(i64, i64, i64),
}

/// Who sends a voucher command or reports a ticket (V-2..V-4): a machine (its gateway), or
/// a server (a cash desk, a back office). A machine and a server of the same name are two
/// parties.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Party {
    /// `source.machine`.
    Machine(String),
    /// `source.server`.
    Desk(String),
}

/// A voucher command.
#[derive(Clone, Debug)]
pub struct VoucherEvent {
    /// Event id text.
    pub id: String,
    /// The voucher's validation number (V-1).
    pub validation: String,
    /// Who sent it.
    pub party: Party,
    /// The sender's hall (`source.hall`).
    pub hall: String,
    /// The sender's transaction id (V-7).
    pub tx: String,
    /// Event time, as sent (V-6: the voucher's time is the event time of what it applies).
    pub time: i64,
    /// The currency of the amount; `None` for the commands that name no amount.
    pub currency: Option<String>,
    /// What it asks.
    pub op: VoucherOpModel,
}

/// A voucher operation; with the currency, a command's content (V-7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoucherOpModel {
    /// A desk sells a ticket for this amount (V-2).
    Issue(i64),
    /// A redemption request naming the amount the ticket shows (V-3).
    Redeem(i64),
    /// A desk pays the ticket it holds (V-4).
    Commit,
    /// The holder releases its hold (V-4).
    Cancel,
    /// A back office voids the voucher, with a reason (V-6).
    Void(String),
}

/// V-1: exactly 18 decimal digits, leading zeros kept.
fn validation(s: &str) -> Result<String, &'static str> {
    if s.len() == 18 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err("invalid_id")
    }
}

/// A ticket's validation number on a cash event: only a `ticket` carries one (a bill or a
/// cashless transfer naming one is not a valid event), and it is 18 digits (V-1).
fn ticket_number(kind: &str, v: &Option<String>) -> Result<Option<String>, &'static str> {
    match v {
        None => Ok(None),
        Some(_) if kind != "ticket" => Err("invalid_id"),
        Some(v) => validation(v).map(Some),
    }
}

/// Whether the payload is a voucher command (V-2..V-6).
fn is_voucher(p: &InputPayload) -> bool {
    use InputPayload as P;
    matches!(
        p,
        P::VoucherIssue { .. }
            | P::VoucherRedeem { .. }
            | P::VoucherCommit { .. }
            | P::VoucherCancel { .. }
            | P::VoucherVoid { .. }
    )
}

/// Whether the payload is a desk's shift command (D-1, D-2, D-4).
fn is_desk(p: &InputPayload) -> bool {
    use InputPayload as P;
    matches!(
        p,
        P::ShiftOpen { .. } | P::DeskFill { .. } | P::DeskCredit { .. } | P::ShiftClose { .. }
    )
}

/// D-1: a cashier is 1 to 64 bytes, not only spaces (else not an event: `malformed`).
fn cashier(s: &str) -> Result<String, &'static str> {
    if s.is_empty() || s.len() > 64 || s.bytes().all(|b| b == b' ') {
        Err("malformed")
    } else {
        Ok(s.to_owned())
    }
}

/// D-1, D-4: a float or a count may be 0 (an empty drawer), never below, and is an amount
/// like any other (E-5's bound).
fn count(a: i64) -> Result<i64, &'static str> {
    if (0..=AMOUNT_MAX).contains(&a) {
        Ok(a)
    } else {
        Err("invalid_amount")
    }
}

/// A desk command's tx, operation and currency, or the code it is rejected with; read in
/// the order of the fields (tx, cashier, amount, currency).
fn desk_command(p: &InputPayload) -> Result<(String, DeskOpModel, String), &'static str> {
    use InputPayload as P;
    match p {
        P::ShiftOpen {
            tx,
            cashier: who,
            float,
            currency: c,
        } => {
            let tx = id(tx)?;
            let who = cashier(who)?;
            Ok((tx, DeskOpModel::Open(who, count(*float)?), currency(c)?))
        }
        P::DeskFill {
            tx,
            amount: a,
            currency: c,
        } => {
            let tx = id(tx)?;
            Ok((tx, DeskOpModel::Fill(amount(*a)?), currency(c)?))
        }
        P::DeskCredit {
            tx,
            amount: a,
            currency: c,
        } => {
            let tx = id(tx)?;
            Ok((tx, DeskOpModel::Credit(amount(*a)?), currency(c)?))
        }
        P::ShiftClose {
            tx,
            counted,
            currency: c,
        } => {
            let tx = id(tx)?;
            Ok((tx, DeskOpModel::Close(count(*counted)?), currency(c)?))
        }
        _ => Err("invalid_source"),
    }
}

/// What a voucher command carries: operation, validation number, transaction id and the
/// currency of its amount (E-1 on each).
type VoucherFields = (VoucherOpModel, String, String, Option<String>);

/// A voucher command's fields, or the code it is rejected with.
fn voucher_command(p: &InputPayload) -> Result<VoucherFields, &'static str> {
    use InputPayload as P;
    let read = |v: &str, tx: &str| -> Result<(String, String), &'static str> {
        Ok((validation(v)?, id(tx)?))
    };
    match p {
        P::VoucherIssue {
            validation: v,
            tx,
            amount: a,
            currency: c,
        } => {
            let (v, tx) = read(v, tx)?;
            Ok((
                VoucherOpModel::Issue(amount(*a)?),
                v,
                tx,
                Some(currency(c)?),
            ))
        }
        P::VoucherRedeem {
            validation: v,
            tx,
            amount: a,
            currency: c,
        } => {
            let (v, tx) = read(v, tx)?;
            Ok((
                VoucherOpModel::Redeem(amount(*a)?),
                v,
                tx,
                Some(currency(c)?),
            ))
        }
        P::VoucherCommit { validation: v, tx } => {
            let (v, tx) = read(v, tx)?;
            Ok((VoucherOpModel::Commit, v, tx, None))
        }
        P::VoucherCancel { validation: v, tx } => {
            let (v, tx) = read(v, tx)?;
            Ok((VoucherOpModel::Cancel, v, tx, None))
        }
        P::VoucherVoid {
            validation: v,
            tx,
            reason,
        } => {
            let (v, tx) = read(v, tx)?;
            Ok((VoucherOpModel::Void(reason.clone()), v, tx, None))
        }
        _ => Err("invalid_source"),
    }
}

fn id_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic())
}

fn id(s: &str) -> Result<String, &'static str> {
    if id_ok(s) {
        Ok(s.to_owned())
    } else {
        Err("invalid_id")
    }
}

fn amount(a: i64) -> Result<i64, &'static str> {
    if (1..=AMOUNT_MAX).contains(&a) {
        Ok(a)
    } else {
        Err("invalid_amount")
    }
}

fn currency(c: &str) -> Result<String, &'static str> {
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c.to_owned())
    } else {
        Err("invalid_currency")
    }
}

fn event_id_ok(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// E-1: the event, or the code it is rejected with.
pub fn validate(env: &InputEnvelope) -> Result<Event, &'static str> {
    let version = env.schema_version;
    if version != 1 && version != 2 {
        return Err("unsupported_version");
    }
    let v2 = version == 2;
    if !event_id_ok(&env.event_id) {
        return Err("invalid_id");
    }
    // E-1: times run from 1970 to the end of 9999 (a version 1 event's receive time too:
    // read like any field, E-2, then ignored).
    let in_range = |t: i64| (0..=253_402_300_799_999).contains(&t);
    if !in_range(env.event_time) || env.receive_time.is_some_and(|t| !in_range(t)) {
        return Err("malformed");
    }
    let hall = id(&env.source.hall)?;
    let is_wallet = env.payload.player().is_some();
    let receive = if v2 { env.receive_time } else { None };
    match (&env.source.machine, &env.source.server) {
        (Some(_), Some(_)) | (None, None) => Err("invalid_source"),
        (Some(m), None) => {
            if is_wallet {
                return Err("invalid_source");
            }
            let machine = id(m)?;
            if is_voucher(&env.payload) {
                // V-3, V-4: a machine's gateway asks for a ticket and releases it; issuing,
                // paying at a desk and voiding are a server's (E-1).
                use InputPayload as P;
                if !matches!(
                    env.payload,
                    P::VoucherRedeem { .. } | P::VoucherCancel { .. }
                ) {
                    return Err("invalid_source");
                }
                let (op, validation, tx, currency) = voucher_command(&env.payload)?;
                return Ok(Event::Voucher(VoucherEvent {
                    id: env.event_id.clone(),
                    validation,
                    party: Party::Machine(machine),
                    hall,
                    tx,
                    time: env.event_time,
                    currency,
                    op,
                }));
            }
            use InputPayload as P;
            let what = match &env.payload {
                P::Bet {
                    amount: a,
                    currency: c,
                } => MachineWhat::Bet(amount(*a)?, currency(c)?),
                P::Win {
                    amount: a,
                    currency: c,
                } => MachineWhat::Win(amount(*a)?, currency(c)?),
                P::GameEnd {} => MachineWhat::GameEnd,
                P::CashIn {
                    kind,
                    amount: a,
                    currency: c,
                    validation: v,
                    credit_type,
                } => {
                    // M-13: a version 2 cashless cash-in may carry promotional credits.
                    let credit = if v2 { credit_type.as_deref() } else { None };
                    let meter = match (kind.as_str(), credit) {
                        ("bill", None) => "bills_in",
                        ("ticket", None) => "tickets_in",
                        ("cashless", None | Some("cashable")) => "cashless_in",
                        ("cashless", Some("restricted")) => "restricted_in",
                        ("cashless", Some("nonrestricted")) => "nonrestricted_in",
                        _ => return Err("malformed"),
                    };
                    let v = ticket_number(kind, v)?;
                    MachineWhat::CashIn(meter, amount(*a)?, currency(c)?, v)
                }
                P::CashOut {
                    kind,
                    amount: a,
                    currency: c,
                    validation: v,
                } => {
                    let meter = match kind.as_str() {
                        "ticket" => "tickets_out",
                        "cashless" => "cashless_out",
                        "handpay" => "handpaid",
                        _ => return Err("malformed"),
                    };
                    let v = ticket_number(kind, v)?;
                    MachineWhat::CashOut(meter, amount(*a)?, currency(c)?, v)
                }
                P::CardIn { player } => MachineWhat::CardIn(id(player)?),
                P::CardOut {} => MachineWhat::CardOut,
                P::JackpotHit {
                    pool,
                    level,
                    amount: a,
                    currency: c,
                } => {
                    let paid = match (v2, a, c) {
                        (true, Some(a), Some(c)) => Some((amount(*a)?, currency(c)?)),
                        (true, Some(_), None) | (true, None, Some(_)) => {
                            return Err("missing_field")
                        }
                        _ => None,
                    };
                    MachineWhat::JackpotHit(id(pool)?, *level, paid)
                }
                P::DoorOpen {} => MachineWhat::DoorOpen,
                P::DoorClose {} => MachineWhat::DoorClose,
                P::Tilt { code } => MachineWhat::Tilt(*code),
                P::TiltClear {} => MachineWhat::TiltClear,
                P::CommsLost {} => MachineWhat::CommsLost,
                P::CommsRestored {} => MachineWhat::CommsRestored,
                P::PowerOff {} => MachineWhat::PowerOff,
                P::PowerOn {} => MachineWhat::PowerOn,
                P::MeterSnapshot {
                    reason,
                    currency: c,
                    meters: m,
                } => {
                    if !["periodic", "door_close", "day_end", "request"].contains(&reason.as_str())
                    {
                        return Err("malformed");
                    }
                    let values = [
                        m.coin_in,
                        m.coin_out,
                        m.jackpot,
                        m.handpaid,
                        m.games_played,
                        m.games_won,
                        m.bills_in,
                        m.tickets_in,
                        m.tickets_out,
                        m.cashless_in,
                        m.cashless_out,
                    ];
                    if values.iter().any(|v| *v < 0) {
                        return Err("malformed");
                    }
                    let meters = SNAPSHOT_METERS.iter().copied().zip(values).collect();
                    MachineWhat::MeterSnapshot(meters, currency(c)?)
                }
                P::HandpayPending {
                    kind,
                    amount: a,
                    currency: c,
                } => {
                    let kind = match kind.as_str() {
                        "cancelled_credits" => "cancelled_credits",
                        "jackpot" => "jackpot",
                        _ => return Err("malformed"),
                    };
                    MachineWhat::HandpayPending(kind, amount(*a)?, currency(c)?)
                }
                P::HandpayReset { attendant } => MachineWhat::HandpayReset(id(attendant)?),
                // W-10: one of two directions, else not an event (malformed).
                P::CashlessTransfer {
                    transfer,
                    player,
                    direction,
                    amount: a,
                    currency: c,
                    credit_type,
                } => {
                    let to_machine = match direction.as_str() {
                        "to_machine" => true,
                        "from_machine" => false,
                        _ => return Err("malformed"),
                    };
                    // W-12: version 2 names the credits the machine took; restricted ones
                    // never leave a machine, and a wallet has no non-restricted credits.
                    let restricted = match (v2, credit_type.as_deref()) {
                        (false, _) | (true, None | Some("cashable")) => false,
                        (true, Some("restricted")) if to_machine => true,
                        _ => return Err("malformed"),
                    };
                    MachineWhat::Transfer(
                        id(transfer)?,
                        id(player)?,
                        to_machine,
                        amount(*a)?,
                        currency(c)?,
                        restricted,
                    )
                }
                _ => return Err("invalid_source"),
            };
            Ok(Event::Machine(MachineEvent {
                id: env.event_id.clone(),
                machine,
                hall,
                epoch: if v2 { env.epoch.unwrap_or(0) } else { 0 },
                seq: env.seq,
                time: env.event_time,
                receive,
                what,
            }))
        }
        (None, Some(server)) => {
            if is_voucher(&env.payload) {
                // V-2..V-6: a desk or back office may send every voucher command.
                let desk = id(server)?;
                let (op, validation, tx, currency) = voucher_command(&env.payload)?;
                return Ok(Event::Voucher(VoucherEvent {
                    id: env.event_id.clone(),
                    validation,
                    party: Party::Desk(desk),
                    hall,
                    tx,
                    time: env.event_time,
                    currency,
                    op,
                }));
            }
            if is_desk(&env.payload) {
                // D: a desk's commands come from the desk (`source.server`), any version.
                let desk = id(server)?;
                let (tx, op, currency) = desk_command(&env.payload)?;
                return Ok(Event::Desk(DeskEvent {
                    id: env.event_id.clone(),
                    desk,
                    hall,
                    tx,
                    time: env.event_time,
                    currency,
                    op,
                }));
            }
            if !is_wallet {
                return Err("invalid_source");
            }
            let provider = id(server)?;
            use InputPayload as P;
            let rule = |player, tx, currency, op| {
                Event::Wallet(WalletEvent {
                    id: env.event_id.clone(),
                    player,
                    provider: provider.clone(),
                    hall: hall.clone(),
                    tx,
                    time: env.event_time,
                    currency,
                    round: None,
                    op,
                })
            };
            let (player, tx, cur, op) = match &env.payload {
                P::Deposit {
                    player,
                    tx,
                    amount: a,
                    currency: c,
                    ..
                } => (player, tx, c, WalletOpModel::Deposit(amount(*a)?)),
                P::Withdraw {
                    player,
                    tx,
                    amount: a,
                    currency: c,
                    ..
                } => (player, tx, c, WalletOpModel::Withdraw(amount(*a)?)),
                P::WalletBet {
                    player,
                    tx,
                    amount: a,
                    currency: c,
                    ..
                } => (player, tx, c, WalletOpModel::Bet(amount(*a)?)),
                P::WalletWin {
                    player,
                    tx,
                    amount: a,
                    currency: c,
                    bet_tx,
                    ..
                } => {
                    let bet = bet_tx.as_deref().map(id).transpose()?;
                    (player, tx, c, WalletOpModel::Win(amount(*a)?, bet))
                }
                P::Rollback {
                    player,
                    tx,
                    bet_tx,
                    currency: c,
                    ..
                } => (player, tx, c, WalletOpModel::Rollback(id(bet_tx)?)),
                // W-8, W-9: the player rules name no round; only a limit names a currency.
                P::KycStatus { player, tx, status } => {
                    let (player, tx) = (id(player)?, id(tx)?);
                    // W-8: one of three words; no amount, so no currency (the wallet's own).
                    if !["unverified", "verified", "blocked"].contains(&status.as_str()) {
                        return Err("malformed");
                    }
                    let op = WalletOpModel::Kyc(status.clone());
                    return Ok(rule(player, tx, String::new(), op));
                }
                P::DepositLimit {
                    player,
                    tx,
                    period,
                    amount: a,
                    currency: c,
                }
                | P::LossLimit {
                    player,
                    tx,
                    period,
                    amount: a,
                    currency: c,
                } => {
                    let kind = if matches!(env.payload, P::LossLimit { .. }) {
                        "loss"
                    } else {
                        "deposit"
                    };
                    let (player, tx) = (id(player)?, id(tx)?);
                    if !["day", "week", "month"].contains(&period.as_str()) {
                        return Err("malformed");
                    }
                    // An amount comes with its currency; none removes the limit.
                    let (limit, cur) = match (a, c) {
                        (None, _) => (None, String::new()),
                        (Some(_), None) => return Err("missing_field"),
                        (Some(a), Some(c)) => (Some(amount(*a)?), currency(c)?),
                    };
                    let op = WalletOpModel::Limit(kind.to_owned(), period.clone(), limit);
                    return Ok(rule(player, tx, cur, op));
                }
                P::SessionLimit {
                    player,
                    tx,
                    minutes,
                } => {
                    let (player, tx) = (id(player)?, id(tx)?);
                    // A minute to a day, kept in ms under the kind `session` (no period).
                    let limit = match minutes {
                        None => None,
                        Some(m) if (1..=1_440).contains(m) => Some(m * 60_000),
                        Some(_) => return Err("malformed"),
                    };
                    let op = WalletOpModel::Limit("session".to_owned(), String::new(), limit);
                    return Ok(rule(player, tx, String::new(), op));
                }
                P::SelfExclusion { player, tx, until } => {
                    let (player, tx) = (id(player)?, id(tx)?);
                    // E-1's bound holds for every time a source sends.
                    if !(0..=253_402_300_799_999).contains(until) {
                        return Err("malformed");
                    }
                    let op = WalletOpModel::SelfExclusion(*until);
                    return Ok(rule(player, tx, String::new(), op));
                }
                // W-10: a transfer request names its machine and amount (no round); a
                // cancel names the transfer, no amount (so no currency: the wallet's own).
                P::TransferRequest {
                    player,
                    tx,
                    machine,
                    amount: a,
                    currency: c,
                    credit_type,
                } => {
                    let (player, tx, c) = (id(player)?, id(tx)?, currency(c)?);
                    // W-12: version 2's credit type: cash (the default) or bonus.
                    let restricted = match (v2, credit_type.as_deref()) {
                        (false, _) | (true, None | Some("cashable")) => false,
                        (true, Some("restricted")) => true,
                        _ => return Err("malformed"),
                    };
                    let op = WalletOpModel::TransferRequest(id(machine)?, amount(*a)?, restricted);
                    return Ok(rule(player, tx, c, op));
                }
                // W-12: an award names its amount, wagering multiple (0 to 100) and an
                // expiry after the command's time (E-1's range); no round, any version.
                P::BonusAward {
                    player,
                    tx,
                    amount: a,
                    currency: c,
                    wagering,
                    expires_at,
                } => {
                    let (player, tx) = (id(player)?, id(tx)?);
                    let (a, c) = (amount(*a)?, currency(c)?);
                    if !(0..=100).contains(wagering) {
                        return Err("malformed");
                    }
                    if !(0..=253_402_300_799_999).contains(expires_at)
                        || *expires_at <= env.event_time
                    {
                        return Err("malformed");
                    }
                    let op = WalletOpModel::BonusAward(a, *wagering, *expires_at);
                    return Ok(rule(player, tx, c, op));
                }
                P::TransferCancel {
                    player,
                    tx,
                    transfer,
                } => {
                    let (player, tx) = (id(player)?, id(tx)?);
                    let op = WalletOpModel::TransferCancel(id(transfer)?);
                    return Ok(rule(player, tx, String::new(), op));
                }
                _ => return Err("invalid_source"),
            };
            let (player, tx, currency) = (id(player)?, id(tx)?, currency(cur)?);
            // E-2: `round` is version 2's, an id like the others; a version 1 event has no
            // such field, so one it carries means nothing.
            let round = if v2 {
                env.payload.round().map(id).transpose()?
            } else {
                None
            };
            Ok(Event::Wallet(WalletEvent {
                id: env.event_id.clone(),
                player,
                provider,
                hall,
                tx,
                time: env.event_time,
                currency,
                round,
                op,
            }))
        }
    }
}
