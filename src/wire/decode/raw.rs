//! Borrowed mirrors of the wire types, as both decoders fill them: strings are slices of the
//! message, and every leaf is read leniently, as "an integer, a string, or the name of
//! whatever came instead", so that validation can name the field and the value.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;

use crate::wire::input::{InputEnvelope, InputPayload};

/// A leaf that should be an integer: any MessagePack integer, signed or not, or the name of
/// what came instead (so the error can name the field).
#[derive(Clone, Copy, Debug)]
pub(super) enum RawInt {
    Int(i128),
    Other(&'static str),
}

/// A leaf that should be a string, borrowed from the message, or the name of what came
/// instead.
#[derive(Clone, Debug)]
pub(super) enum RawStr<'a> {
    Str(Cow<'a, str>),
    Other(&'static str),
}

/// Accepts any value and names it. Containers are skipped over; only strings and integers
/// are kept.
struct Leaf;

enum LeafValue<'de> {
    Int(i128),
    Str(Cow<'de, str>),
    Other(&'static str),
}

impl<'de> Visitor<'de> for Leaf {
    type Value = LeafValue<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an integer")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(LeafValue::Int(i128::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(LeafValue::Int(i128::from(v)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(LeafValue::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(LeafValue::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(LeafValue::Other("a float"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(LeafValue::Other("a boolean"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(LeafValue::Other("nil"))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(LeafValue::Other("nil"))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Leaf)
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
        // Also what the decoder hands over for a string that is not UTF-8.
        Ok(LeafValue::Other(
            "binary data (or a string that is not UTF-8)",
        ))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(LeafValue::Other("an array"))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(LeafValue::Other("a map"))
    }
}

impl<'de> Deserialize<'de> for RawInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match d.deserialize_any(Leaf)? {
            LeafValue::Int(v) => RawInt::Int(v),
            LeafValue::Str(_) => RawInt::Other("a string"),
            LeafValue::Other(what) => RawInt::Other(what),
        })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match d.deserialize_any(Leaf)? {
            LeafValue::Str(s) => RawStr::Str(s),
            LeafValue::Int(_) => RawStr::Other("an integer"),
            LeafValue::Other(what) => RawStr::Other(what),
        })
    }
}

impl<'a> From<&'a str> for RawStr<'a> {
    fn from(s: &'a str) -> Self {
        RawStr::Str(Cow::Borrowed(s))
    }
}

impl<'a> From<&'a String> for RawStr<'a> {
    fn from(s: &'a String) -> Self {
        RawStr::Str(Cow::Borrowed(s))
    }
}

#[derive(Deserialize)]
pub(super) struct RawEnvelope<'a> {
    #[serde(borrow)]
    pub event_id: RawStr<'a>,
    pub schema_version: RawInt,
    #[serde(borrow)]
    pub source: RawSource<'a>,
    pub seq: RawInt,
    pub event_time: RawInt,
    /// Version 2: the sequence epoch (machine sources).
    #[serde(default)]
    pub epoch: Option<RawInt>,
    /// Version 2: when the gateway received the event.
    #[serde(default)]
    pub receive_time: Option<RawInt>,
    #[serde(borrow)]
    pub payload: RawPayload<'a>,
}

#[derive(Deserialize)]
pub(super) struct RawSource<'a> {
    #[serde(borrow)]
    pub hall: RawStr<'a>,
    #[serde(borrow, default)]
    pub machine: Option<RawStr<'a>>,
    #[serde(borrow, default)]
    pub server: Option<RawStr<'a>>,
}

/// Amount and currency of a machine event.
#[derive(Deserialize)]
pub(super) struct RawMoney<'a> {
    pub amount: RawInt,
    #[serde(borrow)]
    pub currency: RawStr<'a>,
}

/// Cash in or out: how, amount and currency (and a ticket's validation number).
#[derive(Deserialize)]
pub(super) struct RawCash<'a> {
    #[serde(borrow)]
    pub kind: RawStr<'a>,
    pub amount: RawInt,
    #[serde(borrow)]
    pub currency: RawStr<'a>,
    /// A ticket's validation number (RULES.md V-2, V-5).
    #[serde(borrow, default)]
    pub validation: Option<RawStr<'a>>,
    /// A cashless cash-in's credit type (version 2, RULES.md M-13).
    #[serde(borrow, default)]
    pub credit_type: Option<RawStr<'a>>,
}

/// A voucher command's fields (`amount` and `currency` on an issue or a redemption request,
/// `reason` on a void).
#[derive(Deserialize)]
pub(super) struct RawVoucher<'a> {
    #[serde(borrow)]
    pub validation: RawStr<'a>,
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    #[serde(default)]
    pub amount: Option<RawInt>,
    #[serde(borrow, default)]
    pub currency: Option<RawStr<'a>>,
    #[serde(borrow, default)]
    pub reason: Option<RawStr<'a>>,
}

/// A desk's shift command's fields (RULES.md D): `cashier` and `float` on an open,
/// `amount` on a fill or credit, `counted` on a close.
#[derive(Deserialize)]
pub(super) struct RawDesk<'a> {
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    #[serde(borrow, default)]
    pub cashier: Option<RawStr<'a>>,
    #[serde(default)]
    pub float: Option<RawInt>,
    #[serde(default)]
    pub amount: Option<RawInt>,
    #[serde(default)]
    pub counted: Option<RawInt>,
    #[serde(borrow)]
    pub currency: RawStr<'a>,
}

/// A wallet command's fields (`amount` is absent from a rollback, `bet_tx` optional on a win,
/// `round` optional, read in version 2).
#[derive(Deserialize)]
pub(super) struct RawWallet<'a> {
    #[serde(borrow)]
    pub player: RawStr<'a>,
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    pub amount: RawInt,
    #[serde(borrow)]
    pub currency: RawStr<'a>,
    #[serde(borrow, default)]
    pub bet_tx: Option<RawStr<'a>>,
    /// Version 2: the game provider's round.
    #[serde(borrow, default)]
    pub round: Option<RawStr<'a>>,
}

#[derive(Deserialize)]
pub(super) struct RawRollback<'a> {
    #[serde(borrow)]
    pub player: RawStr<'a>,
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    #[serde(borrow)]
    pub bet_tx: RawStr<'a>,
    #[serde(borrow)]
    pub currency: RawStr<'a>,
    /// Version 2: the game provider's round.
    #[serde(borrow, default)]
    pub round: Option<RawStr<'a>>,
}

/// A KYC status (RULES.md W-8).
#[derive(Deserialize)]
pub(super) struct RawKyc<'a> {
    #[serde(borrow)]
    pub player: RawStr<'a>,
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    #[serde(borrow)]
    pub status: RawStr<'a>,
}

/// A deposit or loss limit (RULES.md W-9).
#[derive(Deserialize)]
pub(super) struct RawDepositLimit<'a> {
    #[serde(borrow)]
    pub player: RawStr<'a>,
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    #[serde(borrow)]
    pub period: RawStr<'a>,
    #[serde(default)]
    pub amount: Option<RawInt>,
    #[serde(borrow, default)]
    pub currency: Option<RawStr<'a>>,
}

/// A session limit (RULES.md W-9).
#[derive(Deserialize)]
pub(super) struct RawSessionLimit<'a> {
    #[serde(borrow)]
    pub player: RawStr<'a>,
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    #[serde(default)]
    pub minutes: Option<RawInt>,
}

/// A self-exclusion (RULES.md W-9).
#[derive(Deserialize)]
pub(super) struct RawSelfExclusion<'a> {
    #[serde(borrow)]
    pub player: RawStr<'a>,
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    pub until: RawInt,
}

/// A cashless transfer request (RULES.md W-10).
#[derive(Deserialize)]
pub(super) struct RawTransferRequest<'a> {
    #[serde(borrow)]
    pub player: RawStr<'a>,
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    #[serde(borrow)]
    pub machine: RawStr<'a>,
    pub amount: RawInt,
    #[serde(borrow)]
    pub currency: RawStr<'a>,
    #[serde(borrow, default)]
    pub credit_type: Option<RawStr<'a>>,
}

/// A bonus award (RULES.md W-12).
#[derive(Deserialize)]
pub(super) struct RawBonusAward<'a> {
    #[serde(borrow)]
    pub player: RawStr<'a>,
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    pub amount: RawInt,
    #[serde(borrow)]
    pub currency: RawStr<'a>,
    pub wagering: RawInt,
    pub expires_at: RawInt,
}

/// A cashless transfer's cancel (RULES.md W-10).
#[derive(Deserialize)]
pub(super) struct RawTransferCancel<'a> {
    #[serde(borrow)]
    pub player: RawStr<'a>,
    #[serde(borrow)]
    pub tx: RawStr<'a>,
    #[serde(borrow)]
    pub transfer: RawStr<'a>,
}

/// A machine's cashless transfer (RULES.md W-10).
#[derive(Deserialize)]
pub(super) struct RawCashlessTransfer<'a> {
    #[serde(borrow)]
    pub transfer: RawStr<'a>,
    #[serde(borrow)]
    pub player: RawStr<'a>,
    #[serde(borrow)]
    pub direction: RawStr<'a>,
    pub amount: RawInt,
    #[serde(borrow)]
    pub currency: RawStr<'a>,
    #[serde(borrow, default)]
    pub credit_type: Option<RawStr<'a>>,
}

/// A meter snapshot's meters (RULES.md M-8): every one required.
#[derive(Deserialize)]
pub(super) struct RawMeters {
    pub coin_in: RawInt,
    pub coin_out: RawInt,
    pub jackpot: RawInt,
    pub handpaid: RawInt,
    pub games_played: RawInt,
    pub games_won: RawInt,
    pub bills_in: RawInt,
    pub tickets_in: RawInt,
    pub tickets_out: RawInt,
    pub cashless_in: RawInt,
    pub cashless_out: RawInt,
}

impl RawMeters {
    /// The values in [`ReportedMeter`](pitboss_actors::domain::ReportedMeter) order.
    pub fn values(&self) -> [RawInt; 11] {
        [
            self.coin_in,
            self.coin_out,
            self.jackpot,
            self.handpaid,
            self.games_played,
            self.games_won,
            self.bills_in,
            self.tickets_in,
            self.tickets_out,
            self.cashless_in,
            self.cashless_out,
        ]
    }
}

/// Fields of a kind that has none; any that are sent are ignored.
#[derive(Deserialize)]
pub(super) struct Empty {}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawPayload<'a> {
    Bet(#[serde(borrow)] RawMoney<'a>),
    Win(#[serde(borrow)] RawMoney<'a>),
    GameEnd(Empty),
    CashIn(#[serde(borrow)] RawCash<'a>),
    CashOut(#[serde(borrow)] RawCash<'a>),
    CardIn {
        #[serde(borrow)]
        player: RawStr<'a>,
    },
    CardOut(Empty),
    JackpotHit {
        #[serde(borrow)]
        pool: RawStr<'a>,
        level: RawInt,
        /// Version 2: what the machine showed and paid.
        #[serde(default)]
        amount: Option<RawInt>,
        #[serde(borrow, default)]
        currency: Option<RawStr<'a>>,
    },
    DoorOpen(Empty),
    DoorClose(Empty),
    Tilt {
        code: RawInt,
    },
    TiltClear(Empty),
    CommsLost(Empty),
    CommsRestored(Empty),
    PowerOff(Empty),
    PowerOn(Empty),
    MeterSnapshot {
        #[serde(borrow)]
        reason: RawStr<'a>,
        #[serde(borrow)]
        currency: RawStr<'a>,
        /// Boxed: eleven leaves, a rare kind.
        meters: Box<RawMeters>,
    },
    HandpayPending(#[serde(borrow)] RawCash<'a>),
    HandpayReset {
        #[serde(borrow)]
        attendant: RawStr<'a>,
    },
    Deposit(#[serde(borrow)] RawWallet<'a>),
    Withdraw(#[serde(borrow)] RawWallet<'a>),
    WalletBet(#[serde(borrow)] RawWallet<'a>),
    WalletWin(#[serde(borrow)] RawWallet<'a>),
    Rollback(#[serde(borrow)] RawRollback<'a>),
    KycStatus(#[serde(borrow)] RawKyc<'a>),
    DepositLimit(#[serde(borrow)] RawDepositLimit<'a>),
    LossLimit(#[serde(borrow)] RawDepositLimit<'a>),
    SessionLimit(#[serde(borrow)] RawSessionLimit<'a>),
    SelfExclusion(#[serde(borrow)] RawSelfExclusion<'a>),
    TransferRequest(#[serde(borrow)] RawTransferRequest<'a>),
    TransferCancel(#[serde(borrow)] RawTransferCancel<'a>),
    CashlessTransfer(#[serde(borrow)] RawCashlessTransfer<'a>),
    BonusAward(#[serde(borrow)] RawBonusAward<'a>),
    VoucherIssue(#[serde(borrow)] RawVoucher<'a>),
    VoucherRedeem(#[serde(borrow)] RawVoucher<'a>),
    VoucherCommit(#[serde(borrow)] RawVoucher<'a>),
    VoucherCancel(#[serde(borrow)] RawVoucher<'a>),
    VoucherVoid(#[serde(borrow)] RawVoucher<'a>),
    ShiftOpen(#[serde(borrow)] RawDesk<'a>),
    DeskFill(#[serde(borrow)] RawDesk<'a>),
    DeskCredit(#[serde(borrow)] RawDesk<'a>),
    ShiftClose(#[serde(borrow)] RawDesk<'a>),
}

pub(super) fn raw_int(v: impl Into<i128>) -> RawInt {
    RawInt::Int(v.into())
}

impl<'a> RawEnvelope<'a> {
    /// A view of an owned envelope, so both paths share one validation.
    pub fn borrow(env: &'a InputEnvelope) -> Self {
        use InputPayload as P;
        use RawPayload as R;
        let money = |amount: &i64, currency: &'a String| RawMoney {
            amount: raw_int(*amount),
            currency: currency.into(),
        };
        let cash = |kind: &'a String, amount: &i64, currency: &'a String| RawCash {
            kind: kind.into(),
            amount: raw_int(*amount),
            currency: currency.into(),
            validation: None,
            credit_type: None,
        };
        let voucher = |validation: &'a String, tx: &'a String| RawVoucher {
            validation: validation.into(),
            tx: tx.into(),
            amount: None,
            currency: None,
            reason: None,
        };
        let desk = |tx: &'a String, currency: &'a String| RawDesk {
            tx: tx.into(),
            cashier: None,
            float: None,
            amount: None,
            counted: None,
            currency: currency.into(),
        };
        let priced =
            |validation: &'a String, tx: &'a String, amount: &i64, currency: &'a String| {
                RawVoucher {
                    amount: Some(raw_int(*amount)),
                    currency: Some(currency.into()),
                    ..voucher(validation, tx)
                }
            };
        let wallet = |player: &'a String,
                      tx: &'a String,
                      amount: &i64,
                      currency: &'a String,
                      round: &'a Option<String>| RawWallet {
            player: player.into(),
            tx: tx.into(),
            amount: raw_int(*amount),
            currency: currency.into(),
            bet_tx: None,
            round: round.as_ref().map(RawStr::from),
        };
        let payload = match &env.payload {
            P::Bet { amount, currency } => R::Bet(money(amount, currency)),
            P::Win { amount, currency } => R::Win(money(amount, currency)),
            P::GameEnd {} => R::GameEnd(Empty {}),
            P::CashIn {
                kind,
                amount,
                currency,
                validation,
                credit_type,
            } => R::CashIn(RawCash {
                validation: validation.as_ref().map(RawStr::from),
                credit_type: credit_type.as_ref().map(RawStr::from),
                ..cash(kind, amount, currency)
            }),
            P::CashOut {
                kind,
                amount,
                currency,
                validation,
            } => R::CashOut(RawCash {
                validation: validation.as_ref().map(RawStr::from),
                ..cash(kind, amount, currency)
            }),
            P::CardIn { player } => R::CardIn {
                player: player.into(),
            },
            P::CardOut {} => R::CardOut(Empty {}),
            P::JackpotHit {
                pool,
                level,
                amount,
                currency,
            } => R::JackpotHit {
                pool: pool.into(),
                level: raw_int(*level),
                amount: amount.map(raw_int),
                currency: currency.as_ref().map(RawStr::from),
            },
            P::DoorOpen {} => R::DoorOpen(Empty {}),
            P::DoorClose {} => R::DoorClose(Empty {}),
            P::Tilt { code } => R::Tilt {
                code: raw_int(*code),
            },
            P::TiltClear {} => R::TiltClear(Empty {}),
            P::CommsLost {} => R::CommsLost(Empty {}),
            P::CommsRestored {} => R::CommsRestored(Empty {}),
            P::PowerOff {} => R::PowerOff(Empty {}),
            P::PowerOn {} => R::PowerOn(Empty {}),
            P::MeterSnapshot {
                reason,
                currency,
                meters: m,
            } => R::MeterSnapshot {
                reason: reason.into(),
                currency: currency.into(),
                meters: Box::new(RawMeters {
                    coin_in: raw_int(m.coin_in),
                    coin_out: raw_int(m.coin_out),
                    jackpot: raw_int(m.jackpot),
                    handpaid: raw_int(m.handpaid),
                    games_played: raw_int(m.games_played),
                    games_won: raw_int(m.games_won),
                    bills_in: raw_int(m.bills_in),
                    tickets_in: raw_int(m.tickets_in),
                    tickets_out: raw_int(m.tickets_out),
                    cashless_in: raw_int(m.cashless_in),
                    cashless_out: raw_int(m.cashless_out),
                }),
            },
            P::HandpayPending {
                kind,
                amount,
                currency,
            } => R::HandpayPending(cash(kind, amount, currency)),
            P::HandpayReset { attendant } => R::HandpayReset {
                attendant: attendant.into(),
            },
            P::Deposit {
                player,
                tx,
                amount,
                currency,
                round,
            } => R::Deposit(wallet(player, tx, amount, currency, round)),
            P::Withdraw {
                player,
                tx,
                amount,
                currency,
                round,
            } => R::Withdraw(wallet(player, tx, amount, currency, round)),
            P::WalletBet {
                player,
                tx,
                amount,
                currency,
                round,
            } => R::WalletBet(wallet(player, tx, amount, currency, round)),
            P::WalletWin {
                player,
                tx,
                amount,
                currency,
                bet_tx,
                round,
            } => R::WalletWin(RawWallet {
                bet_tx: bet_tx.as_ref().map(RawStr::from),
                ..wallet(player, tx, amount, currency, round)
            }),
            P::Rollback {
                player,
                tx,
                bet_tx,
                currency,
                round,
            } => R::Rollback(RawRollback {
                player: player.into(),
                tx: tx.into(),
                bet_tx: bet_tx.into(),
                currency: currency.into(),
                round: round.as_ref().map(RawStr::from),
            }),
            P::KycStatus { player, tx, status } => R::KycStatus(RawKyc {
                player: player.into(),
                tx: tx.into(),
                status: status.into(),
            }),
            P::DepositLimit {
                player,
                tx,
                period,
                amount,
                currency,
            }
            | P::LossLimit {
                player,
                tx,
                period,
                amount,
                currency,
            } => {
                let limit = RawDepositLimit {
                    player: player.into(),
                    tx: tx.into(),
                    period: period.into(),
                    amount: amount.map(raw_int),
                    currency: currency.as_ref().map(RawStr::from),
                };
                if matches!(env.payload, P::LossLimit { .. }) {
                    R::LossLimit(limit)
                } else {
                    R::DepositLimit(limit)
                }
            }
            P::SessionLimit {
                player,
                tx,
                minutes,
            } => R::SessionLimit(RawSessionLimit {
                player: player.into(),
                tx: tx.into(),
                minutes: minutes.map(raw_int),
            }),
            P::SelfExclusion { player, tx, until } => R::SelfExclusion(RawSelfExclusion {
                player: player.into(),
                tx: tx.into(),
                until: raw_int(*until),
            }),
            P::TransferRequest {
                player,
                tx,
                machine,
                amount,
                currency,
                credit_type,
            } => R::TransferRequest(RawTransferRequest {
                player: player.into(),
                tx: tx.into(),
                machine: machine.into(),
                amount: raw_int(*amount),
                currency: currency.into(),
                credit_type: credit_type.as_ref().map(RawStr::from),
            }),
            P::BonusAward {
                player,
                tx,
                amount,
                currency,
                wagering,
                expires_at,
            } => R::BonusAward(RawBonusAward {
                player: player.into(),
                tx: tx.into(),
                amount: raw_int(*amount),
                currency: currency.into(),
                wagering: raw_int(*wagering),
                expires_at: raw_int(*expires_at),
            }),
            P::TransferCancel {
                player,
                tx,
                transfer,
            } => R::TransferCancel(RawTransferCancel {
                player: player.into(),
                tx: tx.into(),
                transfer: transfer.into(),
            }),
            P::CashlessTransfer {
                transfer,
                player,
                direction,
                amount,
                currency,
                credit_type,
            } => R::CashlessTransfer(RawCashlessTransfer {
                transfer: transfer.into(),
                player: player.into(),
                direction: direction.into(),
                amount: raw_int(*amount),
                currency: currency.into(),
                credit_type: credit_type.as_ref().map(RawStr::from),
            }),
            P::VoucherIssue {
                validation,
                tx,
                amount,
                currency,
            } => R::VoucherIssue(priced(validation, tx, amount, currency)),
            P::VoucherRedeem {
                validation,
                tx,
                amount,
                currency,
            } => R::VoucherRedeem(priced(validation, tx, amount, currency)),
            P::VoucherCommit { validation, tx } => R::VoucherCommit(voucher(validation, tx)),
            P::VoucherCancel { validation, tx } => R::VoucherCancel(voucher(validation, tx)),
            P::VoucherVoid {
                validation,
                tx,
                reason,
            } => R::VoucherVoid(RawVoucher {
                reason: Some(reason.into()),
                ..voucher(validation, tx)
            }),
            P::ShiftOpen {
                tx,
                cashier,
                float,
                currency,
            } => R::ShiftOpen(RawDesk {
                cashier: Some(cashier.into()),
                float: Some(raw_int(*float)),
                ..desk(tx, currency)
            }),
            P::DeskFill {
                tx,
                amount,
                currency,
            } => R::DeskFill(RawDesk {
                amount: Some(raw_int(*amount)),
                ..desk(tx, currency)
            }),
            P::DeskCredit {
                tx,
                amount,
                currency,
            } => R::DeskCredit(RawDesk {
                amount: Some(raw_int(*amount)),
                ..desk(tx, currency)
            }),
            P::ShiftClose {
                tx,
                counted,
                currency,
            } => R::ShiftClose(RawDesk {
                counted: Some(raw_int(*counted)),
                ..desk(tx, currency)
            }),
        };
        RawEnvelope {
            event_id: (&env.event_id).into(),
            schema_version: raw_int(env.schema_version),
            source: RawSource {
                hall: (&env.source.hall).into(),
                machine: env.source.machine.as_ref().map(RawStr::from),
                server: env.source.server.as_ref().map(RawStr::from),
            },
            seq: raw_int(env.seq),
            event_time: raw_int(env.event_time),
            epoch: env.epoch.map(|e| RawInt::Int(i128::from(e))),
            receive_time: env.receive_time.map(|t| RawInt::Int(i128::from(t))),
            payload,
        }
    }
}

impl RawPayload<'_> {
    pub fn kind(&self) -> &'static str {
        match self {
            RawPayload::Bet(_) => "bet",
            RawPayload::Win(_) => "win",
            RawPayload::GameEnd(_) => "game_end",
            RawPayload::CashIn(_) => "cash_in",
            RawPayload::CashOut(_) => "cash_out",
            RawPayload::CardIn { .. } => "card_in",
            RawPayload::CardOut(_) => "card_out",
            RawPayload::JackpotHit { .. } => "jackpot_hit",
            RawPayload::DoorOpen(_) => "door_open",
            RawPayload::DoorClose(_) => "door_close",
            RawPayload::Tilt { .. } => "tilt",
            RawPayload::TiltClear(_) => "tilt_clear",
            RawPayload::CommsLost(_) => "comms_lost",
            RawPayload::CommsRestored(_) => "comms_restored",
            RawPayload::PowerOff(_) => "power_off",
            RawPayload::PowerOn(_) => "power_on",
            RawPayload::MeterSnapshot { .. } => "meter_snapshot",
            RawPayload::HandpayPending(_) => "handpay_pending",
            RawPayload::HandpayReset { .. } => "handpay_reset",
            RawPayload::Deposit(_) => "deposit",
            RawPayload::Withdraw(_) => "withdraw",
            RawPayload::WalletBet(_) => "wallet_bet",
            RawPayload::WalletWin(_) => "wallet_win",
            RawPayload::Rollback(_) => "rollback",
            RawPayload::KycStatus(_) => "kyc_status",
            RawPayload::DepositLimit(_) => "deposit_limit",
            RawPayload::LossLimit(_) => "loss_limit",
            RawPayload::SessionLimit(_) => "session_limit",
            RawPayload::SelfExclusion(_) => "self_exclusion",
            RawPayload::TransferRequest(_) => "transfer_request",
            RawPayload::TransferCancel(_) => "transfer_cancel",
            RawPayload::CashlessTransfer(_) => "cashless_transfer",
            RawPayload::BonusAward(_) => "bonus_award",
            RawPayload::VoucherIssue(_) => "voucher_issue",
            RawPayload::VoucherRedeem(_) => "voucher_redeem",
            RawPayload::VoucherCommit(_) => "voucher_commit",
            RawPayload::VoucherCancel(_) => "voucher_cancel",
            RawPayload::VoucherVoid(_) => "voucher_void",
            RawPayload::ShiftOpen(_) => "shift_open",
            RawPayload::DeskFill(_) => "desk_fill",
            RawPayload::DeskCredit(_) => "desk_credit",
            RawPayload::ShiftClose(_) => "shift_close",
        }
    }

    pub fn is_wallet_command(&self) -> bool {
        matches!(
            self,
            RawPayload::Deposit(_)
                | RawPayload::Withdraw(_)
                | RawPayload::WalletBet(_)
                | RawPayload::WalletWin(_)
                | RawPayload::Rollback(_)
                | RawPayload::KycStatus(_)
                | RawPayload::DepositLimit(_)
                | RawPayload::LossLimit(_)
                | RawPayload::SessionLimit(_)
                | RawPayload::SelfExclusion(_)
                | RawPayload::TransferRequest(_)
                | RawPayload::TransferCancel(_)
                | RawPayload::BonusAward(_)
        )
    }

    pub fn is_voucher_command(&self) -> bool {
        matches!(
            self,
            RawPayload::VoucherIssue(_)
                | RawPayload::VoucherRedeem(_)
                | RawPayload::VoucherCommit(_)
                | RawPayload::VoucherCancel(_)
                | RawPayload::VoucherVoid(_)
        )
    }

    pub fn is_desk_command(&self) -> bool {
        matches!(
            self,
            RawPayload::ShiftOpen(_)
                | RawPayload::DeskFill(_)
                | RawPayload::DeskCredit(_)
                | RawPayload::ShiftClose(_)
        )
    }
}
