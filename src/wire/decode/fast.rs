//! The fast path of [`super::decode_input`]: a hand-written reader for the common shape of
//! an input event (string keys, string and integer leaves, maps), straight from the bytes
//! into the same borrowed [`RawEnvelope`] the serde path builds, so both share one
//! validation. Anything it is not sure about — a missing or duplicate field, a leaf of the
//! wrong type, an unknown kind, a nil optional, trailing bytes, invalid UTF-8 — makes it
//! give up (`None`), and the serde path decodes the message and names the problem.
//!
//! Profiling (callgrind, `pitboss-load inproc`) showed decoding at about 4,600 instructions
//! per event through the serde path, half of the whole pipeline's work; this path exists
//! for that reason and is checked against the serde path by `tests/inproc/wire_fast_path.rs`.

use std::borrow::Cow;

use super::raw::{
    Empty, RawBonusAward, RawCash, RawCashlessTransfer, RawDepositLimit, RawDesk, RawEnvelope,
    RawInt, RawKyc, RawMeters, RawMoney, RawPayload, RawRollback, RawSelfExclusion,
    RawSessionLimit, RawSource, RawStr, RawTransferCancel, RawTransferRequest, RawVoucher,
    RawWallet,
};
use crate::wire::NESTING_DEPTH_MAX;

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let v = *self.b.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn be(&mut self, n: usize) -> Option<u64> {
        let s = self.take(n)?;
        Some(s.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn map_len(&mut self) -> Option<usize> {
        match self.byte()? {
            m @ 0x80..=0x8f => Some((m & 0x0f) as usize),
            0xde => self.be(2).map(|n| n as usize),
            0xdf => self.be(4).map(|n| n as usize),
            _ => None,
        }
    }

    fn str_bytes(&mut self) -> Option<&'a [u8]> {
        let n = match self.byte()? {
            m @ 0xa0..=0xbf => (m & 0x1f) as usize,
            0xd9 => self.be(1)? as usize,
            0xda => self.be(2)? as usize,
            0xdb => self.be(4)? as usize,
            _ => return None,
        };
        self.take(n)
    }

    fn str(&mut self) -> Option<RawStr<'a>> {
        let s = std::str::from_utf8(self.str_bytes()?).ok()?;
        Some(RawStr::Str(Cow::Borrowed(s)))
    }

    fn int(&mut self) -> Option<RawInt> {
        let v: i128 = match self.byte()? {
            m @ 0x00..=0x7f => i128::from(m),
            m @ 0xe0..=0xff => i128::from(m as i8),
            0xcc => i128::from(self.be(1)?),
            0xcd => i128::from(self.be(2)?),
            0xce => i128::from(self.be(4)?),
            0xcf => i128::from(self.be(8)?),
            0xd0 => i128::from(self.be(1)? as u8 as i8),
            0xd1 => i128::from(self.be(2)? as u16 as i16),
            0xd2 => i128::from(self.be(4)? as u32 as i32),
            0xd3 => i128::from(self.be(8)? as i64),
            _ => return None,
        };
        Some(RawInt::Int(v))
    }

    /// Skips any one value (an unknown field), to a bounded depth.
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > NESTING_DEPTH_MAX {
            return None;
        }
        let m = self.byte()?;
        let n = match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => 0,
            0x80..=0x8f => return self.skip_n((m & 0x0f) as usize * 2, depth),
            0x90..=0x9f => return self.skip_n((m & 0x0f) as usize, depth),
            0xa0..=0xbf => (m & 0x1f) as usize,
            0xc4 | 0xd9 => self.be(1)? as usize,
            0xc5 | 0xda => self.be(2)? as usize,
            0xc6 | 0xdb => self.be(4)? as usize,
            0xca => 4,
            0xcb => 8,
            0xcc | 0xd0 => 1,
            0xcd | 0xd1 => 2,
            0xce | 0xd2 => 4,
            0xcf | 0xd3 => 8,
            0xd4 => 2,
            0xd5 => 3,
            0xd6 => 5,
            0xd7 => 9,
            0xd8 => 17,
            0xc7 => self.be(1)? as usize + 1,
            0xc8 => self.be(2)? as usize + 1,
            0xc9 => self.be(4)? as usize + 1,
            0xdc => {
                let len = self.be(2)? as usize;
                return self.skip_n(len, depth);
            }
            0xdd => {
                let len = self.be(4)? as usize;
                return self.skip_n(len, depth);
            }
            0xde => {
                let len = self.be(2)? as usize * 2;
                return self.skip_n(len, depth);
            }
            0xdf => {
                let len = self.be(4)? as usize * 2;
                return self.skip_n(len, depth);
            }
            0xc1 => return None,
        };
        self.take(n).map(|_| ())
    }

    fn skip_n(&mut self, n: usize, depth: usize) -> Option<()> {
        for _ in 0..n {
            self.skip(depth + 1)?;
        }
        Some(())
    }
}

/// Sets a field once; a second occurrence gives up (serde reports duplicates).
fn once<T>(slot: &mut Option<T>, v: Option<T>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(v?);
    Some(())
}

/// Reads a map of fields with `f` (key, reader) -> Some(true) if the key was known,
/// Some(false) to skip it, None to give up.
fn fields<'a>(
    r: &mut Reader<'a>,
    depth: usize,
    mut f: impl FnMut(&[u8], &mut Reader<'a>) -> Option<bool>,
) -> Option<()> {
    let n = r.map_len()?;
    for _ in 0..n {
        let key = r.str_bytes()?;
        if !f(key, r)? {
            r.skip(depth + 1)?;
        }
    }
    Some(())
}

/// The envelope, or `None` to let the serde path decide.
pub(super) fn read(bytes: &[u8]) -> Option<RawEnvelope<'_>> {
    let mut r = Reader { b: bytes, pos: 0 };
    let (mut event_id, mut version, mut source, mut seq, mut time, mut payload) =
        (None, None, None, None, None, None);
    let (mut epoch, mut receive_time) = (None, None);
    fields(&mut r, 0, |k, r| {
        match k {
            b"event_id" => once(&mut event_id, r.str())?,
            b"schema_version" => once(&mut version, r.int())?,
            b"source" => once(&mut source, read_source(r))?,
            b"seq" => once(&mut seq, r.int())?,
            b"event_time" => once(&mut time, r.int())?,
            b"epoch" => once(&mut epoch, r.int())?,
            b"receive_time" => once(&mut receive_time, r.int())?,
            b"payload" => once(&mut payload, read_payload(r))?,
            _ => return Some(false),
        }
        Some(true)
    })?;
    if r.pos != bytes.len() {
        return None;
    }
    Some(RawEnvelope {
        event_id: event_id?,
        schema_version: version?,
        source: source?,
        seq: seq?,
        event_time: time?,
        epoch,
        receive_time,
        payload: payload?,
    })
}

fn read_source<'a>(r: &mut Reader<'a>) -> Option<RawSource<'a>> {
    let (mut hall, mut machine, mut server) = (None, None, None);
    fields(r, 1, |k, r| {
        match k {
            b"hall" => once(&mut hall, r.str())?,
            b"machine" => once(&mut machine, r.str())?,
            b"server" => once(&mut server, r.str())?,
            _ => return Some(false),
        }
        Some(true)
    })?;
    Some(RawSource {
        hall: hall?,
        machine,
        server,
    })
}

/// The fields a payload may carry; which are required depends on the kind.
#[derive(Default)]
struct Fields<'a> {
    amount: Option<RawInt>,
    currency: Option<RawStr<'a>>,
    kind: Option<RawStr<'a>>,
    player: Option<RawStr<'a>>,
    tx: Option<RawStr<'a>>,
    bet_tx: Option<RawStr<'a>>,
    round: Option<RawStr<'a>>,
    pool: Option<RawStr<'a>>,
    level: Option<RawInt>,
    code: Option<RawInt>,
    reason: Option<RawStr<'a>>,
    /// Boxed: eleven leaves would make these fields, moved for every event, four times
    /// larger.
    meters: Option<Box<RawMeters>>,
    attendant: Option<RawStr<'a>>,
    validation: Option<RawStr<'a>>,
    status: Option<RawStr<'a>>,
    period: Option<RawStr<'a>>,
    until: Option<RawInt>,
    minutes: Option<RawInt>,
    machine: Option<RawStr<'a>>,
    transfer: Option<RawStr<'a>>,
    direction: Option<RawStr<'a>>,
    credit_type: Option<RawStr<'a>>,
    wagering: Option<RawInt>,
    expires_at: Option<RawInt>,
    cashier: Option<RawStr<'a>>,
    float: Option<RawInt>,
    counted: Option<RawInt>,
}

/// A meter snapshot's `meters` map: every meter once, integers only.
fn read_meters(r: &mut Reader<'_>) -> Option<RawMeters> {
    let mut v: [Option<RawInt>; 11] = [None; 11];
    const NAMES: [&[u8]; 11] = [
        b"coin_in",
        b"coin_out",
        b"jackpot",
        b"handpaid",
        b"games_played",
        b"games_won",
        b"bills_in",
        b"tickets_in",
        b"tickets_out",
        b"cashless_in",
        b"cashless_out",
    ];
    fields(r, 3, |k, r| {
        let Some(i) = NAMES.iter().position(|n| *n == k) else {
            return Some(false);
        };
        once(&mut v[i], r.int())?;
        Some(true)
    })?;
    Some(RawMeters {
        coin_in: v[0]?,
        coin_out: v[1]?,
        jackpot: v[2]?,
        handpaid: v[3]?,
        games_played: v[4]?,
        games_won: v[5]?,
        bills_in: v[6]?,
        tickets_in: v[7]?,
        tickets_out: v[8]?,
        cashless_in: v[9]?,
        cashless_out: v[10]?,
    })
}

fn read_payload<'a>(r: &mut Reader<'a>) -> Option<RawPayload<'a>> {
    if r.map_len()? != 1 {
        return None;
    }
    let kind = r.str_bytes()?;
    let mut f = Fields::default();
    fields(r, 2, |k, r| {
        match k {
            b"amount" => once(&mut f.amount, r.int())?,
            b"currency" => once(&mut f.currency, r.str())?,
            b"kind" => once(&mut f.kind, r.str())?,
            b"player" => once(&mut f.player, r.str())?,
            b"tx" => once(&mut f.tx, r.str())?,
            b"bet_tx" => once(&mut f.bet_tx, r.str())?,
            b"round" => once(&mut f.round, r.str())?,
            b"pool" => once(&mut f.pool, r.str())?,
            b"level" => once(&mut f.level, r.int())?,
            b"code" => once(&mut f.code, r.int())?,
            b"reason" => once(&mut f.reason, r.str())?,
            b"meters" => once(&mut f.meters, read_meters(r).map(Box::new))?,
            b"attendant" => once(&mut f.attendant, r.str())?,
            b"validation" => once(&mut f.validation, r.str())?,
            b"status" => once(&mut f.status, r.str())?,
            b"period" => once(&mut f.period, r.str())?,
            b"until" => once(&mut f.until, r.int())?,
            b"minutes" => once(&mut f.minutes, r.int())?,
            b"machine" => once(&mut f.machine, r.str())?,
            b"transfer" => once(&mut f.transfer, r.str())?,
            b"direction" => once(&mut f.direction, r.str())?,
            b"credit_type" => once(&mut f.credit_type, r.str())?,
            b"wagering" => once(&mut f.wagering, r.int())?,
            b"expires_at" => once(&mut f.expires_at, r.int())?,
            b"cashier" => once(&mut f.cashier, r.str())?,
            b"float" => once(&mut f.float, r.int())?,
            b"counted" => once(&mut f.counted, r.int())?,
            _ => return Some(false),
        }
        Some(true)
    })?;
    // Fields the kind does not have are ignored by the serde path too; only the ones it
    // needs are taken.
    let money = |f: Fields<'a>| -> Option<RawMoney<'a>> {
        Some(RawMoney {
            amount: f.amount?,
            currency: f.currency?,
        })
    };
    let cash = |f: Fields<'a>| -> Option<RawCash<'a>> {
        Some(RawCash {
            kind: f.kind?,
            amount: f.amount?,
            currency: f.currency?,
            validation: f.validation,
            credit_type: f.credit_type,
        })
    };
    let voucher = |f: Fields<'a>| -> Option<RawVoucher<'a>> {
        Some(RawVoucher {
            validation: f.validation?,
            tx: f.tx?,
            amount: f.amount,
            currency: f.currency,
            reason: f.reason,
        })
    };
    let desk = |f: Fields<'a>| -> Option<RawDesk<'a>> {
        Some(RawDesk {
            tx: f.tx?,
            cashier: f.cashier,
            float: f.float,
            amount: f.amount,
            counted: f.counted,
            currency: f.currency?,
        })
    };
    let wallet = |f: Fields<'a>, with_bet_tx: bool| -> Option<RawWallet<'a>> {
        Some(RawWallet {
            player: f.player?,
            tx: f.tx?,
            amount: f.amount?,
            currency: f.currency?,
            bet_tx: if with_bet_tx { f.bet_tx } else { None },
            round: f.round,
        })
    };
    use RawPayload as P;
    Some(match kind {
        b"bet" => P::Bet(money(f)?),
        b"win" => P::Win(money(f)?),
        b"game_end" => P::GameEnd(Empty {}),
        b"cash_in" => P::CashIn(cash(f)?),
        b"cash_out" => P::CashOut(cash(f)?),
        b"card_in" => P::CardIn { player: f.player? },
        b"card_out" => P::CardOut(Empty {}),
        b"jackpot_hit" => P::JackpotHit {
            pool: f.pool?,
            level: f.level?,
            amount: f.amount,
            currency: f.currency,
        },
        b"door_open" => P::DoorOpen(Empty {}),
        b"door_close" => P::DoorClose(Empty {}),
        b"tilt" => P::Tilt { code: f.code? },
        b"tilt_clear" => P::TiltClear(Empty {}),
        b"comms_lost" => P::CommsLost(Empty {}),
        b"comms_restored" => P::CommsRestored(Empty {}),
        b"power_off" => P::PowerOff(Empty {}),
        b"power_on" => P::PowerOn(Empty {}),
        b"handpay_pending" => P::HandpayPending(RawCash {
            validation: None,
            ..cash(f)?
        }),
        b"handpay_reset" => P::HandpayReset {
            attendant: f.attendant?,
        },
        b"meter_snapshot" => P::MeterSnapshot {
            reason: f.reason?,
            currency: f.currency?,
            meters: f.meters?,
        },
        b"deposit" => P::Deposit(wallet(f, false)?),
        b"withdraw" => P::Withdraw(wallet(f, false)?),
        b"wallet_bet" => P::WalletBet(wallet(f, false)?),
        b"wallet_win" => P::WalletWin(wallet(f, true)?),
        b"rollback" => P::Rollback(RawRollback {
            player: f.player?,
            tx: f.tx?,
            bet_tx: f.bet_tx?,
            currency: f.currency?,
            round: f.round,
        }),
        b"kyc_status" => P::KycStatus(RawKyc {
            player: f.player?,
            tx: f.tx?,
            status: f.status?,
        }),
        b"deposit_limit" | b"loss_limit" => {
            let limit = RawDepositLimit {
                player: f.player?,
                tx: f.tx?,
                period: f.period?,
                amount: f.amount,
                currency: f.currency,
            };
            if kind == b"loss_limit" {
                P::LossLimit(limit)
            } else {
                P::DepositLimit(limit)
            }
        }
        b"session_limit" => P::SessionLimit(RawSessionLimit {
            player: f.player?,
            tx: f.tx?,
            minutes: f.minutes,
        }),
        b"self_exclusion" => P::SelfExclusion(RawSelfExclusion {
            player: f.player?,
            tx: f.tx?,
            until: f.until?,
        }),
        b"transfer_request" => P::TransferRequest(RawTransferRequest {
            player: f.player?,
            tx: f.tx?,
            machine: f.machine?,
            amount: f.amount?,
            currency: f.currency?,
            credit_type: f.credit_type,
        }),
        b"transfer_cancel" => P::TransferCancel(RawTransferCancel {
            player: f.player?,
            tx: f.tx?,
            transfer: f.transfer?,
        }),
        b"cashless_transfer" => P::CashlessTransfer(RawCashlessTransfer {
            transfer: f.transfer?,
            player: f.player?,
            direction: f.direction?,
            amount: f.amount?,
            currency: f.currency?,
            credit_type: f.credit_type,
        }),
        b"bonus_award" => P::BonusAward(RawBonusAward {
            player: f.player?,
            tx: f.tx?,
            amount: f.amount?,
            currency: f.currency?,
            wagering: f.wagering?,
            expires_at: f.expires_at?,
        }),
        b"voucher_issue" => P::VoucherIssue(voucher(f)?),
        b"voucher_redeem" => P::VoucherRedeem(voucher(f)?),
        b"voucher_commit" => P::VoucherCommit(voucher(f)?),
        b"voucher_cancel" => P::VoucherCancel(voucher(f)?),
        b"voucher_void" => P::VoucherVoid(voucher(f)?),
        b"shift_open" => P::ShiftOpen(desk(f)?),
        b"desk_fill" => P::DeskFill(desk(f)?),
        b"desk_credit" => P::DeskCredit(desk(f)?),
        b"shift_close" => P::ShiftClose(desk(f)?),
        _ => return None,
    })
}
