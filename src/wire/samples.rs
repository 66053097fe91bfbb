//! One representative event of every input kind and every output kind, with fixed ids and
//! values: the fixtures of the golden and schema-conformance tests, and examples for docs
//! and tools that check the contract.

use pitboss_actors::domain::aml::{AmlCase, CaseKind, CashDir, CashMove};
use pitboss_actors::domain::ggr::{GgrTotals, WindowClosed};
use pitboss_actors::domain::jackpot::JackpotHit;
use pitboss_actors::domain::machine::{Alert, MeterDiff, RatedSession, Rating, SessionEnd};
use pitboss_actors::domain::voucher::{Party, VoucherNote};
use pitboss_actors::domain::{
    Amount, AttendantId, Carried, Currency, DomainError, EventId, HallId, HandpayKind, MachineId,
    MachineOp, PlayerId, PoolId, ReportedMeter, RoundId, ServerId, SnapshotReason, Timestamp,
    Total, TxId, ValidationNo, VoucherOpKind, VoucherRefusal,
};
use pitboss_actors::shell::ports::LevelView;
use pitboss_actors::shell::{Output, WalletStatus};

use super::input::SnapshotMeters;
use super::{InputEnvelope, InputPayload};

/// Hall of the samples.
pub const HALL: &str = "H-1";
/// Machine of the samples.
pub const MACHINE: &str = "M-17";
/// Game server of the samples.
pub const SERVER: &str = "GS-1";
/// Player of the samples.
pub const PLAYER: &str = "P-1001";
/// Jackpot pool of the samples.
pub const POOL: &str = "POOL-A";
/// Currency of the samples.
pub const CURRENCY: &str = "EUR";
/// Game round named by the version 2 wallet samples ([`inputs_with_round`]).
pub const ROUND: &str = "G-88231";
/// Validation number of the voucher samples (RULES.md V-1).
pub const VALIDATION: &str = "001234567890123456";
/// Cash desk of the voucher samples.
pub const DESK: &str = "DESK-1";

/// Event time of the first sample, ms since the Unix epoch (2023-11-14T22:13:20Z).
pub const TIME_MS: i64 = 1_700_000_000_000;

/// The id of sample event `n`.
pub fn event_id(n: u16) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0190_0b6e_7a4c_7d21_9e3f_5a60_0000_0000 | u128::from(n))
}

/// One input event of every kind: the kinds of the first contract in the order of
/// [`InputPayload`]'s variants, then those added later (`meter_snapshot`). Machine events
/// come from [`MACHINE`], sample `n` with sequence number `n + 1`; wallet commands from
/// [`SERVER`], numbered 1, 2, ...; sample `n` has id `event_id(n)` and time
/// `TIME_MS + n * 1000`.
pub fn inputs() -> Vec<InputEnvelope> {
    let cur = || CURRENCY.to_owned();
    let player = || PLAYER.to_owned();
    let machine = vec![
        InputPayload::Bet {
            amount: 250,
            currency: cur(),
        },
        InputPayload::Win {
            amount: 1_000,
            currency: cur(),
        },
        InputPayload::GameEnd {},
        InputPayload::CashIn {
            kind: "bill".into(),
            amount: 5_000,
            currency: cur(),
            validation: None,
            credit_type: None,
        },
        InputPayload::CashOut {
            kind: "ticket".into(),
            amount: 4_750,
            currency: cur(),
            validation: None,
        },
        InputPayload::CardIn { player: player() },
        InputPayload::CardOut {},
        InputPayload::JackpotHit {
            pool: POOL.into(),
            level: 1,
            amount: None,
            currency: None,
        },
        InputPayload::DoorOpen {},
        InputPayload::DoorClose {},
        InputPayload::Tilt { code: 4_021 },
        InputPayload::TiltClear {},
        InputPayload::CommsLost {},
        InputPayload::CommsRestored {},
    ];
    let wallet = vec![
        InputPayload::Deposit {
            player: player(),
            tx: "T-1".into(),
            amount: 10_000,
            currency: cur(),
            round: None,
        },
        InputPayload::Withdraw {
            player: player(),
            tx: "T-2".into(),
            amount: 2_000,
            currency: cur(),
            round: None,
        },
        InputPayload::WalletBet {
            player: player(),
            tx: "T-3".into(),
            amount: 100,
            currency: cur(),
            round: None,
        },
        InputPayload::WalletWin {
            player: player(),
            tx: "T-4".into(),
            amount: 300,
            currency: cur(),
            bet_tx: Some("T-3".into()),
            round: None,
        },
        InputPayload::Rollback {
            player: player(),
            tx: "T-5".into(),
            bet_tx: "T-3".into(),
            currency: cur(),
            round: None,
        },
    ];
    let machine_count = machine.len();
    let wallet_count = wallet.len();
    machine
        .into_iter()
        .map(|p| (p, true))
        .chain(wallet.into_iter().map(|p| (p, false)))
        .enumerate()
        .map(|(i, (payload, from_machine))| {
            let n = i as u16;
            let time = TIME_MS + i64::from(n) * 1_000;
            if from_machine {
                InputEnvelope::machine(event_id(n), HALL, MACHINE, u64::from(n) + 1, time, payload)
            } else {
                let seq = (i - machine_count) as u64 + 1;
                InputEnvelope::wallet(event_id(n), HALL, SERVER, seq, time, payload)
            }
        })
        .chain(later_inputs((machine_count + wallet_count) as u16))
        .collect::<Vec<_>>()
        .into_iter()
        .chain(voucher_inputs(
            (machine_count + wallet_count + LATER) as u16,
        ))
        .chain(player_rule_inputs(
            (machine_count + wallet_count + LATER + VOUCHER_KINDS) as u16,
        ))
        .chain(transfer_inputs(
            (machine_count + wallet_count + LATER + VOUCHER_KINDS + PLAYER_RULE_KINDS) as u16,
        ))
        .chain(limit_inputs(
            (machine_count + wallet_count + LATER + VOUCHER_KINDS + PLAYER_RULE_KINDS) as u16
                + TRANSFER_KINDS as u16,
        ))
        .chain(bonus_inputs(
            (machine_count + wallet_count + LATER + VOUCHER_KINDS + PLAYER_RULE_KINDS) as u16
                + (TRANSFER_KINDS + LIMIT_KINDS) as u16,
        ))
        .chain(desk_inputs(
            (machine_count + wallet_count + LATER + VOUCHER_KINDS + PLAYER_RULE_KINDS) as u16
                + (TRANSFER_KINDS + LIMIT_KINDS + BONUS_KINDS) as u16,
        ))
        .collect()
}

/// Last of all: a shift of the cash desk [`DESK`] (RULES.md D), its messages 6 to 9 (after
/// its voucher commands): opened by cashier `C-7` with a float of 50,000, a fill of 20,000,
/// a credit of 30,000, closed with 40,000 counted.
fn desk_inputs(first: u16) -> Vec<InputEnvelope> {
    let payloads = [
        InputPayload::ShiftOpen {
            tx: "S-1".into(),
            cashier: "C-7".into(),
            float: 50_000,
            currency: CURRENCY.into(),
        },
        InputPayload::DeskFill {
            tx: "S-2".into(),
            amount: 20_000,
            currency: CURRENCY.into(),
        },
        InputPayload::DeskCredit {
            tx: "S-3".into(),
            amount: 30_000,
            currency: CURRENCY.into(),
        },
        InputPayload::ShiftClose {
            tx: "S-4".into(),
            counted: 40_000,
            currency: CURRENCY.into(),
        },
    ];
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, payload)| {
            let n = first + i as u16;
            let time = TIME_MS + i64::from(n) * 1_000;
            InputEnvelope::wallet(event_id(n), HALL, DESK, i as u64 + 6, time, payload)
        })
        .collect()
}

/// The event of the restricted transfer sample's acknowledgement (not among the inputs).
pub const RESTRICTED_ACK: u16 = 90;

/// How many kinds [`bonus_inputs`] adds.
const BONUS_KINDS: usize = 1;

/// How many kinds [`desk_inputs`] adds.
const DESK_KINDS: usize = 4;

/// After the limits: a bonus award (RULES.md W-12) from the promotions system `PROMO-1`:
/// 5,000 to stake, 3 times its amount to wager, expiring 30 days after it.
fn bonus_inputs(first: u16) -> Vec<InputEnvelope> {
    let time = TIME_MS + i64::from(first) * 1_000;
    let award = InputPayload::BonusAward {
        player: PLAYER.into(),
        tx: "B-1".into(),
        amount: 5_000,
        currency: CURRENCY.into(),
        wagering: 3,
        expires_at: time + 30 * 86_400_000,
    };
    vec![InputEnvelope::wallet(
        event_id(first),
        HALL,
        "PROMO-1",
        1,
        time,
        award,
    )]
}

/// How many kinds [`limit_inputs`] adds.
const LIMIT_KINDS: usize = 2;

/// Last of all: a loss limit and a session limit (RULES.md W-9) from the responsible-gaming
/// service `RG-1`, its fourth and fifth messages.
fn limit_inputs(first: u16) -> Vec<InputEnvelope> {
    let loss = InputPayload::LossLimit {
        player: PLAYER.into(),
        tx: "L-3".into(),
        period: "day".into(),
        amount: Some(20_000),
        currency: Some(CURRENCY.into()),
    };
    let session = InputPayload::SessionLimit {
        player: PLAYER.into(),
        tx: "L-4".into(),
        minutes: Some(120),
    };
    [loss, session]
        .into_iter()
        .enumerate()
        .map(|(i, payload)| {
            let n = first + i as u16;
            let time = TIME_MS + i64::from(n) * 1_000;
            InputEnvelope::wallet(event_id(n), HALL, "RG-1", 4 + i as u64, time, payload)
        })
        .collect()
}

/// How many kinds [`transfer_inputs`] adds.
const TRANSFER_KINDS: usize = 3;

/// Last: a cashless transfer (RULES.md W-10) requested and cancelled by the cashless host
/// `AFT-1`, and a machine's acknowledgement of it.
fn transfer_inputs(first: u16) -> Vec<InputEnvelope> {
    let time = |n: u16| TIME_MS + i64::from(n) * 1_000;
    let request = InputPayload::TransferRequest {
        player: PLAYER.into(),
        tx: "X-1".into(),
        machine: MACHINE.into(),
        amount: 2_000,
        currency: CURRENCY.into(),
        credit_type: None,
    };
    let cancel = InputPayload::TransferCancel {
        player: PLAYER.into(),
        tx: "X-2".into(),
        transfer: "X-1".into(),
    };
    let ack = InputPayload::CashlessTransfer {
        transfer: "X-1".into(),
        player: PLAYER.into(),
        direction: "to_machine".into(),
        amount: 2_000,
        currency: CURRENCY.into(),
        credit_type: None,
    };
    let (a, b, c) = (first, first + 1, first + 2);
    vec![
        InputEnvelope::wallet(event_id(a), HALL, "AFT-1", 1, time(a), request),
        InputEnvelope::wallet(event_id(b), HALL, "AFT-1", 2, time(b), cancel),
        InputEnvelope::machine(event_id(c), HALL, MACHINE, u64::from(c) + 1, time(c), ack),
    ]
}

/// How many kinds [`voucher_inputs`] adds.
const VOUCHER_KINDS: usize = 5;

/// How many kinds [`player_rule_inputs`] adds.
const PLAYER_RULE_KINDS: usize = 3;

/// After every other sample: a KYC status (RULES.md W-8) from the KYC service `KYC-1`, a
/// deposit limit and a self-exclusion (W-9) from the responsible-gaming service `RG-1`.
fn player_rule_inputs(first: u16) -> Vec<InputEnvelope> {
    let payloads = [
        (
            "KYC-1",
            InputPayload::KycStatus {
                player: PLAYER.into(),
                tx: "K-1".into(),
                status: "verified".into(),
            },
        ),
        (
            "RG-1",
            InputPayload::DepositLimit {
                player: PLAYER.into(),
                tx: "L-1".into(),
                period: "week".into(),
                amount: Some(50_000),
                currency: Some(CURRENCY.into()),
            },
        ),
        (
            "RG-1",
            InputPayload::SelfExclusion {
                player: PLAYER.into(),
                tx: "L-2".into(),
                until: TIME_MS + 30 * 86_400_000,
            },
        ),
    ];
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, (server, payload))| {
            let n = first + i as u16;
            let time = TIME_MS + i64::from(n) * 1_000;
            InputEnvelope::wallet(event_id(n), HALL, server, i as u64 + 1, time, payload)
        })
        .collect()
}

/// How many kinds [`later_inputs`] adds.
const LATER: usize = 5;

/// The voucher commands (RULES.md V), after every other sample: from the cash desk
/// [`DESK`] (`voucher_redeem` from [`MACHINE`]'s gateway), numbered 1, 2, ... as the desk's
/// messages, keyed by [`VALIDATION`].
fn voucher_inputs(first: u16) -> Vec<InputEnvelope> {
    let v = || VALIDATION.to_owned();
    let payloads = vec![
        InputPayload::VoucherIssue {
            validation: v(),
            tx: "V-1".into(),
            amount: 2_500,
            currency: CURRENCY.into(),
        },
        InputPayload::VoucherRedeem {
            validation: v(),
            tx: "V-2".into(),
            amount: 2_500,
            currency: CURRENCY.into(),
        },
        InputPayload::VoucherCommit {
            validation: v(),
            tx: "V-3".into(),
        },
        InputPayload::VoucherCancel {
            validation: v(),
            tx: "V-4".into(),
        },
        InputPayload::VoucherVoid {
            validation: v(),
            tx: "V-5".into(),
            reason: "ticket reported stolen".into(),
        },
    ];
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, payload)| {
            let n = first + i as u16;
            let time = TIME_MS + i64::from(n) * 1_000;
            let seq = i as u64 + 1;
            if matches!(payload, InputPayload::VoucherRedeem { .. }) {
                InputEnvelope::machine(event_id(n), HALL, MACHINE, seq, time, payload)
            } else {
                InputEnvelope::wallet(event_id(n), HALL, DESK, seq, time, payload)
            }
        })
        .collect()
}

/// Kinds added after the first contract, after every other sample so that theirs keep their
/// ids: machine events from [`MACHINE`], sample `n` with sequence number `n + 1`.
fn later_inputs(first: u16) -> Vec<InputEnvelope> {
    let payloads = vec![
        InputPayload::MeterSnapshot {
            reason: "door_close".into(),
            currency: CURRENCY.into(),
            meters: SnapshotMeters {
                coin_in: 1_250_000,
                coin_out: 1_130_500,
                jackpot: 50_000,
                handpaid: 120_000,
                games_played: 4_812,
                games_won: 1_377,
                bills_in: 900_000,
                tickets_in: 310_000,
                tickets_out: 640_000,
                cashless_in: 75_000,
                cashless_out: 20_000,
            },
        },
        InputPayload::HandpayPending {
            kind: "jackpot".into(),
            amount: 250_000,
            currency: CURRENCY.into(),
        },
        InputPayload::HandpayReset {
            attendant: "ATT-7".into(),
        },
        InputPayload::PowerOff {},
        InputPayload::PowerOn {},
    ];
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, payload)| {
            let n = first + i as u16;
            let time = TIME_MS + i64::from(n) * 1_000;
            InputEnvelope::machine(event_id(n), HALL, MACHINE, u64::from(n) + 1, time, payload)
        })
        .collect()
}

/// The wallet commands of [`inputs`] as a game provider sends them in schema version 2,
/// each naming its game round [`ROUND`] (RULES.md E-2); same ids, sequence numbers and times.
pub fn inputs_with_round() -> Vec<InputEnvelope> {
    inputs()
        .into_iter()
        // A player rule (RULES.md W-8, W-9) names no round.
        .filter(|env| {
            env.payload.player().is_some()
                && !matches!(
                    env.payload,
                    InputPayload::KycStatus { .. }
                        | InputPayload::DepositLimit { .. }
                        | InputPayload::LossLimit { .. }
                        | InputPayload::SessionLimit { .. }
                        | InputPayload::SelfExclusion { .. }
                        | InputPayload::TransferRequest { .. }
                        | InputPayload::TransferCancel { .. }
                        | InputPayload::BonusAward { .. }
                )
        })
        .map(|mut env| {
            env.schema_version = 2;
            env.payload.set_round(Some(ROUND.to_owned()));
            env
        })
        .collect()
}

/// Every sample output as a record ready to produce, with its name: [`outputs`] encoded,
/// then a hall's gaming-day report (RULES.md H-5), which the publisher makes outside the
/// runtime.
pub fn records() -> Vec<(&'static str, super::OutputRecord)> {
    let mut v: Vec<(&'static str, super::OutputRecord)> = outputs()
        .iter()
        .map(|(name, out)| (*name, super::encode_output(out)))
        .collect();
    v.push(("aml_case_closed", super::encode_case_closed(&case_closed())));
    v.push(("gaming_day", super::encode_gaming_day(&gaming_day())));
    v.push((
        "gaming_day_network",
        super::encode_gaming_day_network(&gaming_day_network()),
    ));
    v.push((
        "gaming_day_machine",
        super::encode_gaming_day_machine(&gaming_day_machine()),
    ));
    v
}

/// The sample AML case, closed by an officer (RULES.md W-11).
pub fn case_closed() -> super::AmlCaseClosedPayload<'static> {
    let case = outputs()
        .into_iter()
        .find(|(name, _)| *name == "aml_case")
        .map(|(_, out)| super::encode_output(&out).id.to_string())
        .expect("the sample AML case");
    super::AmlCaseClosedPayload {
        case_id: case.into(),
        player: "P-1001".into(),
        reason: "source of funds documented: salary".into(),
        operator: "compliance-1".into(),
        closed_at: TIME_MS + 86_400_000,
    }
}

/// The network's day of the sample hall's (RULES.md H-5): two halls closed, one not yet.
pub fn gaming_day_network() -> super::GamingDayNetworkPayload<'static> {
    super::GamingDayNetworkPayload {
        date: "2026-10-25".into(),
        halls_closed: 2,
        halls_open: 1,
        handle: 2_000_000,
        wins: 1_700_000,
        jackpots: 50_000,
        promo: 4_000,
        ggr: 300_000,
        net_win: 246_000,
        games: 15_000,
        windows: 2_600,
        revision: 3,
        currency: CURRENCY.into(),
    }
}

/// One machine's row of the sample hall's day (RULES.md H-4, H-5).
pub fn gaming_day_machine() -> super::GamingDayMachinePayload<'static> {
    super::GamingDayMachinePayload {
        machine: "M-17".into(),
        hall: HALL.into(),
        date: "2026-10-25".into(),
        coin_in: 125_000,
        coin_out: 110_000,
        handpaid_wins: 2_000,
        jackpots: 5_000,
        promo_played: 400,
        ggr: 13_000,
        net_win: 7_600,
        bills_in: 40_000,
        tickets_in: 10_000,
        drop: 50_000,
        tickets_out: 30_000,
        cashless_in: 5_000,
        cashless_out: 1_000,
        handpays: 0,
        restricted_in: 1_000,
        nonrestricted_in: 0,
        theoretical_hold_percent: "8".into(),
        theoretical_win: 10_000,
        hold_percent: "6.08".into(),
        games: 250,
        movements: 321,
        currency: CURRENCY.into(),
    }
}

/// A hall's gaming day (RULES.md H-4, H-5): Vienna, 25 October 2026, the 25-hour day of the
/// change back to winter time, revised twice by late events.
pub fn gaming_day() -> super::GamingDayPayload<'static> {
    super::GamingDayPayload {
        hall: HALL.into(),
        date: "2026-10-25".into(),
        time_zone: "Europe/Vienna".into(),
        day_start: "2026-10-25T06:00:00+01:00".into(),
        day_end: "2026-10-26T06:00:00+01:00".into(),
        minutes: 1_500,
        handle: 1_250_000,
        wins: 1_100_000,
        jackpots: 50_000,
        promo: 4_000,
        ggr: 150_000,
        net_win: 96_000,
        games: 9_876,
        windows: 1_320,
        revision: 2,
        currency: CURRENCY.into(),
    }
}

/// One output of every kind (every alert kind separately, and the wallet answer applied,
/// echoing a round and refused), each with a name: the output kind, `wallet_<case>`, and for
/// alerts `alert_<alert kind>`.
pub fn outputs() -> Vec<(&'static str, Output)> {
    let eur = Currency::new(CURRENCY).expect("sample currency");
    let hall = HallId::new(HALL).expect("sample hall");
    let machine = MachineId::new(MACHINE).expect("sample machine");
    let pool = PoolId::new(POOL).expect("sample pool");
    let player = PlayerId::new(PLAYER).expect("sample player");
    let cause = |n: u16| EventId(event_id(n).as_u128());
    let alert = |alert: Alert, n: u16| Output::Alert {
        alert,
        cause: cause(n),
        index: 0,
    };
    vec![
        (
            "ggr",
            Output::Ggr {
                window: WindowClosed {
                    hall: hall.clone(),
                    window: Timestamp(TIME_MS).window_start(),
                    totals: GgrTotals {
                        bets: 125_000,
                        wins: 98_250,
                        games: 500,
                        jackpots: 10_000,
                        promo: 2_500,
                    },
                    revision: 0,
                    carried: Carried {
                        latest: Some(cause(5)),
                        count: 812,
                    },
                },
                currency: eur,
            },
        ),
        (
            "jackpot_levels",
            Output::JackpotLevels {
                pool: pool.clone(),
                currency: eur,
                levels: vec![
                    LevelView {
                        level: 0,
                        name: "Mini".into(),
                        amount: 10_512,
                        hits: 3,
                    },
                    LevelView {
                        level: 1,
                        name: "Major".into(),
                        amount: 502_040,
                        hits: 0,
                    },
                ],
                carried: Carried {
                    latest: Some(cause(6)),
                    count: 40,
                },
            },
        ),
        (
            "jackpot_hit",
            Output::JackpotHit {
                hit: JackpotHit {
                    pool: pool.clone(),
                    level: 1,
                    name: "Major".into(),
                    amount: Amount::new(502_040).expect("sample amount"),
                    machine: machine.clone(),
                    hit_number: 1,
                    cause: cause(7),
                },
                currency: eur,
            },
        ),
        (
            "wallet",
            Output::Wallet {
                player: player.clone(),
                provider: ServerId::new("GS-1").expect("sample server"),
                tx: TxId::new("T-3").expect("sample tx"),
                kind: pitboss_actors::domain::WalletOpKind::Bet,
                status: WalletStatus::Applied {
                    delta: -100,
                    balance: 7_900,
                    bonus: None,
                },
                currency: eur,
                round: None,
                cause: cause(16),
            },
        ),
        (
            "wallet_round",
            Output::Wallet {
                player: player.clone(),
                provider: ServerId::new("GS-1").expect("sample server"),
                tx: TxId::new("T-3").expect("sample tx"),
                kind: pitboss_actors::domain::WalletOpKind::Bet,
                status: WalletStatus::Applied {
                    delta: -100,
                    balance: 7_900,
                    bonus: None,
                },
                currency: eur,
                round: Some(RoundId::new(ROUND).expect("sample round")),
                cause: cause(16),
            },
        ),
        (
            // RULES.md W-12: a bet of 300 staking 100 of cash and 200 of bonus.
            "wallet_bonus",
            Output::Wallet {
                player: player.clone(),
                provider: ServerId::new("GS-1").expect("sample server"),
                tx: TxId::new("T-3").expect("sample tx"),
                kind: pitboss_actors::domain::WalletOpKind::Bet,
                status: WalletStatus::Applied {
                    delta: -100,
                    balance: 7_900,
                    bonus: Some(pitboss_actors::domain::wallet::BonusAnswer {
                        delta: -200,
                        balance: 4_800,
                    }),
                },
                currency: eur,
                round: None,
                cause: cause(16),
            },
        ),
        (
            "wallet_refused",
            Output::Wallet {
                player: player.clone(),
                provider: ServerId::new("GS-1").expect("sample server"),
                tx: TxId::new("T-4").expect("sample tx"),
                kind: pitboss_actors::domain::WalletOpKind::Withdrawal,
                status: WalletStatus::Refused {
                    code: "insufficient_funds",
                    reason: "withdrawal 9000 exceeds available balance 7900 in wallet P-1".into(),
                },
                currency: eur,
                round: None,
                cause: cause(17),
            },
        ),
        (
            "wallet_kyc_required",
            Output::Wallet {
                player: player.clone(),
                provider: ServerId::new("PSP-1").expect("sample server"),
                tx: TxId::new("T-9").expect("sample tx"),
                kind: pitboss_actors::domain::WalletOpKind::Withdrawal,
                status: WalletStatus::Refused {
                    code: "kyc_required",
                    reason: "withdrawal 250000 from wallet P-1001 is above 100000, and the player is unverified: identity verification is required".into(),
                },
                currency: eur,
                round: None,
                cause: cause(18),
            },
        ),
        (
            "wallet_kyc_status",
            Output::Wallet {
                player: player.clone(),
                provider: ServerId::new("KYC-1").expect("sample server"),
                tx: TxId::new("K-1").expect("sample tx"),
                kind: pitboss_actors::domain::WalletOpKind::KycStatus,
                status: WalletStatus::Applied {
                    delta: 0,
                    balance: 7_900,
                    bonus: None,
                },
                currency: eur,
                round: None,
                // The KYC sample, after the vouchers'.
                cause: cause(
                    (inputs().len()
                        - PLAYER_RULE_KINDS
                        - TRANSFER_KINDS
                        - LIMIT_KINDS
                        - BONUS_KINDS
                        - DESK_KINDS)
                        as u16,
                ),
            },
        ),
        (
            "wallet_limit_deposit",
            Output::Wallet {
                player: player.clone(),
                provider: ServerId::new("PSP-1").expect("sample server"),
                tx: TxId::new("T-10").expect("sample tx"),
                kind: pitboss_actors::domain::WalletOpKind::Deposit,
                status: WalletStatus::Refused {
                    code: "limit_deposit",
                    reason: "deposit 20000 refused: player P-1001 deposited 40000 this week of a limit of 50000".into(),
                },
                currency: eur,
                round: None,
                cause: cause(18),
            },
        ),
        (
            "wallet_limit_loss",
            Output::Wallet {
                player: player.clone(),
                provider: ServerId::new("GS-1").expect("sample server"),
                tx: TxId::new("T-11").expect("sample tx"),
                kind: pitboss_actors::domain::WalletOpKind::Bet,
                status: WalletStatus::Refused {
                    code: "limit_loss",
                    reason: "bet 500 refused: player P-1001 lost 19800 this day of a limit of 20000".into(),
                },
                currency: eur,
                round: None,
                cause: cause(16),
            },
        ),
        (
            "wallet_limit_session",
            Output::Wallet {
                player: player.clone(),
                provider: ServerId::new("GS-1").expect("sample server"),
                tx: TxId::new("T-12").expect("sample tx"),
                kind: pitboss_actors::domain::WalletOpKind::Bet,
                status: WalletStatus::Refused {
                    code: "limit_session",
                    reason: "bet 100 refused: player P-1001's session, from 1767225600000, has lasted its limit of 120 minutes".into(),
                },
                currency: eur,
                round: None,
                cause: cause(16),
            },
        ),
        (
            "alert_sequence_gap",
            alert(
                Alert::SequenceGap {
                    machine: machine.clone(),
                    expected: 5,
                    got: 8,
                },
                0,
            ),
        ),
        (
            "alert_large_cash_in",
            alert(
                Alert::LargeCashIn {
                    machine: machine.clone(),
                    amount: 1_000_000,
                },
                3,
            ),
        ),
        (
            "alert_door_open",
            alert(
                Alert::DoorOpen {
                    machine: machine.clone(),
                },
                8,
            ),
        ),
        (
            "alert_tilt",
            alert(
                Alert::Tilt {
                    machine: machine.clone(),
                    code: 4_021,
                },
                10,
            ),
        ),
        (
            "alert_sequence_reset",
            alert(
                Alert::SequenceReset {
                    machine: machine.clone(),
                    old_epoch: 0,
                    old_high: 8,
                    epoch: 1,
                },
                1,
            ),
        ),
        (
            "alert_sequence_stale",
            alert(
                Alert::SequenceStale {
                    machine: machine.clone(),
                    epoch: 0,
                    seq: 2,
                },
                2,
            ),
        ),
        (
            "alert_credit_variance",
            alert(
                Alert::CreditVariance {
                    machine: machine.clone(),
                    op: MachineOp::Bet,
                    amount: 5_000,
                    credits: 1_900,
                    shortfall: 3_100,
                },
                4,
            ),
        ),
        (
            "alert_win_outside_game",
            alert(
                Alert::WinOutsideGame {
                    machine: machine.clone(),
                    amount: 500,
                },
                5,
            ),
        ),
        (
            "alert_game_end_without_bet",
            alert(
                Alert::GameEndWithoutBet {
                    machine: machine.clone(),
                },
                6,
            ),
        ),
        (
            "alert_card_session_overlap",
            alert(
                Alert::CardSessionOverlap {
                    machine: machine.clone(),
                    player: PlayerId::new("P-2002").expect("sample player"),
                    previous: player.clone(),
                },
                7,
            ),
        ),
        (
            "alert_card_out_without_session",
            alert(
                Alert::CardOutWithoutSession {
                    machine: machine.clone(),
                },
                9,
            ),
        ),
        (
            "alert_machine_moved",
            alert(
                Alert::MachineMoved {
                    machine: machine.clone(),
                    from: hall.clone(),
                    to: HallId::new("H-2").expect("sample hall"),
                },
                11,
            ),
        ),
        (
            "alert_clock_skew",
            alert(
                Alert::ClockSkew {
                    machine: machine.clone(),
                    event_time: Timestamp(TIME_MS + 3_600_000),
                    receive_time: Timestamp(TIME_MS),
                },
                13,
            ),
        ),
        (
            "alert_wrong_currency",
            alert(
                Alert::WrongCurrency {
                    machine: machine.clone(),
                    currency: Currency::new("USD").expect("sample currency"),
                },
                14,
            ),
        ),
        (
            "alert_overflow",
            alert(
                Alert::Overflow {
                    machine: machine.clone(),
                    total: Total::CoinInMeter,
                },
                17,
            ),
        ),
        (
            "alert_unknown_level",
            alert(
                Alert::ClaimRefused {
                    machine: machine.clone(),
                    pool: pool.clone(),
                    level: 9,
                    code: "unknown_level",
                },
                18,
            ),
        ),
        (
            "alert_mystery_claim",
            alert(
                Alert::ClaimRefused {
                    machine: machine.clone(),
                    pool: pool.clone(),
                    level: 1,
                    code: "mystery_claim",
                },
                19,
            ),
        ),
        (
            "alert_pool_not_linked",
            alert(
                Alert::ClaimRefused {
                    machine: machine.clone(),
                    pool: pool.clone(),
                    level: 1,
                    code: "pool_not_linked",
                },
                20,
            ),
        ),
        (
            "alert_jackpot_not_eligible",
            alert(
                Alert::ClaimRefused {
                    machine: machine.clone(),
                    pool: pool.clone(),
                    level: 1,
                    code: "jackpot_not_eligible",
                },
                21,
            ),
        ),
        (
            "alert_jackpot_variance",
            alert(
                Alert::JackpotVariance {
                    machine: machine.clone(),
                    pool: pool.clone(),
                    level: 1,
                    level_amount: 502_040,
                    paid: 502_100,
                },
                22,
            ),
        ),
        (
            "alert_meter_variance",
            alert(
                Alert::MeterVariance {
                    machine: machine.clone(),
                    reason: SnapshotReason::DoorClose,
                    previous: cause(13),
                    previous_time: Timestamp(TIME_MS + 13_000),
                    rows: vec![
                        MeterDiff {
                            meter: ReportedMeter::CoinIn,
                            reported: 12_500,
                            applied: 12_000,
                        },
                        MeterDiff {
                            meter: ReportedMeter::GamesPlayed,
                            reported: 50,
                            applied: 48,
                        },
                    ],
                },
                19,
            ),
        ),
        (
            "alert_meter_reset",
            alert(
                Alert::MeterReset {
                    machine: machine.clone(),
                    meter: ReportedMeter::CoinIn,
                    previous: 1_250_000,
                    reported: 3_000,
                },
                19,
            ),
        ),
        (
            "alert_handpay_pending",
            alert(
                Alert::HandpayPending {
                    machine: machine.clone(),
                    kind: HandpayKind::Jackpot,
                    amount: 250_000,
                },
                20,
            ),
        ),
        (
            "alert_handpay_reset_without_pending",
            alert(
                Alert::HandpayResetWithoutPending {
                    machine: machine.clone(),
                    attendant: AttendantId::new("ATT-7").expect("sample attendant"),
                },
                21,
            ),
        ),
        (
            "alert_win_above_handpay_threshold",
            alert(
                Alert::WinAboveHandpayThreshold {
                    machine: machine.clone(),
                    amount: 150_000,
                    threshold: 120_000,
                },
                1,
            ),
        ),
        (
            "alert_power_off",
            alert(
                Alert::PowerOff {
                    machine: machine.clone(),
                },
                22,
            ),
        ),
        (
            "alert_machine_silent",
            alert(
                Alert::MachineSilent {
                    machine: machine.clone(),
                    hall: hall.clone(),
                    last_event_time: Timestamp(TIME_MS),
                    silent_secs: 900,
                },
                23,
            ),
        ),
        (
            "alert_machine_silence_cleared",
            alert(
                Alert::MachineSilenceCleared {
                    machine: machine.clone(),
                    hall: hall.clone(),
                },
                24,
            ),
        ),
        (
            "alert_location_offline",
            alert(
                Alert::LocationOffline {
                    machine: machine.clone(),
                    hall: hall.clone(),
                    machines: 48,
                },
                25,
            ),
        ),
        (
            "alert_location_online",
            alert(
                Alert::LocationOnline {
                    machine: machine.clone(),
                    hall: hall.clone(),
                },
                26,
            ),
        ),
        ("alert_comms_lost", alert(Alert::CommsLost { machine }, 12)),
        (
            "refused",
            Output::Refused {
                entity: PLAYER.into(),
                code: "insufficient_funds",
                reason: "withdrawal 20000 exceeds available balance 8000 in wallet P-1001".into(),
                cause: cause(15),
            },
        ),
        (
            "rejected",
            Output::Rejected {
                reason: "amount -5 is not positive".into(),
                code: "invalid_amount",
                original: vec![0x81, 0xa3, b'b', b'a', b'd', 0xc0],
                key: Some(MACHINE.as_bytes().to_vec()),
                partition: 3,
                offset: 42,
            },
        ),
    ]
    .into_iter()
    .chain(voucher_outputs())
    .chain(transfer_outputs())
    .chain(session_outputs())
    .chain(case_outputs())
    .chain(shift_outputs())
    .collect()
}

/// A desk's shift (RULES.md D-7): the close of the shift the desk samples open (50,000 float,
/// a fill of 20,000, a credit of 30,000, one ticket sold for 2,500: 42,500 expected, 40,000
/// counted), a refused second close, a revision by a ticket paid late, and the two desk
/// alerts.
fn shift_outputs() -> Vec<(&'static str, Output)> {
    use pitboss_actors::domain::desk::{DeskRefusal, ShiftFigures, ShiftNote, ShiftOp};
    let eur = Currency::new(CURRENCY).expect("sample currency");
    let hall = HallId::new(HALL).expect("sample hall");
    let desk = ServerId::new(DESK).expect("sample desk");
    let first = (inputs().len() - DESK_KINDS) as u16;
    let at = |n: u16| Timestamp(TIME_MS + i64::from(n) * 1_000);
    let cause = |n: u16| EventId(event_id(n).as_u128());
    let shift = ShiftFigures {
        number: 1,
        cashier: "C-7".into(),
        opened_at: at(first),
        closed_at: Some(at(first + 3)),
        float: 50_000,
        cash_in: 2_500,
        cash_out: 0,
        fills: 20_000,
        credits: 30_000,
        counted: Some(40_000),
        operations: 1,
        revision: 0,
    };
    let note = |op, tx: Option<&str>, amount, shift: ShiftFigures, n: u16| ShiftNote {
        op,
        tx: tx.map(|t| TxId::new(t).expect("sample tx")),
        amount,
        refused: None,
        hall: hall.clone(),
        shift,
        cause: cause(n),
        time: at(n),
    };
    let out = |note| Output::Shift {
        desk: desk.clone(),
        currency: eur,
        note: Box::new(note),
    };
    let mut twice = note(
        ShiftOp::Close,
        Some("S-5"),
        40_000,
        shift.clone(),
        first + 4,
    );
    twice.refused = Some(DomainError::Desk {
        refusal: DeskRefusal::NotOpen,
        desk: DESK.into(),
        detail: "no shift is open".into(),
    });
    let revised = ShiftFigures {
        cash_out: 1_000,
        operations: 2,
        revision: 1,
        ..shift.clone()
    };
    let alert = |alert: Alert, n: u16| Output::Alert {
        alert,
        cause: cause(n),
        index: 3_000,
    };
    vec![
        (
            "shift_close",
            out(note(
                ShiftOp::Close,
                Some("S-4"),
                40_000,
                shift.clone(),
                first + 3,
            )),
        ),
        ("shift_refused", out(twice)),
        (
            "shift_revise",
            out(note(ShiftOp::Revise, None, 0, revised, first + 5)),
        ),
        (
            "alert_shift_variance",
            alert(
                Alert::ShiftVariance {
                    desk: desk.clone(),
                    shift: 1,
                    expected: 42_500,
                    counted: 40_000,
                    variance: -2_500,
                },
                first + 3,
            ),
        ),
        (
            "alert_desk_cash_without_shift",
            alert(
                Alert::DeskCashWithoutShift {
                    desk: desk.clone(),
                    amount: -1_000,
                },
                first + 6,
            ),
        ),
    ]
}

/// An AML case (RULES.md W-11): the reportable threshold reached in a day by the bill of
/// the cash-in sample (3, at the machine) and the deposit sample (14).
fn case_outputs() -> Vec<(&'static str, Output)> {
    let mv = |n: u16, amount: i64, machine: Option<&str>| CashMove {
        cause: EventId(event_id(n).as_u128()),
        amount,
        at: Timestamp(TIME_MS + i64::from(n) * 1_000),
        dir: CashDir::In,
        machine: machine.map(|m| MachineId::new(m).expect("sample machine")),
    };
    vec![(
        "aml_case",
        Output::AmlCase {
            case: Box::new(AmlCase {
                player: PlayerId::new(PLAYER).expect("sample player"),
                currency: Currency::new(CURRENCY).expect("sample currency"),
                kind: CaseKind::Report,
                dir: CashDir::In,
                day: Timestamp(TIME_MS - TIME_MS % 86_400_000),
                total: 15_000,
                threshold: 10_000,
                evidence: vec![mv(3, 5_000, Some(MACHINE)), mv(14, 10_000, None)],
                left_out: 0,
            }),
        },
    )]
}

/// A rated card session (RULES.md M-12): carded in by the card-in sample (5), ended by the
/// card-out sample (6), after 2,500 in bets, 1,000 in wins and 3 games, at an 8 % hold.
fn session_outputs() -> Vec<(&'static str, Output)> {
    let cause = |n: u16| EventId(event_id(n).as_u128());
    let time = |n: i64| Timestamp(TIME_MS + n * 1_000);
    vec![(
        "rated_session",
        Output::RatedSession {
            machine: MachineId::new(MACHINE).expect("sample machine"),
            currency: Currency::new(CURRENCY).expect("sample currency"),
            session: Box::new(RatedSession {
                player: PlayerId::new(PLAYER).expect("sample player"),
                hall: HallId::new(HALL).expect("sample hall"),
                rating: Rating {
                    start: time(5),
                    started_by: cause(5),
                    coin_in: 2_500,
                    coin_out: 1_000,
                    games: 3,
                },
                end: time(6),
                ended_by: SessionEnd::CardOut,
                theoretical_win: 200,
                points: 2,
            }),
            cause: cause(6),
        },
    )]
}

/// The voucher outputs (RULES.md V-8) and alerts (V-5, V-6), after every other sample: the
/// answer to a machine's redemption request, a refused desk commit, a machine's printed
/// ticket, and one alert of each voucher kind.
/// The alerts a wallet raises about cashless transfers (RULES.md W-10), about the transfer
/// samples, and about a card-in (W-9): index 3000 on, after a machine's, a pool's and a
/// voucher's.
fn transfer_outputs() -> Vec<(&'static str, Output)> {
    let machine = MachineId::new(MACHINE).expect("sample machine");
    let player = PlayerId::new(PLAYER).expect("sample player");
    let transfer = TxId::new("X-1").expect("sample transfer");
    let last = (inputs().len() - 1 - LIMIT_KINDS - BONUS_KINDS - DESK_KINDS) as u16;
    let alert = |alert: Alert, n: u16, index: u32| Output::Alert {
        alert,
        cause: EventId(event_id(n).as_u128()),
        index,
    };
    vec![
        (
            "alert_transfer_hold_released",
            alert(
                Alert::TransferHoldReleased {
                    machine: machine.clone(),
                    player: player.clone(),
                    transfer: transfer.clone(),
                    amount: 2_000,
                },
                last - 1,
                3_000,
            ),
        ),
        (
            "alert_transfer_without_hold",
            alert(
                Alert::TransferWithoutHold {
                    machine: machine.clone(),
                    player: player.clone(),
                    transfer: transfer.clone(),
                    amount: 2_000,
                    unbacked: 500,
                },
                last,
                3_000,
            ),
        ),
        (
            "alert_transfer_amount_variance",
            alert(
                Alert::TransferAmountVariance {
                    machine: machine.clone(),
                    player: player.clone(),
                    transfer: transfer.clone(),
                    held: 2_000,
                    amount: 2_100,
                    unbacked: 0,
                },
                last,
                3_001,
            ),
        ),
        (
            "alert_transfer_acknowledged_twice",
            alert(
                Alert::TransferAcknowledgedTwice {
                    machine,
                    player,
                    transfer,
                    amount: 2_000,
                    direction: "to_machine",
                },
                last,
                3_002,
            ),
        ),
        (
            // RULES.md W-9: about the card-in sample (5), raised by the player's wallet.
            "alert_self_excluded_card_in",
            alert(
                Alert::SelfExcludedCardIn {
                    machine: MachineId::new(MACHINE).expect("sample machine"),
                    player: PlayerId::new(PLAYER).expect("sample player"),
                    until: Timestamp(TIME_MS + 86_400_000),
                },
                5,
                3_000,
            ),
        ),
        (
            // RULES.md W-10: the machine took 2,100 of a 2,000 hold; the balance paid 100.
            "transfer",
            Output::Transfer {
                player: PlayerId::new(PLAYER).expect("sample player"),
                currency: Currency::new(CURRENCY).expect("sample currency"),
                settled: Box::new(pitboss_actors::domain::wallet::TransferSettled {
                    event: EventId(event_id(last).as_u128()),
                    transfer: TxId::new("X-1").expect("sample transfer"),
                    machine: MachineId::new(MACHINE).expect("sample machine"),
                    direction: pitboss_actors::domain::transfer::Direction::ToMachine,
                    amount: 2_100,
                    held: 2_000,
                    delta: -100,
                    unbacked: 0,
                    repeated: false,
                    balance: 7_900,
                    credit: Default::default(),
                }),
                cause: EventId(event_id(last).as_u128()),
            },
        ),
        (
            // RULES.md W-12: the machine took 1,000 restricted credits of a 1,000 bonus hold.
            "transfer_restricted",
            Output::Transfer {
                player: PlayerId::new(PLAYER).expect("sample player"),
                currency: Currency::new(CURRENCY).expect("sample currency"),
                settled: Box::new(pitboss_actors::domain::wallet::TransferSettled {
                    event: EventId(event_id(RESTRICTED_ACK).as_u128()),
                    transfer: TxId::new("X-3").expect("sample transfer"),
                    machine: MachineId::new(MACHINE).expect("sample machine"),
                    direction: pitboss_actors::domain::transfer::Direction::ToMachine,
                    amount: 1_000,
                    held: 1_000,
                    delta: 0,
                    unbacked: 0,
                    repeated: false,
                    balance: 7_900,
                    credit: pitboss_actors::domain::transfer::CreditType::Restricted,
                }),
                cause: EventId(event_id(RESTRICTED_ACK).as_u128()),
            },
        ),
    ]
}

fn voucher_outputs() -> Vec<(&'static str, Output)> {
    let eur = Currency::new(CURRENCY).expect("sample currency");
    let hall = HallId::new(HALL).expect("sample hall");
    let machine = MachineId::new(MACHINE).expect("sample machine");
    let desk = Party::Desk(ServerId::new(DESK).expect("sample desk"));
    let v = ValidationNo::new(VALIDATION).expect("sample validation number");
    let cause = |n: u16| EventId(event_id(n).as_u128());
    let first = (inputs().len()
        - VOUCHER_KINDS
        - PLAYER_RULE_KINDS
        - TRANSFER_KINDS
        - LIMIT_KINDS
        - BONUS_KINDS
        - DESK_KINDS) as u16;
    let note = |op, party: Party, tx: Option<&str>, status, n: u16| VoucherNote {
        op,
        party,
        tx: tx.map(|t| TxId::new(t).expect("sample tx")),
        amount: 2_500,
        refused: None,
        status,
        voucher: Some((2_500, hall.clone())),
        cause: cause(n),
        time: Timestamp(TIME_MS + i64::from(n) * 1_000),
    };
    let out = |note| Output::Voucher {
        validation: v,
        currency: eur,
        note,
    };
    let alert = |alert: Alert, n: u16| Output::Alert {
        alert,
        cause: cause(n),
        index: 2_000,
    };
    let mut refused = note(
        VoucherOpKind::Commit,
        desk.clone(),
        Some("V-3"),
        "held",
        first + 2,
    );
    refused.amount = 0;
    refused.refused = Some(DomainError::Voucher {
        refusal: VoucherRefusal::NotHeld,
        validation: VALIDATION.into(),
        detail: format!("is held, not held by desk {DESK}"),
    });
    vec![
        (
            "voucher",
            out(note(
                VoucherOpKind::Redeem,
                Party::Machine(machine.clone()),
                Some("V-2"),
                "held",
                first + 1,
            )),
        ),
        ("voucher_refused", out(refused)),
        (
            "voucher_printed",
            out(note(
                VoucherOpKind::Printed,
                Party::Machine(machine.clone()),
                None,
                "issued",
                4,
            )),
        ),
        (
            "alert_voucher_number_reused",
            alert(
                Alert::VoucherNumberReused {
                    machine: machine.clone(),
                    validation: v,
                    amount: 700,
                    status: "redeemed",
                },
                4,
            ),
        ),
        (
            "alert_voucher_credit_unbacked",
            alert(
                Alert::VoucherCreditUnbacked {
                    machine: machine.clone(),
                    validation: v,
                    amount: 2_500,
                    status: "redeemed",
                },
                3,
            ),
        ),
        (
            "alert_voucher_redeemed_without_hold",
            alert(
                Alert::VoucherRedeemedWithoutHold {
                    machine: machine.clone(),
                    validation: v,
                    amount: 2_500,
                    holder: Some(format!("desk {DESK}")),
                },
                3,
            ),
        ),
        (
            "alert_voucher_amount_variance",
            alert(
                Alert::VoucherAmountVariance {
                    machine,
                    validation: v,
                    voucher: 2_500,
                    credited: 2_600,
                },
                3,
            ),
        ),
        (
            "alert_voucher_hold_released",
            alert(
                Alert::VoucherHoldReleased {
                    validation: v,
                    holder: format!("desk {DESK}"),
                    machine: None,
                    amount: 2_500,
                },
                first + 3,
            ),
        ),
    ]
}
