//! The wire format, pinned: golden bytes of every input and output kind, round trips, the
//! domain values decoding produces, and every way an input can be rejected.
//!
//! Golden files live in tests/golden/. After an intended change of the format, regenerate
//! them with `UPDATE_GOLDEN=1 cargo test --test inproc wire_golden` and review the diff.

use std::collections::BTreeSet;
use std::path::PathBuf;

use pitboss::wire::{
    self, decode_input, decode_output, encode_gaming_day, encode_gaming_day_machine,
    encode_gaming_day_network, encode_output, encode_rejection, samples, GamingDayMachinePayload,
    InputEnvelope, InputPayload, OutputEvent, Topic, WireError, MESSAGE_BYTES_MAX,
    OUTPUT_ID_NAMESPACE, REASON_CODES, REJECTED_ORIGINAL_BYTES_MAX,
};
use pitboss_actors::domain::desk::{DeskCommand, DeskMeta, DeskOp};
use pitboss_actors::domain::limits::{DepositPeriod, LimitKind};
use pitboss_actors::domain::machine::{
    CashInKind, CashOutKind, EventMeta, MachineCommand, MachineTransfer, MeterReport, PromoCredit,
    SignificantEvent,
};
use pitboss_actors::domain::transfer::{CreditType, Direction};
use pitboss_actors::domain::voucher::{Party, VoucherCommand, VoucherMeta, VoucherOp};
use pitboss_actors::domain::wallet::{WalletCommand, WalletMeta, WalletOp};
use pitboss_actors::domain::{
    Amount, AttendantId, Currency, EventId, HallId, HandpayKind, KycStatus, MachineId, PlayerId,
    PoolId, ServerId, SnapshotReason, Timestamp, TxId, ValidationNo,
};
use pitboss_actors::shell::{Input, Output};
use proptest::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

// ------------------------------------------------------------------ helpers

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
}

/// Every golden file: name (without extension) and the bytes the code writes today.
fn golden_cases() -> Vec<(String, Vec<u8>)> {
    let mut cases = Vec::new();
    for env in samples::inputs() {
        cases.push((format!("input_{}", env.payload.kind()), env.to_bytes()));
    }
    for env in samples::inputs_with_round() {
        cases.push((format!("input_v2_{}", env.payload.kind()), env.to_bytes()));
    }
    for (name, rec) in samples::records() {
        cases.push((format!("output_{name}"), rec.bytes));
    }
    let err = decode_input(&[0xc1]).expect_err("0xc1 is never valid");
    cases.push((
        "output_rejected_undecodable".to_owned(),
        encode_rejection(&err, &[0xc1], None, 0, 7).bytes,
    ));
    cases
}

/// A valid bet, as JSON, to mutate into invalid messages.
fn bet_json() -> Value {
    json!({
        "event_id": samples::event_id(0).to_string(),
        "schema_version": 1,
        "source": { "hall": "H-1", "machine": "M-17" },
        "seq": 1,
        "event_time": samples::TIME_MS,
        "payload": { "bet": { "amount": 250, "currency": "EUR" } }
    })
}

/// A valid deposit, as JSON.
fn deposit_json() -> Value {
    json!({
        "event_id": samples::event_id(14).to_string(),
        "schema_version": 1,
        "source": { "hall": "H-1", "server": "GS-1" },
        "seq": 1,
        "event_time": samples::TIME_MS,
        "payload": { "deposit": { "player": "P-1001", "tx": "T-1", "amount": 10000, "currency": "EUR" } }
    })
}

/// MessagePack of a JSON value, as a producer would write it (maps with field names).
fn msgpack(v: &Value) -> Vec<u8> {
    rmp_serde::to_vec_named(v).expect("JSON values serialize")
}

/// Sets (or adds) the field at `pointer`.
fn with(mut v: Value, pointer: &str, new: Value) -> Value {
    match pointer.rsplit_once('/') {
        Some((parent, field)) => {
            let parent = v.pointer_mut(parent).and_then(Value::as_object_mut);
            parent
                .unwrap_or_else(|| panic!("no object above {pointer}"))
                .insert(field.to_owned(), new);
        }
        None => panic!("{pointer} is not a JSON pointer"),
    }
    v
}

fn without(mut v: Value, parent: &str, field: &str) -> Value {
    v.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent}"))
        .remove(field)
        .unwrap_or_else(|| panic!("no {field} at {parent}"));
    v
}

fn v5(name: &str) -> Uuid {
    Uuid::new_v5(&OUTPUT_ID_NAMESPACE, name.as_bytes())
}

// ------------------------------------------------------------------ golden bytes

#[test]
fn golden_bytes_of_every_input_and_output_kind() {
    let dir = golden_dir();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let cases = golden_cases();
    let mut problems = Vec::new();
    for (name, bytes) in &cases {
        let path = dir.join(format!("{name}.msgpack"));
        if update {
            std::fs::create_dir_all(&dir).expect("create tests/golden");
            std::fs::write(&path, bytes)
                .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            continue;
        }
        match std::fs::read(&path) {
            Ok(golden) if golden == *bytes => {}
            Ok(golden) => problems.push(format!(
                "{name}: bytes differ from the golden file ({} bytes written, {} in the file)",
                bytes.len(),
                golden.len()
            )),
            Err(e) => problems.push(format!("{name}: cannot read {}: {e}", path.display())),
        }
    }
    // No golden file may outlive the case that wrote it.
    let expected: BTreeSet<String> = cases.iter().map(|(n, _)| format!("{n}.msgpack")).collect();
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("tests/golden exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".msgpack"))
        .collect();
    for stale in present.difference(&expected) {
        problems.push(format!("{stale}: golden file without a case (delete it)"));
    }
    assert!(
        problems.is_empty(),
        "golden mismatch (if the change is intended, rerun with UPDATE_GOLDEN=1 and review):\n{}",
        problems.join("\n")
    );
    // 38 input kinds, 5 version 2 wallet commands with a round, 62 output samples (the
    // wallet answers: applied, with a round, with a bonus, refused, refused for KYC, a KYC
    // status, refused for a deposit limit, a loss limit and a session limit; every alert
    // kind; a voucher's answer applied and refused and a ticket fact; a transfer settled, of
    // cash and of restricted credits; a rated session; an AML case), an AML case closed, a
    // gaming day (a hall's, the network's, a machine's), 1 rejection; 4 desk commands, 3
    // shift answers and 2 desk alerts (RULES.md D).
    assert_eq!(cases.len(), 42 + 5 + 62 + 1 + 3 + 1 + 3 + 2);
}

#[test]
fn golden_inputs_decode_to_their_samples() {
    // The files on disk, not just today's encoder, must keep decoding.
    let named = |prefix: &'static str| {
        move |env: InputEnvelope| (format!("{prefix}{}", env.payload.kind()), env)
    };
    for (name, env) in samples::inputs().into_iter().map(named("input_")).chain(
        samples::inputs_with_round()
            .into_iter()
            .map(named("input_v2_")),
    ) {
        let path = golden_dir().join(format!("{name}.msgpack"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(InputEnvelope::from_bytes(&bytes).as_ref(), Ok(&env));
        assert_eq!(decode_input(&bytes), Input::try_from(&env));
    }
}

#[test]
fn the_envelope_is_a_map_with_field_names() {
    let bytes = samples::inputs()[0].to_bytes();
    assert_eq!(bytes[0], 0x86, "fixmap of 6 fields");
    assert_eq!(
        &bytes[1..10],
        b"\xa8event_id",
        "first key is the field name"
    );
    let text = String::from_utf8_lossy(&bytes);
    for field in [
        "schema_version",
        "source",
        "hall",
        "machine",
        "seq",
        "event_time",
        "payload",
        "bet",
    ] {
        assert!(text.contains(field), "{field} missing from {text:?}");
    }
    assert!(
        !text.contains("server"),
        "absent optional fields are not written"
    );
}

// ------------------------------------------------------------------ inputs to the domain

enum Expect {
    Machine(MachineCommand, Option<&'static str>),
    Wallet(&'static str, WalletOp),
    /// A voucher command: the sender (a machine, else the desk), tx, op, currency.
    Voucher(bool, &'static str, VoucherOp, Option<&'static str>),
    /// A player rule from its service (RULES.md W-8, W-9): the sender, tx, op, currency.
    Rule(&'static str, &'static str, WalletOp, Option<&'static str>),
    /// A desk's shift command (RULES.md D): tx, op.
    Desk(&'static str, DeskOp),
}

fn expected_commands() -> Vec<Expect> {
    use Expect::{Machine as M, Voucher as V, Wallet as W};
    let a = |v: i64| Amount::new(v).expect("valid");
    let tx = |t: &str| TxId::new(t).expect("valid");
    let eur = Some("EUR");
    vec![
        M(MachineCommand::Bet(a(250)), eur),
        M(MachineCommand::Win(a(1_000)), eur),
        M(MachineCommand::GameEnd, None),
        M(MachineCommand::CashIn(CashInKind::Bill, a(5_000)), eur),
        M(
            MachineCommand::CashOut(CashOutKind::Ticket(None), a(4_750)),
            eur,
        ),
        M(
            MachineCommand::CardIn(PlayerId::new("P-1001").expect("valid")),
            None,
        ),
        M(MachineCommand::CardOut, None),
        M(
            MachineCommand::JackpotHit {
                pool: PoolId::new("POOL-A").expect("valid"),
                level: 1,
                amount: None,
            },
            None,
        ),
        M(
            MachineCommand::Significant(SignificantEvent::DoorOpen),
            None,
        ),
        M(
            MachineCommand::Significant(SignificantEvent::DoorClose),
            None,
        ),
        M(
            MachineCommand::Significant(SignificantEvent::Tilt(4_021)),
            None,
        ),
        M(
            MachineCommand::Significant(SignificantEvent::TiltClear),
            None,
        ),
        M(
            MachineCommand::Significant(SignificantEvent::CommsLost),
            None,
        ),
        M(
            MachineCommand::Significant(SignificantEvent::CommsRestored),
            None,
        ),
        W("T-1", WalletOp::Deposit(a(10_000))),
        W("T-2", WalletOp::Withdraw(a(2_000))),
        W("T-3", WalletOp::Bet(a(100))),
        W(
            "T-4",
            WalletOp::Win {
                amount: a(300),
                bet_tx: Some(tx("T-3")),
            },
        ),
        W("T-5", WalletOp::Rollback { bet_tx: tx("T-3") }),
        M(
            MachineCommand::MeterSnapshot {
                reason: SnapshotReason::DoorClose,
                meters: Box::new(MeterReport([
                    1_250_000, 1_130_500, 50_000, 120_000, 4_812, 1_377, 900_000, 310_000, 640_000,
                    75_000, 20_000,
                ])),
            },
            Some("EUR"),
        ),
        M(
            MachineCommand::HandpayPending {
                kind: HandpayKind::Jackpot,
                amount: a(250_000),
            },
            Some("EUR"),
        ),
        M(
            MachineCommand::HandpayReset {
                attendant: AttendantId::new("ATT-7").expect("valid"),
            },
            None,
        ),
        M(
            MachineCommand::Significant(SignificantEvent::PowerOff),
            None,
        ),
        M(MachineCommand::Significant(SignificantEvent::PowerOn), None),
        V(false, "V-1", VoucherOp::Issue(a(2_500)), eur),
        V(true, "V-2", VoucherOp::Redeem(a(2_500)), eur),
        V(false, "V-3", VoucherOp::Commit, None),
        V(false, "V-4", VoucherOp::Cancel, None),
        V(
            false,
            "V-5",
            VoucherOp::Void("ticket reported stolen".into()),
            None,
        ),
        Expect::Rule("KYC-1", "K-1", WalletOp::Kyc(KycStatus::Verified), None),
        Expect::Rule(
            "RG-1",
            "L-1",
            WalletOp::Limit {
                kind: LimitKind::Deposit,
                period: DepositPeriod::Week,
                amount: Some(a(50_000)),
            },
            eur,
        ),
        Expect::Rule(
            "RG-1",
            "L-2",
            WalletOp::SelfExclude {
                until: Timestamp(samples::TIME_MS + 30 * 86_400_000),
            },
            None,
        ),
        Expect::Rule(
            "AFT-1",
            "X-1",
            WalletOp::TransferRequest {
                machine: MachineId::new("M-17").expect("valid"),
                amount: a(2_000),
                credit: CreditType::Cashable,
            },
            eur,
        ),
        Expect::Rule(
            "AFT-1",
            "X-2",
            WalletOp::TransferCancel {
                transfer: tx("X-1"),
            },
            None,
        ),
        M(
            MachineCommand::Transfer(Box::new(MachineTransfer {
                direction: Direction::ToMachine,
                transfer: tx("X-1"),
                player: PlayerId::new("P-1001").expect("valid"),
                amount: a(2_000),
                credit: CreditType::Cashable,
            })),
            eur,
        ),
        Expect::Rule(
            "RG-1",
            "L-3",
            WalletOp::Limit {
                kind: LimitKind::Loss,
                period: DepositPeriod::Day,
                amount: Some(a(20_000)),
            },
            eur,
        ),
        Expect::Rule(
            "RG-1",
            "L-4",
            WalletOp::SessionLimit { minutes: Some(120) },
            None,
        ),
        Expect::Rule(
            "PROMO-1",
            "B-1",
            WalletOp::BonusAward {
                amount: a(5_000),
                wagering: 3,
                expires: Timestamp(
                    samples::TIME_MS
                        + (samples::inputs().len() as i64 - 5) * 1_000
                        + 30 * 86_400_000,
                ),
            },
            eur,
        ),
        // RULES.md D: the desk's shift, last of all.
        Expect::Desk(
            "S-1",
            DeskOp::Open {
                cashier: "C-7".into(),
                float: 50_000,
            },
        ),
        Expect::Desk("S-2", DeskOp::Fill(a(20_000))),
        Expect::Desk("S-3", DeskOp::Credit(a(30_000))),
        Expect::Desk("S-4", DeskOp::Close { counted: 40_000 }),
    ]
}

#[test]
fn every_input_kind_decodes_to_its_domain_command() {
    let inputs = samples::inputs();
    let expected = expected_commands();
    assert_eq!(inputs.len(), expected.len());
    let hall = HallId::new("H-1").expect("valid");
    for (n, (env, exp)) in inputs.iter().zip(expected).enumerate() {
        let event_id = EventId(samples::event_id(n as u16).as_u128());
        let time = Timestamp(samples::TIME_MS + n as i64 * 1_000);
        let want = match exp {
            Expect::Machine(cmd, currency) => Input::Machine {
                machine: MachineId::new("M-17").expect("valid"),
                hall: hall.clone(),
                meta: EventMeta::new(event_id, n as u64 + 1, time),
                cmd,
                currency: currency.map(|c| Currency::new(c).expect("valid")),
            },
            Expect::Wallet(tx, op) => Input::Wallet {
                player: PlayerId::new("P-1001").expect("valid"),
                meta: WalletMeta {
                    event_id,
                    time,
                    hall: hall.clone(),
                },
                cmd: WalletCommand {
                    provider: ServerId::new(samples::SERVER).expect("valid"),
                    tx: TxId::new(tx).expect("valid"),
                    op,
                    round: None,
                },
                currency: Some(Currency::new("EUR").expect("valid")),
            },
            Expect::Voucher(from_machine, tx, op, currency) => Input::Voucher {
                validation: ValidationNo::new(samples::VALIDATION).expect("valid"),
                meta: VoucherMeta {
                    event_id,
                    time,
                    hall: hall.clone(),
                },
                cmd: VoucherCommand {
                    party: if from_machine {
                        Party::Machine(MachineId::new("M-17").expect("valid"))
                    } else {
                        Party::Desk(ServerId::new(samples::DESK).expect("valid"))
                    },
                    tx: TxId::new(tx).expect("valid"),
                    op,
                },
                currency: currency.map(|c| Currency::new(c).expect("valid")),
            },
            Expect::Desk(tx, op) => Input::Desk {
                desk: ServerId::new(samples::DESK).expect("valid"),
                meta: DeskMeta {
                    event_id,
                    time,
                    hall: hall.clone(),
                },
                cmd: DeskCommand {
                    tx: TxId::new(tx).expect("valid"),
                    op,
                },
                currency: Currency::new("EUR").expect("valid"),
            },
            Expect::Rule(server, tx, op, currency) => Input::Wallet {
                player: PlayerId::new("P-1001").expect("valid"),
                meta: WalletMeta {
                    event_id,
                    time,
                    hall: hall.clone(),
                },
                cmd: WalletCommand {
                    provider: ServerId::new(server).expect("valid"),
                    tx: TxId::new(tx).expect("valid"),
                    op,
                    round: None,
                },
                currency: currency.map(|c| Currency::new(c).expect("valid")),
            },
        };
        let bytes = env.to_bytes();
        assert_eq!(
            decode_input(&bytes),
            Ok(want.clone()),
            "{}",
            env.payload.kind()
        );
        assert_eq!(
            Input::try_from(env),
            Ok(want),
            "in-process {}",
            env.payload.kind()
        );
        assert_eq!(
            InputEnvelope::from_bytes(&bytes).as_ref(),
            Ok(env),
            "owned round trip"
        );
    }
}

#[test]
fn kafka_keys_are_machine_player_or_validation_number() {
    for env in samples::inputs() {
        let want = if env.payload.player().is_some() {
            "P-1001"
        } else if env.payload.voucher().is_some() {
            samples::VALIDATION
        } else if env.payload.is_desk_command() {
            samples::DESK
        } else {
            "M-17"
        };
        assert_eq!(env.kafka_key(), want, "{}", env.payload.kind());
    }
}

#[test]
fn added_fields_are_ignored_at_every_level() {
    let plain = decode_input(&msgpack(&bet_json())).expect("valid bet");
    let mut v = bet_json();
    v["trace_id"] = json!("abc");
    v["extra"] = json!({ "nested": [[[1, 2]], { "k": "v" }], "bin": null });
    v["source"]["zone"] = json!("A");
    v["payload"]["bet"]["denomination"] = json!(1);
    assert_eq!(decode_input(&msgpack(&v)), Ok(plain.clone()));
    // A producer that writes nil rather than leaving the other source field out.
    let v = with(bet_json(), "/source/server", Value::Null);
    assert_eq!(decode_input(&msgpack(&v)), Ok(plain));
}

#[test]
fn wallet_win_without_bet_tx() {
    let v = json!({
        "event_id": samples::event_id(1).to_string(),
        "schema_version": 1,
        "source": { "hall": "H-1", "server": "GS-1" },
        "seq": 9,
        "event_time": samples::TIME_MS,
        "payload": { "wallet_win": { "player": "P-1", "tx": "W-1", "amount": 5, "currency": "USD" } }
    });
    match decode_input(&msgpack(&v)) {
        Ok(Input::Wallet { cmd, currency, .. }) => {
            assert_eq!(
                cmd.op,
                WalletOp::Win {
                    amount: Amount::new(5).expect("valid"),
                    bet_tx: None
                }
            );
            assert_eq!(currency.expect("a currency").as_str(), "USD");
        }
        other => panic!("expected a wallet win, got {other:?}"),
    }
}

// ------------------------------------------------------------------ rejected inputs

fn oversize_bet() -> Vec<u8> {
    let mut v = bet_json();
    v["padding"] = json!("x".repeat(70_000));
    msgpack(&v)
}

fn nested_too_deep() -> Vec<u8> {
    let mut bytes = msgpack(&bet_json());
    // One more field (fixmap of 6 -> 7): `deep`, 10 000 nested one-element arrays.
    assert_eq!(bytes[0], 0x86);
    bytes[0] = 0x87;
    bytes.extend_from_slice(b"\xa4deep");
    bytes.extend(std::iter::repeat_n(0x91, 10_000));
    bytes.push(0xc0);
    bytes
}

fn invalid_utf8() -> Vec<u8> {
    let mut bytes = msgpack(&with(bet_json(), "/source/hall", json!("HALL")));
    let at = bytes
        .windows(4)
        .position(|w| w == b"HALL")
        .expect("hall in bytes");
    bytes[at] = 0xff;
    bytes
}

/// (case, message bytes, reason code, text the message must contain)
fn bad_inputs() -> Vec<(&'static str, Vec<u8>, &'static str, String)> {
    let good = msgpack(&bet_json());
    let bet = |pointer: &str, value: Value| msgpack(&with(bet_json(), pointer, value));
    let s = String::from;
    vec![
        ("empty", vec![], "malformed", s("malformed MessagePack: empty message")),
        ("garbage", vec![0xc1, 0x00, 0x13], "malformed", s("an event must be a map")),
        ("truncated", good[..good.len() - 1].to_vec(), "malformed", s("malformed MessagePack: truncated")),
        ("trailing bytes", [good.as_slice(), &[0x00]].concat(), "malformed", s("1 trailing bytes after the event")),
        ("array instead of map", msgpack(&json!(["x", 1])), "malformed", s("an event must be a map, found an array")),
        (
            "not UTF-8",
            invalid_utf8(),
            "malformed",
            s("`source.hall` must be a string, got binary data (or a string that is not UTF-8)"),
        ),
        ("nested too deep", nested_too_deep(), "malformed", s("nested deeper than 32 levels")),
        (
            "unknown version",
            bet("/schema_version", json!(7)),
            "unsupported_version",
            s("unsupported schema_version 7 (supported: 1, 2)"),
        ),
        (
            "unknown version, other shape",
            msgpack(&json!({ "schema_version": 3, "events": ["a", "b"] })),
            "unsupported_version",
            s("unsupported schema_version 3 (supported: 1, 2)"),
        ),
        (
            "unknown version, negative amount",
            msgpack(&with(with(bet_json(), "/schema_version", json!(3)), "/payload/bet/amount", json!(-5))),
            "unsupported_version",
            s("unsupported schema_version 3"),
        ),
        (
            "schema_version of the wrong type",
            bet("/schema_version", json!("1")),
            "malformed",
            s("`schema_version` must be an integer, got a string"),
        ),
        ("missing seq", msgpack(&without(bet_json(), "", "seq")), "missing_field", s("missing field `seq`")),
        (
            "missing schema_version",
            msgpack(&without(bet_json(), "", "schema_version")),
            "missing_field",
            s("missing field `schema_version`"),
        ),
        (
            "missing hall",
            msgpack(&without(bet_json(), "/source", "hall")),
            "missing_field",
            s("missing field `hall`"),
        ),
        (
            "missing amount",
            msgpack(&without(bet_json(), "/payload/bet", "amount")),
            "missing_field",
            s("missing field `amount`"),
        ),
        ("negative amount", bet("/payload/bet/amount", json!(-5)), "invalid_amount", s("amount -5 is not positive")),
        ("zero amount", bet("/payload/bet/amount", json!(0)), "invalid_amount", s("amount 0 is not positive")),
        (
            "amount above the maximum",
            bet("/payload/bet/amount", json!(1_000_000_000_001i64)),
            "invalid_amount",
            s("amount 1000000000001 exceeds the maximum of 1000000000000 minor units"),
        ),
        (
            "amount beyond i64",
            bet("/payload/bet/amount", json!(u64::MAX)),
            "invalid_amount",
            s("amount 18446744073709551615 exceeds the maximum of 1000000000000 minor units"),
        ),
        (
            "amount of the wrong type",
            bet("/payload/bet/amount", json!("250")),
            "malformed",
            s("`amount` must be an integer number of minor units, got a string"),
        ),
        (
            "seq of the wrong type",
            bet("/seq", json!("1")),
            "malformed",
            s("`seq` must be an integer in 0..=18446744073709551615, got a string"),
        ),
        ("negative seq", bet("/seq", json!(-1)), "malformed", s("`seq` must be an integer in 0..=18446744073709551615, got -1")),
        (
            "event_time beyond i64",
            bet("/event_time", json!(u64::MAX)),
            "malformed",
            s("`event_time` must be an integer in 0..=253402300799999 (1970 to 9999, ms since the Unix epoch), got 18446744073709551615"),
        ),
        ("currency of the wrong type", bet("/payload/bet/currency", json!(978)), "malformed", s("`currency` must be a string, got an integer")),
        ("nil hall", bet("/source/hall", Value::Null), "malformed", s("`source.hall` must be a string, got nil")),
        ("map as event_id", bet("/event_id", json!({ "a": [1, 2] })), "malformed", s("`event_id` must be a string, got a map")),
        (
            "payload of the wrong type",
            bet("/payload", json!("bet")),
            "malformed",
            s("`payload` must be a map with exactly one key (the event kind), got a string"),
        ),
        (
            "unknown payload kind",
            bet("/payload", json!({ "jump": {} })),
            "malformed",
            s("`payload` has an unknown event kind `jump`, expected one of `bet`, `win`"),
        ),
        (
            "two payload kinds",
            bet("/payload", json!({ "bet": { "amount": 1, "currency": "EUR" }, "win": {} })),
            "malformed",
            s("exactly one key"),
        ),
        ("empty payload", bet("/payload", json!({})), "malformed", s("exactly one key")),
        (
            "unknown cash_in kind",
            bet("/payload", json!({ "cash_in": { "kind": "coin", "amount": 100, "currency": "EUR" } })),
            "malformed",
            s("unknown cash_in kind \"coin\""),
        ),
        (
            "level out of range",
            bet("/payload", json!({ "jackpot_hit": { "pool": "P", "level": 300 } })),
            "malformed",
            s("`level` must be an integer in 0..=255, got 300"),
        ),
        (
            "lower-case currency",
            bet("/payload/bet/currency", json!("eur")),
            "invalid_currency",
            s("invalid currency code \"eur\""),
        ),
        ("machine id with a space", bet("/source/machine", json!("M 17")), "invalid_id", s("invalid machine id \"M 17\"")),
        ("empty hall id", bet("/source/hall", json!("")), "invalid_id", s("invalid hall id \"\"")),
        (
            "event_id not a UUID",
            bet("/event_id", json!("not-a-uuid")),
            "invalid_id",
            s("invalid event_id \"not-a-uuid\""),
        ),
        (
            "event_id not hyphenated",
            bet("/event_id", json!(samples::event_id(0).simple().to_string())),
            "invalid_id",
            s("invalid event_id"),
        ),
        (
            "machine and server",
            bet("/source", json!({ "hall": "H-1", "machine": "M-17", "server": "GS-1" })),
            "invalid_source",
            s("invalid source: source names both machine \"M-17\" and server \"GS-1\""),
        ),
        (
            "neither machine nor server",
            bet("/source", json!({ "hall": "H-1" })),
            "invalid_source",
            s("neither `machine` nor `server`"),
        ),
        (
            "bet from a server",
            bet("/source", json!({ "hall": "H-1", "server": "GS-1" })),
            "invalid_source",
            s("a `bet` event must come from a machine"),
        ),
        (
            "deposit from a machine",
            msgpack(&with(deposit_json(), "/source", json!({ "hall": "H-1", "machine": "M-17" }))),
            "invalid_source",
            s("a `deposit` command must come from a game server"),
        ),
        (
            "deposit with a bad player",
            msgpack(&with(deposit_json(), "/payload/deposit/player", json!("P\t1"))),
            "invalid_id",
            s("invalid player id"),
        ),
        (
            "deposit with a negative amount",
            msgpack(&with(deposit_json(), "/payload/deposit/amount", json!(-1))),
            "invalid_amount",
            s("amount -1 is not positive"),
        ),
        (
            "oversize",
            oversize_bet(),
            "oversize",
            format!("message of {} bytes exceeds the maximum of 65536 bytes", oversize_bet().len()),
        ),
    ]
}

#[test]
fn bad_inputs_are_rejected_with_their_reason() {
    let mut problems = Vec::new();
    for (case, bytes, code, text) in bad_inputs() {
        match decode_input(&bytes) {
            Ok(input) => problems.push(format!("{case}: accepted as {input:?}")),
            Err(e) => {
                if e.code() != code || !e.to_string().contains(&text) {
                    problems.push(format!(
                        "{case}: got {} \"{e}\", want {code} containing {text:?}",
                        e.code()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// RULES.md E-1: an event time (or a version 2 receive time) outside 1970 to 9999 is
/// rejected `malformed`, naming the field and the bound; both ends are accepted. (Found by
/// `pitboss-load fuzz`: an event time near the smallest integer overflowed the start of its
/// GGR window inside the machine's actor.)
#[test]
fn an_event_time_outside_1970_to_9999_is_rejected() {
    let max = 253_402_300_799_999i64;
    for (t, ok) in [
        (0, true),
        (max, true),
        (-1, false),
        (max + 1, false),
        (i64::MIN, false),
        (i64::MAX, false),
    ] {
        let mut v = bet_json();
        v["event_time"] = json!(t);
        let got = decode_input(&msgpack(&v));
        if ok {
            assert!(got.is_ok(), "event_time {t}: {got:?}");
        } else {
            let e = got.expect_err("rejected");
            assert_eq!(e.code(), "malformed", "event_time {t}");
            assert!(
                e.to_string()
                    .contains("`event_time` must be an integer in 0..=253402300799999"),
                "{e}"
            );
        }
        let mut v = bet_json();
        v["schema_version"] = json!(2);
        v["receive_time"] = json!(t);
        assert_eq!(decode_input(&msgpack(&v)).is_ok(), ok, "receive_time {t}");
    }
}

#[test]
fn in_process_envelopes_get_the_same_validation() {
    let mut env = samples::inputs().remove(0);
    env.payload = InputPayload::Bet {
        amount: -5,
        currency: "EUR".into(),
    };
    let err = Input::try_from(&env).expect_err("negative amount");
    assert_eq!(
        (err.code(), err.to_string().as_str()),
        ("invalid_amount", "amount -5 is not positive")
    );
    assert_eq!(decode_input(&env.to_bytes()), Err(err));
    env.schema_version = 3;
    assert_eq!(Input::try_from(&env), Err(WireError::UnsupportedVersion(3)));
}

#[test]
fn the_size_bound_is_inclusive() {
    let mut v = bet_json();
    v["padding"] = json!("");
    let base = msgpack(&v).len();
    // A str16 header (3 bytes) replaces the 1-byte fixstr header.
    let pad = MESSAGE_BYTES_MAX - base - 2;
    v["padding"] = json!("x".repeat(pad));
    let bytes = msgpack(&v);
    assert_eq!(bytes.len(), MESSAGE_BYTES_MAX);
    assert!(
        decode_input(&bytes).is_ok(),
        "exactly MESSAGE_BYTES_MAX is accepted"
    );
    v["padding"] = json!("x".repeat(pad + 1));
    assert_eq!(
        decode_input(&msgpack(&v)).map_err(|e| e.code()),
        Err("oversize")
    );
}

#[test]
fn every_strict_prefix_of_every_sample_is_malformed() {
    for env in samples::inputs()
        .into_iter()
        .chain(samples::inputs_with_round())
    {
        let bytes = env.to_bytes();
        for end in 0..bytes.len() {
            let err = decode_input(&bytes[..end]).expect_err("a prefix is never an event");
            assert_eq!(
                err.code(),
                "malformed",
                "{} cut at {end}: {err}",
                env.payload.kind()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = decode_input(&bytes) {
            prop_assert!(REASON_CODES.contains(&e.code()));
            prop_assert!(!e.to_string().is_empty());
        }
        let _ = InputEnvelope::from_bytes(&bytes);
        let _ = decode_output(&bytes);
    }

    #[test]
    fn decoding_corrupted_events_never_panics(
        which in 0..19usize,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = samples::inputs()[which].to_bytes();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        match decode_input(&bytes) {
            // Edits inside a string or a number may leave a valid event.
            Ok(_) => {}
            Err(e) => prop_assert!(REASON_CODES.contains(&e.code()), "{}", e.code()),
        }
        let _ = InputEnvelope::from_bytes(&bytes);
        let _ = decode_output(&bytes);
    }

    #[test]
    fn valid_amounts_round_trip(amount in 1..=pitboss_actors::domain::money::AMOUNT_MAX, seq in any::<u64>(), time in 0..=253_402_300_799_999i64) {
        let env = InputEnvelope::machine(
            samples::event_id(1),
            "H-1",
            "M-1",
            seq,
            time,
            InputPayload::Win { amount, currency: "CHF".into() },
        );
        match decode_input(&env.to_bytes()) {
            Ok(Input::Machine { meta, cmd: MachineCommand::Win(a), .. }) => {
                prop_assert_eq!(a.minor(), amount);
                prop_assert_eq!((meta.seq, meta.time), (seq, Timestamp(time)));
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}

// ------------------------------------------------------------------ outputs

/// (sample name, topic, key, id name (`{cause}`: the cause's text), cause sample number)
fn output_expectations() -> Vec<(&'static str, Topic, &'static str, &'static str, Option<u16>)> {
    vec![
        ("ggr", Topic::Ggr, "H-1", "ggr H-1 1699999980000 0", Some(5)),
        (
            "jackpot_levels",
            Topic::Jackpots,
            "POOL-A",
            "levels POOL-A 10512 3 502040 0",
            Some(6),
        ),
        (
            "jackpot_hit",
            Topic::Jackpots,
            "POOL-A",
            "hit POOL-A 1 1",
            Some(7),
        ),
        (
            "wallet",
            Topic::WalletEvents,
            "P-1001",
            "wallet P-1001 GS-1 T-3",
            Some(16),
        ),
        (
            "wallet_round",
            Topic::WalletEvents,
            "P-1001",
            "wallet P-1001 GS-1 T-3",
            Some(16),
        ),
        (
            "wallet_bonus",
            Topic::WalletEvents,
            "P-1001",
            "wallet P-1001 GS-1 T-3",
            Some(16),
        ),
        (
            "wallet_refused",
            Topic::WalletEvents,
            "P-1001",
            "wallet P-1001 GS-1 T-4",
            Some(17),
        ),
        (
            "wallet_kyc_required",
            Topic::WalletEvents,
            "P-1001",
            "wallet P-1001 PSP-1 T-9",
            Some(18),
        ),
        (
            "wallet_kyc_status",
            Topic::WalletEvents,
            "P-1001",
            "wallet P-1001 KYC-1 K-1",
            Some(29),
        ),
        (
            "wallet_limit_deposit",
            Topic::WalletEvents,
            "P-1001",
            "wallet P-1001 PSP-1 T-10",
            Some(18),
        ),
        (
            "wallet_limit_loss",
            Topic::WalletEvents,
            "P-1001",
            "wallet P-1001 GS-1 T-11",
            Some(16),
        ),
        (
            "wallet_limit_session",
            Topic::WalletEvents,
            "P-1001",
            "wallet P-1001 GS-1 T-12",
            Some(16),
        ),
        (
            "alert_sequence_gap",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(0),
        ),
        (
            "alert_large_cash_in",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(3),
        ),
        (
            "alert_door_open",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(8),
        ),
        (
            "alert_tilt",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(10),
        ),
        (
            "alert_sequence_reset",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(1),
        ),
        (
            "alert_sequence_stale",
            Topic::Alerts,
            "M-17",
            "{cause} alert sequence_stale",
            Some(2),
        ),
        (
            "alert_credit_variance",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(4),
        ),
        (
            "alert_win_outside_game",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(5),
        ),
        (
            "alert_game_end_without_bet",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(6),
        ),
        (
            "alert_card_session_overlap",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(7),
        ),
        (
            "alert_card_out_without_session",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(9),
        ),
        (
            "alert_machine_moved",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(11),
        ),
        (
            "alert_clock_skew",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(13),
        ),
        (
            "alert_wrong_currency",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(14),
        ),
        (
            "alert_overflow",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(17),
        ),
        (
            "alert_unknown_level",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(18),
        ),
        (
            "alert_mystery_claim",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(19),
        ),
        (
            "alert_pool_not_linked",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(20),
        ),
        (
            "alert_jackpot_not_eligible",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(21),
        ),
        (
            "alert_jackpot_variance",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(22),
        ),
        (
            "alert_meter_variance",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(19),
        ),
        (
            "alert_meter_reset",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(19),
        ),
        (
            "alert_handpay_pending",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(20),
        ),
        (
            "alert_handpay_reset_without_pending",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(21),
        ),
        (
            "alert_win_above_handpay_threshold",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(1),
        ),
        (
            "alert_power_off",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(22),
        ),
        (
            "alert_machine_silent",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(23),
        ),
        (
            "alert_machine_silence_cleared",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(24),
        ),
        (
            "alert_location_offline",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(25),
        ),
        (
            "alert_location_online",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(26),
        ),
        (
            "alert_comms_lost",
            Topic::Alerts,
            "M-17",
            "{cause} alert 0",
            Some(12),
        ),
        (
            "refused",
            Topic::Rejected,
            "P-1001",
            "{cause} refused",
            Some(15),
        ),
        ("rejected", Topic::Rejected, "M-17", "rejected 3 42", None),
        (
            "voucher",
            Topic::Vouchers,
            samples::VALIDATION,
            "voucher 001234567890123456 machine M-17 V-2",
            Some(25),
        ),
        (
            "voucher_refused",
            Topic::Vouchers,
            samples::VALIDATION,
            "voucher 001234567890123456 desk DESK-1 V-3",
            Some(26),
        ),
        (
            "voucher_printed",
            Topic::Vouchers,
            samples::VALIDATION,
            "voucher 001234567890123456 printed {cause}",
            Some(4),
        ),
        (
            "alert_voucher_number_reused",
            Topic::Alerts,
            "M-17",
            "{cause} alert 2000",
            Some(4),
        ),
        (
            "alert_voucher_credit_unbacked",
            Topic::Alerts,
            "M-17",
            "{cause} alert 2000",
            Some(3),
        ),
        (
            "alert_voucher_redeemed_without_hold",
            Topic::Alerts,
            "M-17",
            "{cause} alert 2000",
            Some(3),
        ),
        (
            "alert_voucher_amount_variance",
            Topic::Alerts,
            "M-17",
            "{cause} alert 2000",
            Some(3),
        ),
        (
            "alert_voucher_hold_released",
            Topic::Alerts,
            samples::VALIDATION,
            "{cause} alert 2000",
            Some(27),
        ),
        (
            "alert_transfer_hold_released",
            Topic::Alerts,
            "M-17",
            "{cause} alert 3000",
            Some(33),
        ),
        (
            "alert_transfer_without_hold",
            Topic::Alerts,
            "M-17",
            "{cause} alert 3000",
            Some(34),
        ),
        (
            "alert_transfer_amount_variance",
            Topic::Alerts,
            "M-17",
            "{cause} alert 3001",
            Some(34),
        ),
        (
            "alert_transfer_acknowledged_twice",
            Topic::Alerts,
            "M-17",
            "{cause} alert 3002",
            Some(34),
        ),
        (
            "alert_self_excluded_card_in",
            Topic::Alerts,
            "M-17",
            "{cause} alert 3000",
            Some(5),
        ),
        (
            "transfer",
            Topic::WalletEvents,
            samples::PLAYER,
            "{cause} transfer",
            Some(34),
        ),
        (
            "transfer_restricted",
            Topic::WalletEvents,
            samples::PLAYER,
            "{cause} transfer",
            Some(samples::RESTRICTED_ACK),
        ),
        (
            "rated_session",
            Topic::Sessions,
            samples::PLAYER,
            "{cause} rated_session",
            Some(6),
        ),
        (
            "aml_case",
            Topic::Compliance,
            samples::PLAYER,
            "aml P-1001 1699920000000 in report",
            Some(14),
        ),
        (
            "shift_close",
            Topic::Shifts,
            samples::DESK,
            "shift DESK-1 S-4",
            Some(41),
        ),
        (
            "shift_refused",
            Topic::Shifts,
            samples::DESK,
            "shift DESK-1 S-5",
            Some(42),
        ),
        (
            "shift_revise",
            Topic::Shifts,
            samples::DESK,
            "shift DESK-1 1 revise 1",
            Some(43),
        ),
        (
            "alert_shift_variance",
            Topic::Alerts,
            samples::DESK,
            "{cause} alert 3000",
            Some(41),
        ),
        (
            "alert_desk_cash_without_shift",
            Topic::Alerts,
            samples::DESK,
            "{cause} alert 3000",
            Some(44),
        ),
    ]
}

#[test]
fn outputs_have_their_topic_key_and_deterministic_id() {
    let outputs = samples::outputs();
    let expectations = output_expectations();
    assert_eq!(outputs.len(), expectations.len());
    for ((name, out), (want_name, topic, key, id_name, cause)) in outputs.iter().zip(expectations) {
        assert_eq!(*name, want_name);
        let rec = encode_output(out);
        assert_eq!(rec.topic, topic, "{name}");
        assert_eq!(rec.key, key, "{name}");
        let cause_text = cause.map(|n| samples::event_id(n).to_string());
        let id_name = id_name.replace("{cause}", cause_text.as_deref().unwrap_or("-"));
        assert_eq!(rec.id, v5(&id_name), "{name}: id of {id_name:?}");
        assert_eq!(rec.cause, cause_text, "{name}");
        assert_eq!(encode_output(out), rec, "{name}: encoding is deterministic");

        let decoded = decode_output(&rec.bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded.output_id(), rec.id.to_string(), "{name}");
    }
}

/// A GGR window and a pool's levels name the latest input they are the first to include, and
/// how many, for the headers only: their bytes are the same whatever they name (a replay may
/// apply the same inputs in another order, RULES.md H-2). Outputs with one cause name no
/// count.
#[test]
fn aggregates_name_their_latest_new_input_in_the_headers_only() {
    for (name, out) in samples::outputs() {
        let rec = encode_output(&out);
        let (bare, causes) = match out.clone() {
            Output::Ggr {
                mut window,
                currency,
            } => {
                let causes = window.carried.take().count;
                (Output::Ggr { window, currency }, causes)
            }
            Output::JackpotLevels {
                pool,
                currency,
                levels,
                carried,
            } => (
                Output::JackpotLevels {
                    pool,
                    currency,
                    levels,
                    carried: Default::default(),
                },
                carried.count,
            ),
            _ => {
                assert_eq!(rec.causes, None, "{name}");
                continue;
            }
        };
        assert!(causes > 0, "{name}: the sample counts its inputs");
        assert_eq!(rec.causes, Some(causes), "{name}");
        let unnamed = encode_output(&bare);
        assert_eq!((unnamed.cause, unnamed.causes), (None, Some(0)), "{name}");
        assert_eq!(unnamed.bytes, rec.bytes, "{name}: the bytes do not name it");
        assert_eq!(unnamed.id, rec.id, "{name}");
    }
}

/// A hall's gaming day (RULES.md H-5): on the reports topic, keyed by hall, named by its
/// content; another revision or another total is another id; it reads back as written.
#[test]
fn a_gaming_day_report_is_named_by_its_content() {
    let day = samples::gaming_day();
    let rec = encode_gaming_day(&day);
    assert_eq!(
        (rec.topic, rec.key.as_str(), rec.cause.as_deref()),
        (Topic::Reports, "H-1", None)
    );
    assert_eq!(
        rec.id,
        v5("gaming-day H-1 2026-10-25 2 1250000 1100000 50000 9876 1320")
    );
    assert_eq!(encode_gaming_day(&day), rec, "deterministic");
    let mut revised = day.clone();
    revised.revision = 3;
    assert_ne!(encode_gaming_day(&revised).id, rec.id);
    let mut more = day.clone();
    more.wins += 1;
    more.ggr -= 1;
    more.net_win -= 1;
    assert_ne!(encode_gaming_day(&more).id, rec.id);
    match decode_output(&rec.bytes).expect("decodes") {
        OutputEvent::GamingDay(e) => {
            assert_eq!((&*e.kind, e.schema_version), ("gaming_day", 2));
            assert_eq!(e.output_id, rec.id.to_string());
            assert_eq!(e.cause_event_id, None);
            assert_eq!(e.payload, day);
        }
        other => panic!("decoded as {}", other.kind()),
    }
}

/// RULES.md H-5: the network's day and a machine's are named by their content too: keyed
/// `NETWORK` and by machine, another count of halls closed or another amount is another id,
/// and each reads back as written.
#[test]
fn the_networks_and_a_machines_gaming_day_are_named_by_their_content() {
    let net = samples::gaming_day_network();
    let rec = encode_gaming_day_network(&net);
    assert_eq!(
        (rec.topic, rec.key.as_str(), rec.cause.as_deref()),
        (Topic::Reports, "NETWORK", None)
    );
    assert_eq!(
        rec.id,
        v5("gaming-day-network 2026-10-25 2 1 3 2000000 1700000 50000 4000 15000 2600")
    );
    let mut closed = net.clone();
    closed.halls_closed = 3;
    closed.halls_open = 0;
    assert_ne!(encode_gaming_day_network(&closed).id, rec.id);
    match decode_output(&rec.bytes).expect("decodes") {
        OutputEvent::GamingDayNetwork(e) => {
            assert_eq!((&*e.kind, e.schema_version), ("gaming_day_network", 2));
            assert_eq!(e.output_id, rec.id.to_string());
            assert_eq!(e.payload, net);
        }
        other => panic!("decoded as {}", other.kind()),
    }

    let m = samples::gaming_day_machine();
    let rec = encode_gaming_day_machine(&m);
    assert_eq!((rec.topic, rec.key.as_str()), (Topic::Reports, "M-17"));
    assert_eq!(
        rec.id,
        v5(
            "gaming-day-machine M-17 H-1 2026-10-25 125000 110000 2000 5000 400 13000 7600 \
            40000 10000 50000 30000 5000 1000 0 1000 0 10000 250 321"
        )
    );
    for change in [
        |m: &mut GamingDayMachinePayload<'_>| m.tickets_out += 1,
        |m: &mut GamingDayMachinePayload<'_>| m.cashless_out += 1,
        |m: &mut GamingDayMachinePayload<'_>| m.games += 1,
        |m: &mut GamingDayMachinePayload<'_>| m.movements += 1,
    ] {
        let mut other = m.clone();
        change(&mut other);
        assert_ne!(encode_gaming_day_machine(&other).id, rec.id);
    }
    match decode_output(&rec.bytes).expect("decodes") {
        OutputEvent::GamingDayMachine(e) => {
            assert_eq!((&*e.kind, e.cause_event_id), ("gaming_day_machine", None));
            assert_eq!(e.payload, m);
        }
        other => panic!("decoded as {}", other.kind()),
    }
}

#[test]
fn output_payloads_round_trip() {
    let outputs: Vec<_> = samples::outputs()
        .into_iter()
        .map(|(n, o)| (n, encode_output(&o)))
        .collect();
    for (name, rec) in &outputs {
        let decoded = decode_output(&rec.bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        match decoded {
            OutputEvent::Ggr(e) => {
                assert_eq!(
                    (&*e.kind, e.schema_version, e.cause_event_id),
                    ("ggr", 2, None)
                );
                let p = e.payload;
                assert_eq!((&*p.hall, &*p.currency, p.revision), ("H-1", "EUR", 0));
                assert_eq!(
                    (p.window_start, p.window_end),
                    (1_699_999_980_000, 1_700_000_040_000)
                );
                assert_eq!(
                    (p.bets, p.wins, p.ggr, p.games),
                    (125_000, 98_250, 26_750, 500)
                );
            }
            OutputEvent::JackpotLevels(e) => {
                let p = e.payload;
                assert_eq!(
                    (&*p.pool, &*p.currency, p.levels.len()),
                    ("POOL-A", "EUR", 2)
                );
                assert_eq!((p.levels[1].level, &*p.levels[1].name), (1, "Major"));
                assert_eq!((p.levels[1].amount, p.levels[0].hits), (502_040, 3));
            }
            OutputEvent::JackpotHit(e) => {
                assert_eq!(e.cause_event_id.as_deref(), rec.cause.as_deref());
                let p = e.payload;
                assert_eq!(
                    (&*p.pool, p.level, &*p.name, p.amount),
                    ("POOL-A", 1, "Major", 502_040)
                );
                assert_eq!(
                    (&*p.machine, p.hit_number, &*p.currency),
                    ("M-17", 1, "EUR")
                );
            }
            OutputEvent::Wallet(e) if *name == "wallet_limit_deposit" => {
                // RULES.md W-9: a deposit above the period's limit.
                let p = e.payload;
                assert_eq!(
                    (&*p.provider, &*p.tx, &*p.kind),
                    ("PSP-1", "T-10", "deposit")
                );
                assert_eq!(
                    (&*p.status, p.code.as_deref()),
                    ("refused", Some("limit_deposit"))
                );
            }
            OutputEvent::Wallet(e) if *name == "wallet_limit_loss" => {
                // RULES.md W-9: a bet that would take the period's loss above its limit.
                let p = e.payload;
                assert_eq!((&*p.provider, &*p.tx, &*p.kind), ("GS-1", "T-11", "bet"));
                assert_eq!(
                    (&*p.status, p.code.as_deref()),
                    ("refused", Some("limit_loss"))
                );
            }
            OutputEvent::Wallet(e) if *name == "wallet_limit_session" => {
                // RULES.md W-9: a bet in a session that has lasted its limit.
                let p = e.payload;
                assert_eq!((&*p.provider, &*p.tx, &*p.kind), ("GS-1", "T-12", "bet"));
                assert_eq!(
                    (&*p.status, p.code.as_deref()),
                    ("refused", Some("limit_session"))
                );
            }
            OutputEvent::Wallet(e) if name.starts_with("wallet_kyc") => {
                // RULES.md W-8: a refusal for want of verification, and a KYC status applied
                // (no money moved).
                let p = e.payload;
                assert_eq!((&*p.player, &*p.currency), ("P-1001", "EUR"));
                if *name == "wallet_kyc_required" {
                    assert_eq!(
                        (&*p.provider, &*p.tx, &*p.kind),
                        ("PSP-1", "T-9", "withdrawal")
                    );
                    assert_eq!(
                        (&*p.status, p.code.as_deref()),
                        ("refused", Some("kyc_required"))
                    );
                } else {
                    assert_eq!(
                        (&*p.provider, &*p.tx, &*p.kind),
                        ("KYC-1", "K-1", "kyc_status")
                    );
                    assert_eq!(
                        (&*p.status, p.delta, p.balance),
                        ("applied", Some(0), Some(7_900))
                    );
                }
            }
            OutputEvent::Wallet(e) => {
                let p = e.payload;
                assert_eq!(
                    (&*p.player, &*p.provider, &*p.currency),
                    ("P-1001", "GS-1", "EUR")
                );
                let round = (*name == "wallet_round").then_some(samples::ROUND);
                assert_eq!(p.round.as_deref(), round, "{name}");
                match &*p.status {
                    "applied" => {
                        assert_eq!((&*p.tx, &*p.kind), ("T-3", "bet"));
                        assert_eq!(
                            (p.delta, p.balance, &p.code),
                            (Some(-100), Some(7_900), &None)
                        );
                        // RULES.md W-12: the bonus's part, once the wallet has a bonus.
                        let bonus = (*name == "wallet_bonus").then_some((-200, 4_800));
                        assert_eq!(p.bonus_delta.zip(p.bonus), bonus, "{name}");
                    }
                    status => {
                        assert_eq!(status, "refused");
                        assert_eq!((&*p.tx, &*p.kind), ("T-4", "withdrawal"));
                        assert_eq!((p.delta, p.balance), (None, None));
                        assert_eq!(p.code.as_deref(), Some("insufficient_funds"));
                        assert!(p.reason.as_deref().is_some_and(|r| r.contains("9000")));
                    }
                }
            }
            OutputEvent::Alert(e) => {
                let p = e.payload;
                let machine = !matches!(
                    *name,
                    "alert_voucher_hold_released"
                        | "alert_shift_variance"
                        | "alert_desk_cash_without_shift"
                );
                let machine = machine.then_some("M-17");
                assert_eq!(p.machine.as_deref(), machine, "{name}");
                let voucher = name
                    .starts_with("alert_voucher")
                    .then_some(samples::VALIDATION);
                assert_eq!(p.validation.as_deref(), voucher, "{name}");
                let details = (p.expected, p.got, p.amount, p.code);
                let want = match &*p.kind {
                    "voucher_number_reused" | "voucher_credit_unbacked" => {
                        assert_eq!(p.voucher_status.as_deref(), Some("redeemed"));
                        let amount = if &*p.kind == "voucher_number_reused" {
                            700
                        } else {
                            2_500
                        };
                        (None, None, Some(amount), None)
                    }
                    "voucher_redeemed_without_hold" | "voucher_hold_released" => {
                        assert_eq!(p.holder.as_deref(), Some("desk DESK-1"));
                        (None, None, Some(2_500), None)
                    }
                    "voucher_amount_variance" => {
                        assert_eq!(p.voucher_amount, Some(2_500));
                        (None, None, Some(2_600), None)
                    }
                    kind if kind.starts_with("transfer_") => {
                        // RULES.md W-10: the wallet's player and the transfer.
                        assert_eq!(
                            (p.player.as_deref(), p.transfer.as_deref()),
                            (Some("P-1001"), Some("X-1")),
                            "{name}"
                        );
                        let (held, unbacked, direction, amount) = match kind {
                            "transfer_hold_released" => (None, None, None, 2_000),
                            "transfer_without_hold" => (None, Some(500), None, 2_000),
                            "transfer_amount_variance" => (Some(2_000), Some(0), None, 2_100),
                            _ => (None, None, Some("to_machine"), 2_000),
                        };
                        assert_eq!(
                            (p.held, p.unbacked, p.direction.as_deref()),
                            (held, unbacked, direction),
                            "{name}"
                        );
                        (None, None, Some(amount), None)
                    }
                    "shift_variance" => {
                        // RULES.md D-4: the desk's shift, expected, counted and the variance.
                        assert_eq!((p.desk.as_deref(), p.shift), (Some(samples::DESK), Some(1)));
                        assert_eq!((p.counted, p.variance), (Some(40_000), Some(-2_500)));
                        (None, None, Some(42_500), None)
                    }
                    "desk_cash_without_shift" => {
                        // RULES.md D-3: the desk paid a ticket with no shift open.
                        assert_eq!(p.desk.as_deref(), Some(samples::DESK));
                        (None, None, Some(-1_000), None)
                    }
                    "self_excluded_card_in" => {
                        // RULES.md W-9: the player and the exclusion's end.
                        assert_eq!(p.player.as_deref(), Some("P-1001"));
                        assert_eq!(p.until, Some(samples::TIME_MS + 86_400_000));
                        (None, None, None, None)
                    }
                    "sequence_gap" => (Some(5), Some(8), None, None),
                    "large_cash_in" => (None, None, Some(1_000_000), None),
                    "credit_variance" => (None, None, Some(5_000), None),
                    "jackpot_variance" => (None, None, Some(502_100), None),
                    "win_outside_game" => (None, None, Some(500), None),
                    "tilt" => (None, None, None, Some(4_021)),
                    "door_open"
                    | "comms_lost"
                    | "power_off"
                    | "machine_silence_cleared"
                    | "location_online"
                    | "sequence_reset"
                    | "sequence_stale"
                    | "game_end_without_bet"
                    | "card_session_overlap"
                    | "card_out_without_session"
                    | "machine_moved"
                    | "clock_skew"
                    | "wrong_currency"
                    | "overflow"
                    | "unknown_level"
                    | "mystery_claim"
                    | "pool_not_linked"
                    | "jackpot_not_eligible" => (None, None, None, None),
                    "meter_variance" => {
                        assert_eq!(p.reason.as_deref(), Some("door_close"));
                        assert_eq!(
                            p.previous_snapshot.as_deref(),
                            Some(samples::event_id(13).to_string().as_str())
                        );
                        assert_eq!(p.previous_snapshot_time, Some(samples::TIME_MS + 13_000));
                        let rows: Vec<_> = p
                            .meters
                            .iter()
                            .flatten()
                            .map(|r| (&*r.meter, r.reported, r.applied, r.variance))
                            .collect();
                        assert_eq!(
                            rows,
                            vec![
                                ("coin_in", 12_500, 12_000, 500),
                                ("games_played", 50, 48, 2)
                            ]
                        );
                        (None, None, None, None)
                    }
                    "handpay_pending" => {
                        assert_eq!(p.handpay_kind.as_deref(), Some("jackpot"));
                        (None, None, Some(250_000), None)
                    }
                    "handpay_reset_without_pending" => {
                        assert_eq!(p.attendant.as_deref(), Some("ATT-7"));
                        (None, None, None, None)
                    }
                    "win_above_handpay_threshold" => {
                        assert_eq!(p.threshold, Some(120_000));
                        (None, None, Some(150_000), None)
                    }
                    "machine_silent" => {
                        assert_eq!(
                            (p.hall.as_deref(), p.event_time, p.silent_secs),
                            (Some("H-1"), Some(samples::TIME_MS), Some(900))
                        );
                        (None, None, None, None)
                    }
                    "location_offline" => {
                        assert_eq!((p.hall.as_deref(), p.machines), (Some("H-1"), Some(48)));
                        (None, None, None, None)
                    }
                    "meter_reset" => {
                        assert_eq!(
                            (p.meter.as_deref(), p.previous_value, p.reported),
                            (Some("coin_in"), Some(1_250_000), Some(3_000))
                        );
                        (None, None, None, None)
                    }
                    other => panic!("unexpected alert kind {other}"),
                };
                assert_eq!(details, want, "{name}");
                assert_eq!(*name, format!("alert_{}", p.kind));
                let severity = match &*p.kind {
                    "win_outside_game"
                    | "card_out_without_session"
                    | "door_open"
                    | "machine_silence_cleared"
                    | "location_online" => "info",
                    "sequence_stale"
                    | "wrong_currency"
                    | "overflow"
                    | "voucher_number_reused"
                    | "voucher_credit_unbacked"
                    | "transfer_acknowledged_twice" => "critical",
                    // Critical when a machine took money no wallet funds covered (W-10).
                    "transfer_without_hold" | "transfer_amount_variance"
                        if p.unbacked != Some(0) =>
                    {
                        "critical"
                    }
                    _ => "warning",
                };
                assert_eq!(&*p.severity, severity, "{name}");
            }
            OutputEvent::AmlCase(e) => {
                // RULES.md W-11: the case, its threshold and its evidence.
                assert_eq!((&*e.kind, e.schema_version), ("aml_case", 2));
                assert_eq!(e.cause_event_id.as_deref(), rec.cause.as_deref());
                let p = e.payload;
                assert_eq!(
                    (&*p.player, &*p.case, &*p.direction, &*p.currency),
                    ("P-1001", "report", "in", "EUR")
                );
                assert_eq!(
                    (p.day, p.total, p.threshold, p.left_out),
                    (1_699_920_000_000, 15_000, 10_000, 0)
                );
                let evidence: Vec<_> = p
                    .evidence
                    .iter()
                    .map(|m| {
                        (
                            &*m.event_id,
                            m.amount,
                            m.time,
                            &*m.direction,
                            m.machine.as_deref(),
                        )
                    })
                    .collect();
                let (bill, deposit) = (
                    samples::event_id(3).to_string(),
                    samples::event_id(14).to_string(),
                );
                assert_eq!(
                    evidence,
                    [
                        (&*bill, 5_000, samples::TIME_MS + 3_000, "in", Some("M-17")),
                        (&*deposit, 10_000, samples::TIME_MS + 14_000, "in", None),
                    ]
                );
            }
            OutputEvent::AmlCaseClosed(_) => {
                unreachable!("{name}: the runtime emits no closing (the admin API does)")
            }
            OutputEvent::GamingDay(_)
            | OutputEvent::GamingDayNetwork(_)
            | OutputEvent::GamingDayMachine(_) => {
                unreachable!("{name}: the runtime emits no gaming day (the publisher does)")
            }
            OutputEvent::Shift(e) => {
                // RULES.md D-7: a desk's answer or a revised shift, keyed by the desk.
                assert_eq!((&*e.kind, e.schema_version), ("shift", 2));
                assert_eq!(e.cause_event_id.as_deref(), rec.cause.as_deref());
                assert_eq!(rec.key, "DESK-1");
                let p = e.payload;
                assert_eq!((&*p.desk, &*p.hall, &*p.currency), ("DESK-1", "H-1", "EUR"));
                assert_eq!((p.shift, &*p.cashier, p.float), (1, "C-7", 50_000));
                match *name {
                    "shift_close" => {
                        assert_eq!(
                            (&*p.op, &*p.status, p.tx.as_deref()),
                            ("close", "applied", Some("S-4"))
                        );
                        assert_eq!(
                            (p.expected, p.counted, p.variance),
                            (42_500, Some(40_000), Some(-2_500))
                        );
                    }
                    "shift_refused" => {
                        assert_eq!(
                            (&*p.status, p.code.as_deref()),
                            ("refused", Some("shift_not_open"))
                        );
                    }
                    "shift_revise" => {
                        assert_eq!((&*p.op, p.tx.as_deref(), p.revision), ("revise", None, 1));
                        assert_eq!(
                            (p.cash_out, p.expected, p.variance),
                            (1_000, 41_500, Some(-1_500))
                        );
                    }
                    other => panic!("unexpected shift sample {other}"),
                }
            }
            OutputEvent::Transfer(e) => {
                // RULES.md W-10: what the acknowledgement settled, named by it.
                assert_eq!((&*e.kind, e.schema_version), ("transfer", 2));
                assert_eq!(e.cause_event_id.as_deref(), rec.cause.as_deref());
                let p = e.payload;
                assert_eq!(&*p.currency, "EUR");
                if *name == "transfer_restricted" {
                    // RULES.md W-12: the bonus's hold paid the machine's restricted credits.
                    assert_eq!(
                        (
                            &*p.transfer,
                            p.credit_type.as_deref(),
                            p.amount,
                            p.held,
                            p.delta
                        ),
                        ("X-3", Some("restricted"), 1_000, 1_000, 0)
                    );
                    continue;
                }
                assert_eq!(
                    (&*p.player, &*p.transfer, &*p.machine, &*p.direction),
                    ("P-1001", "X-1", "M-17", "to_machine")
                );
                assert_eq!(
                    (p.amount, p.held, p.delta, p.unbacked, p.repeated, p.balance),
                    (2_100, 2_000, -100, 0, false, 7_900)
                );
                assert_eq!(p.credit_type, None);
            }
            OutputEvent::RatedSession(e) => {
                // RULES.md M-12: what the machine applied while the player was carded in.
                assert_eq!((&*e.kind, e.schema_version), ("rated_session", 2));
                assert_eq!(e.cause_event_id.as_deref(), rec.cause.as_deref());
                let p = e.payload;
                assert_eq!(
                    (&*p.machine, &*p.player, &*p.hall, &*p.currency),
                    ("M-17", "P-1001", "H-1", "EUR")
                );
                assert_eq!(
                    (p.start, p.end, &*p.ended_by),
                    (
                        samples::TIME_MS + 5_000,
                        samples::TIME_MS + 6_000,
                        "card_out"
                    )
                );
                assert_eq!(p.started_by, samples::event_id(5).to_string());
                assert_eq!(
                    (p.coin_in, p.coin_out, p.games),
                    (2_500, 1_000, 3),
                    "{name}"
                );
                assert_eq!(
                    (p.average_bet, p.theoretical_win, p.actual_win, p.points),
                    (833, 200, 1_500, 2)
                );
            }
            OutputEvent::Voucher(e) => {
                assert_eq!(e.cause_event_id.as_deref(), rec.cause.as_deref());
                let p = e.payload;
                assert_eq!(
                    (&*p.validation, &*p.currency, p.voucher_amount),
                    (samples::VALIDATION, "EUR", Some(2_500))
                );
                assert_eq!(p.issuing_hall.as_deref(), Some("H-1"));
                let got = (
                    &*p.op,
                    &*p.party_kind,
                    &*p.party,
                    p.tx.as_deref(),
                    &*p.status,
                    p.code.as_deref(),
                    &*p.voucher_status,
                    p.amount,
                );
                let want = match *name {
                    "voucher" => (
                        "redeem",
                        "machine",
                        "M-17",
                        Some("V-2"),
                        "applied",
                        None,
                        "held",
                        2_500,
                    ),
                    "voucher_refused" => (
                        "commit",
                        "desk",
                        "DESK-1",
                        Some("V-3"),
                        "refused",
                        Some("voucher_not_held"),
                        "held",
                        0,
                    ),
                    _ => (
                        "printed", "machine", "M-17", None, "applied", None, "issued", 2_500,
                    ),
                };
                assert_eq!(got, want, "{name}");
            }
            OutputEvent::Refused(e) => {
                assert_eq!(&*e.payload.entity, "P-1001");
                assert!(e.payload.reason.contains("exceeds available balance"));
            }
            OutputEvent::Rejected(e) => {
                assert_eq!(e.cause_event_id, None);
                let p = e.payload;
                assert_eq!(
                    (&*p.reason, &*p.reason_code),
                    ("amount -5 is not positive", "invalid_amount")
                );
                assert_eq!(&*p.original.0, &[0x81, 0xa3, b'b', b'a', b'd', 0xc0]);
                assert_eq!(p.original_len, 6);
                assert_eq!(
                    p.original_key.map(|k| k.0.into_owned()),
                    Some(b"M-17".to_vec())
                );
                assert_eq!((p.partition, p.offset), (3, 42));
            }
        }
    }
}

#[test]
fn output_ids_change_with_what_makes_them_unique() {
    let alert = |index| Output::Alert {
        alert: pitboss_actors::domain::machine::Alert::DoorOpen {
            machine: MachineId::new("M-1").expect("valid"),
        },
        cause: EventId(1),
        index,
    };
    assert_ne!(encode_output(&alert(0)).id, encode_output(&alert(1)).id);
    // An event applied once (alert 0: here a sequence reset) and stale when delivered again
    // (its epoch no longer kept, RULES.md M-1) must not publish two contents under one id.
    let stale = Output::Alert {
        alert: pitboss_actors::domain::machine::Alert::SequenceStale {
            machine: MachineId::new("M-1").expect("valid"),
            epoch: 2,
            seq: 1,
        },
        cause: EventId(1),
        index: 0,
    };
    assert_ne!(encode_output(&alert(0)).id, encode_output(&stale).id);
    // The same for its refusals: a claim refused when delivered, stale when delivered again.
    let refused = |code: &'static str| Output::Refused {
        entity: "M-1".into(),
        code,
        reason: code.into(),
        cause: EventId(1),
    };
    assert_ne!(
        encode_output(&refused("jackpot_not_eligible")).id,
        encode_output(&refused("sequence_stale")).id
    );

    let mut levels = samples::outputs()
        .into_iter()
        .find(|(n, _)| *n == "jackpot_levels")
        .expect("sample")
        .1;
    let before = encode_output(&levels).id;
    if let Output::JackpotLevels { levels, .. } = &mut levels {
        levels[0].amount += 1;
    }
    assert_ne!(
        encode_output(&levels).id,
        before,
        "a new level amount is a new output"
    );

    // The namespace is part of the contract: pin one id.
    let err = WireError::MissingField("seq".into());
    assert_eq!(
        encode_rejection(&err, b"x", None, 3, 42).id.to_string(),
        v5("rejected 3 42").to_string()
    );
    assert_eq!(
        OUTPUT_ID_NAMESPACE.to_string(),
        "c7b92cd6-03ad-4093-b1cf-47bff804994d"
    );
}

#[test]
fn rejections_carry_the_reason_and_the_original() {
    let bytes = msgpack(&with(bet_json(), "/payload/bet/amount", json!(-5)));
    let err = decode_input(&bytes).expect_err("negative amount");
    let rec = encode_rejection(&err, &bytes, Some(b"M-17"), 2, 1_234);
    assert_eq!(
        (rec.topic, rec.key.as_str(), rec.cause.as_deref()),
        (Topic::Rejected, "M-17", None)
    );
    assert_eq!(rec.id, v5("rejected 2 1234"));
    let same = encode_output(&Output::Rejected {
        reason: err.to_string(),
        code: err.code(),
        original: bytes.clone(),
        key: Some(b"M-17".to_vec()),
        partition: 2,
        offset: 1_234,
    });
    assert_eq!(same, rec, "encode_rejection and Output::Rejected agree");
    match decode_output(&rec.bytes) {
        Ok(OutputEvent::Rejected(e)) => {
            assert_eq!(&*e.payload.original.0, bytes.as_slice());
            assert_eq!(&*e.payload.reason_code, "invalid_amount");
            assert_eq!(&*e.payload.reason, "amount -5 is not positive");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rejections_of_huge_messages_are_cut_and_keyless_ones_have_an_empty_key() {
    let huge = vec![0xab; 3 * MESSAGE_BYTES_MAX];
    let err = decode_input(&huge).expect_err("oversize");
    assert_eq!(err.code(), "oversize");
    let rec = encode_rejection(&err, &huge, None, 0, 1);
    assert_eq!(rec.key, "");
    assert!(rec.bytes.len() < REJECTED_ORIGINAL_BYTES_MAX + 512);
    match decode_output(&rec.bytes) {
        Ok(OutputEvent::Rejected(e)) => {
            assert_eq!(e.payload.original.0.len(), REJECTED_ORIGINAL_BYTES_MAX);
            assert_eq!(e.payload.original_len, huge.len() as u64);
            assert_eq!(e.payload.original_key, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn outputs_of_other_versions_or_kinds_are_refused() {
    let rec = encode_output(&samples::outputs()[0].1);
    let mut v: Value = rmp_serde::from_slice(&rec.bytes).expect("JSON-compatible output");
    for old_or_unknown in [1, 3] {
        v["schema_version"] = json!(old_or_unknown);
        assert_eq!(
            decode_output(&msgpack(&v)).map_err(|e| e.code()),
            Err("unsupported_version")
        );
    }
    v["schema_version"] = json!(2);
    v["kind"] = json!("weather");
    let err = decode_output(&msgpack(&v)).expect_err("unknown kind");
    assert!(
        err.to_string().contains("unknown output kind \"weather\""),
        "{err}"
    );
}

#[test]
fn topics_have_their_default_names() {
    let names: Vec<_> = Topic::ALL.iter().map(|t| t.default_name()).collect();
    assert_eq!(
        names,
        [
            "pitboss.ggr",
            "pitboss.jackpots",
            "pitboss.wallet-events",
            "pitboss.alerts",
            "pitboss.rejected",
            "pitboss.vouchers",
            "pitboss.sessions",
            "pitboss.compliance",
            "pitboss.reports",
            "pitboss.shifts"
        ]
    );
    assert_eq!(wire::GAME_EVENTS_TOPIC, "pitboss.game-events");
    assert_eq!(Topic::WalletEvents.to_string(), "pitboss.wallet-events");
}

#[test]
fn version_2_machine_events_carry_their_epoch_and_receive_time() {
    // RULES.md E-2, M-1, E-3: both decoders read them; version 1 means epoch 0, no receive time.
    let mut v = bet_json();
    v["schema_version"] = json!(2);
    v["epoch"] = json!(3);
    v["receive_time"] = json!(samples::TIME_MS + 500);
    let bytes = msgpack(&v);
    for input in [
        decode_input(&bytes),
        pitboss::wire::decode_input_serde(&bytes),
    ] {
        let Ok(Input::Machine { meta, .. }) = input else {
            panic!("a machine event: {input:?}")
        };
        assert_eq!(meta.epoch, 3);
        assert_eq!(meta.receive_time, Some(Timestamp(samples::TIME_MS + 500)));
    }
    let Ok(Input::Machine { meta, .. }) = decode_input(&msgpack(&bet_json())) else {
        panic!("a machine event")
    };
    assert_eq!((meta.epoch, meta.receive_time), (0, None));
}

#[test]
fn a_version_1_event_keeps_its_meaning_whatever_version_2_fields_it_carries() {
    // RULES.md E-2: a version 1 event keeps the meaning of its fields; an epoch, a receive
    // time or a hit's amount in it (version 2 fields) mean nothing, as in the model.
    let mut v = bet_json();
    v["epoch"] = json!(3);
    v["receive_time"] = json!(samples::TIME_MS + 500);
    let mut hit = bet_json();
    hit["payload"] = json!({ "jackpot_hit": { "pool": "POOL-A", "level": 1, "amount": 5_005, "currency": "USD" } });
    let (bytes, hit_bytes) = (msgpack(&v), msgpack(&hit));
    for (a, b) in [
        (decode_input(&bytes), decode_input(&hit_bytes)),
        (
            pitboss::wire::decode_input_serde(&bytes),
            pitboss::wire::decode_input_serde(&hit_bytes),
        ),
    ] {
        let Ok(Input::Machine { meta, .. }) = a else {
            panic!("a machine event: {a:?}")
        };
        assert_eq!((meta.epoch, meta.receive_time), (0, None));
        let Ok(Input::Machine { cmd, currency, .. }) = b else {
            panic!("a machine event: {b:?}")
        };
        assert_eq!(
            cmd,
            MachineCommand::JackpotHit {
                pool: PoolId::new("POOL-A").unwrap(),
                level: 1,
                amount: None,
            }
        );
        assert_eq!(currency, None);
    }
}

#[test]
fn version_2_jackpot_hit_carries_what_the_machine_paid() {
    // RULES.md P-3: amount and currency together; one without the other is rejected.
    let mut v = bet_json();
    v["schema_version"] = json!(2);
    v["payload"] = json!({ "jackpot_hit": { "pool": "POOL-A", "level": 1, "amount": 5_005, "currency": "EUR" } });
    let bytes = msgpack(&v);
    for input in [
        decode_input(&bytes),
        pitboss::wire::decode_input_serde(&bytes),
    ] {
        let Ok(Input::Machine { cmd, currency, .. }) = input else {
            panic!("a machine event: {input:?}")
        };
        assert_eq!(
            cmd,
            MachineCommand::JackpotHit {
                pool: PoolId::new("POOL-A").unwrap(),
                level: 1,
                amount: Some(Amount::new(5_005).unwrap()),
            }
        );
        assert_eq!(currency, Some(Currency::new("EUR").unwrap()));
    }
    v["payload"] = json!({ "jackpot_hit": { "pool": "POOL-A", "level": 1, "amount": 5_005 } });
    let err = decode_input(&msgpack(&v)).expect_err("amount without currency");
    assert_eq!(err.code(), "missing_field");
}

#[test]
fn version_2_wallet_commands_carry_their_round() {
    // RULES.md E-2, W-2: both decoders read `round` from a version 2 wallet command; an
    // invalid one is rejected like every id (`invalid_id`), one of another type is malformed.
    let v2 = samples::inputs_with_round();
    assert_eq!(v2.len(), 5, "every wallet command kind");
    for env in &v2 {
        let bytes = env.to_bytes();
        assert!(wire::fast_path_accepts(&bytes), "{}", env.payload.kind());
        for input in [
            decode_input(&bytes),
            pitboss::wire::decode_input_serde(&bytes),
            Input::try_from(env),
        ] {
            let Ok(Input::Wallet { cmd, .. }) = input else {
                panic!("a wallet command: {input:?}")
            };
            assert_eq!(
                cmd.round.as_ref().map(|r| r.as_str()),
                Some(samples::ROUND),
                "{}",
                env.payload.kind()
            );
        }
    }
    let mut v = with(deposit_json(), "/schema_version", json!(2));
    v = with(v, "/payload/deposit/round", json!("G-1"));
    let both = |v: &Value| {
        let bytes = msgpack(v);
        let fast = decode_input(&bytes);
        assert_eq!(fast, pitboss::wire::decode_input_serde(&bytes), "{v}");
        fast
    };
    let Ok(Input::Wallet { cmd, .. }) = both(&v) else {
        panic!("a deposit")
    };
    assert_eq!(cmd.round.map(|r| r.to_string()), Some("G-1".to_owned()));
    // Without a round, and with a nil one: none.
    for round in [None, Some(Value::Null)] {
        let mut v = with(deposit_json(), "/schema_version", json!(2));
        if let Some(r) = round {
            v = with(v, "/payload/deposit/round", r);
        }
        let Ok(Input::Wallet { cmd, .. }) = both(&v) else {
            panic!("a deposit: {v}")
        };
        assert_eq!(cmd.round, None);
    }
    for (bad, code, text) in [
        (json!("G 1"), "invalid_id", "round id"),
        (json!(""), "invalid_id", "round id"),
        (json!("G".repeat(65)), "invalid_id", "round id"),
        (json!(42), "malformed", "`round` must be a string"),
    ] {
        let v = with(v.clone(), "/payload/deposit/round", bad.clone());
        let err = both(&v).expect_err("an invalid round");
        assert_eq!(err.code(), code, "{bad}: {err}");
        assert!(err.to_string().contains(text), "{bad}: {err}");
    }
    // Every wallet command kind reads it, rollback and win included.
    let mut v = with(
        samples_json(samples::inputs_with_round()[4].to_bytes()),
        "/payload/rollback/round",
        json!("G 2"),
    );
    assert_eq!(both(&v).map_err(|e| e.code()), Err("invalid_id"));
    v = with(v, "/payload/rollback/round", json!("G-2"));
    let Ok(Input::Wallet { cmd, .. }) = both(&v) else {
        panic!("a rollback")
    };
    assert_eq!(cmd.round.map(|r| r.to_string()), Some("G-2".to_owned()));
}

#[test]
fn a_version_1_wallet_command_has_no_round() {
    // RULES.md E-2: a version 1 event keeps the meaning of its fields; version 1 has no
    // `round`, so one it carries is not read (as a version 1 event has epoch 0 and no receive
    // time): neither validated as an id nor carried. It must still be a string.
    for round in ["G-1", "G 1", ""] {
        let v = with(deposit_json(), "/payload/deposit/round", json!(round));
        let bytes = msgpack(&v);
        for input in [
            decode_input(&bytes),
            pitboss::wire::decode_input_serde(&bytes),
        ] {
            let Ok(Input::Wallet { cmd, .. }) = input else {
                panic!("a version 1 deposit with round {round:?}: {input:?}")
            };
            assert_eq!(cmd.round, None, "{round:?}");
        }
    }
    let v = with(deposit_json(), "/payload/deposit/round", json!(7));
    let bytes = msgpack(&v);
    assert_eq!(decode_input(&bytes).map_err(|e| e.code()), Err("malformed"));
    assert_eq!(
        decode_input(&bytes),
        pitboss::wire::decode_input_serde(&bytes)
    );
}

#[test]
fn the_wallet_answer_echoes_the_round_only_when_the_command_had_one() {
    // RULES.md E-2, W-6: `round` in the `wallet` output, absent without one; the id does not
    // depend on it (a repeat's answer is the first answer).
    let outputs = samples::outputs();
    let find = |n: &str| {
        outputs
            .iter()
            .find(|(name, _)| *name == n)
            .map(|(_, o)| encode_output(o))
            .expect("sample")
    };
    let (with_round, without) = (find("wallet_round"), find("wallet"));
    let OutputEvent::Wallet(e) = decode_output(&with_round.bytes).expect("decodes") else {
        panic!("a wallet output")
    };
    assert_eq!(e.payload.round.as_deref(), Some(samples::ROUND));
    let json = samples_json(with_round.bytes.clone());
    assert_eq!(json["payload"]["round"], json!(samples::ROUND));
    let json = samples_json(without.bytes.clone());
    assert!(
        json["payload"].get("round").is_none(),
        "no round written: {json}"
    );
    assert_eq!(with_round.id, without.id, "the round is not part of the id");
}

/// A MessagePack map (a sample's bytes) as JSON, to edit.
fn samples_json(bytes: Vec<u8>) -> Value {
    rmp_serde::from_slice(&bytes).expect("a map with string keys and plain values")
}

// ------------------------------------------------- promotional credits (RULES.md M-13)

fn credit_json(version: u8, kind: &str, credit_type: Value) -> Value {
    json!({
        "event_id": samples::event_id(42).to_string(),
        "schema_version": version,
        "source": { "hall": "H-1", "machine": "M-17" },
        "seq": 9,
        "event_time": samples::TIME_MS,
        "payload": { "cash_in": {
            "kind": kind, "amount": 1_000, "currency": "EUR", "credit_type": credit_type
        } }
    })
}

/// RULES.md M-13, E-2: a version 2 cashless cash-in's credit type makes it promotional credits
/// on both decoding paths; version 1 ignores it; an unknown type, or one on a bill, is
/// rejected as malformed.
#[test]
fn a_cashless_cash_ins_credit_type_is_read_on_both_paths_and_only_there() {
    let a = Amount::new(1_000).unwrap();
    let promo = |p| MachineCommand::CashIn(CashInKind::Promo(p), a);
    for (version, credit, want) in [
        (2, "restricted", promo(PromoCredit::Restricted)),
        (2, "nonrestricted", promo(PromoCredit::NonRestricted)),
        (
            2,
            "cashable",
            MachineCommand::CashIn(CashInKind::Cashless, a),
        ),
        (
            1,
            "restricted",
            MachineCommand::CashIn(CashInKind::Cashless, a),
        ),
    ] {
        let bytes = msgpack(&credit_json(version, "cashless", json!(credit)));
        assert_machine_command(&bytes, &want, &format!("v{version} {credit}"));
    }
    for (kind, credit) in [
        ("cashless", json!("freeplay")),
        ("cashless", json!(2)),
        ("bill", json!("restricted")),
        ("ticket", json!("cashable")),
    ] {
        let bytes = msgpack(&credit_json(2, kind, credit.clone()));
        let e = decode_input(&bytes).expect_err("rejected");
        assert_eq!(e.code(), "malformed", "{kind} {credit}: {e}");
    }
}

/// RULES.md W-12, E-2: a version 2 transfer's credit type reaches the wallet's request and
/// the machine's transfer on both decoding paths; version 1 ignores it; an unknown type, or
/// restricted credits leaving a machine, are rejected as malformed.
#[test]
fn a_transfers_credit_type_is_read_on_both_paths_and_restricted_only_to_a_machine() {
    let request = |version: u8, credit: Value| {
        msgpack(&json!({
            "event_id": samples::event_id(43).to_string(),
            "schema_version": version,
            "source": { "hall": "H-1", "server": "AFT-1" },
            "seq": 3,
            "event_time": samples::TIME_MS,
            "payload": { "transfer_request": {
                "player": "P-1", "tx": "X-9", "machine": "M-17", "amount": 700,
                "currency": "EUR", "credit_type": credit
            } }
        }))
    };
    let ack = |version: u8, direction: &str, credit: Value| {
        msgpack(&json!({
            "event_id": samples::event_id(44).to_string(),
            "schema_version": version,
            "source": { "hall": "H-1", "machine": "M-17" },
            "seq": 10,
            "event_time": samples::TIME_MS,
            "payload": { "cashless_transfer": {
                "transfer": "X-9", "player": "P-1", "direction": direction, "amount": 700,
                "currency": "EUR", "credit_type": credit
            } }
        }))
    };
    let credit = |input: Input| -> CreditType {
        match input {
            Input::Wallet { cmd, .. } => match cmd.op {
                WalletOp::TransferRequest { credit, .. } => credit,
                other => panic!("{other:?}"),
            },
            Input::Machine { cmd, .. } => match cmd {
                MachineCommand::Transfer(t) => t.credit,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    };
    let credit_of = |bytes: &[u8]| -> CreditType {
        let fast = credit(decode_input(bytes).expect("decodes"));
        let env = InputEnvelope::from_bytes(bytes).expect("owned");
        let owned = credit(Input::try_from(&env).expect("owned envelope validates"));
        assert_eq!(fast, owned, "both paths agree");
        fast
    };
    assert_eq!(
        credit_of(&request(2, json!("restricted"))),
        CreditType::Restricted
    );
    assert_eq!(
        credit_of(&request(2, json!("cashable"))),
        CreditType::Cashable
    );
    assert_eq!(
        credit_of(&request(1, json!("restricted"))),
        CreditType::Cashable
    );
    assert_eq!(
        credit_of(&ack(2, "to_machine", json!("restricted"))),
        CreditType::Restricted
    );
    assert_eq!(
        credit_of(&ack(1, "to_machine", json!("restricted"))),
        CreditType::Cashable
    );
    for (what, bytes) in [
        ("nonrestricted request", request(2, json!("nonrestricted"))),
        ("numeric request", request(2, json!(1))),
        (
            "restricted from a machine",
            ack(2, "from_machine", json!("restricted")),
        ),
        ("freeplay ack", ack(2, "to_machine", json!("freeplay"))),
    ] {
        let e = decode_input(&bytes).expect_err("rejected");
        assert_eq!(e.code(), "malformed", "{what}: {e}");
    }
}

/// RULES.md W-12: an award's wagering is 0 to 100 and its expiry after its time.
#[test]
fn a_bonus_awards_wagering_and_expiry_are_checked_at_the_wire() {
    let award = |wagering: Value, expires_at: i64| {
        msgpack(&json!({
            "event_id": samples::event_id(45).to_string(),
            "schema_version": 1,
            "source": { "hall": "H-1", "server": "PROMO-1" },
            "seq": 3,
            "event_time": samples::TIME_MS,
            "payload": { "bonus_award": {
                "player": "P-1", "tx": "B-9", "amount": 700, "currency": "EUR",
                "wagering": wagering, "expires_at": expires_at
            } }
        }))
    };
    assert!(decode_input(&award(json!(100), samples::TIME_MS + 1)).is_ok());
    assert!(decode_input(&award(json!(0), samples::TIME_MS + 1)).is_ok());
    for (what, bytes) in [
        ("wagering 101", award(json!(101), samples::TIME_MS + 1)),
        ("wagering -1", award(json!(-1), samples::TIME_MS + 1)),
        ("wagering 1.5", award(json!(1.5), samples::TIME_MS + 1)),
        ("expiring as awarded", award(json!(1), samples::TIME_MS)),
    ] {
        let e = decode_input(&bytes).expect_err("rejected");
        assert_eq!(e.code(), "malformed", "{what}: {e}");
    }
}

// ------------------------------------------------------------------ vouchers (RULES.md V-1)

fn ticket_json(kind: &str, cash: &str, validation: Value) -> Value {
    json!({
        "event_id": samples::event_id(40).to_string(),
        "schema_version": 1,
        "source": { "hall": "H-1", "machine": "M-17" },
        "seq": 9,
        "event_time": samples::TIME_MS,
        "payload": { cash: {
            "kind": kind, "amount": 2_500, "currency": "EUR", "validation": validation
        } }
    })
}

#[test]
fn a_tickets_validation_number_reaches_the_machine_command_on_both_paths() {
    let v = ValidationNo::new(samples::VALIDATION).expect("valid");
    for (cash, want) in [
        (
            "cash_in",
            MachineCommand::CashIn(CashInKind::Ticket(Some(v)), Amount::new(2_500).unwrap()),
        ),
        (
            "cash_out",
            MachineCommand::CashOut(CashOutKind::Ticket(Some(v)), Amount::new(2_500).unwrap()),
        ),
    ] {
        let bytes = msgpack(&ticket_json("ticket", cash, json!(samples::VALIDATION)));
        assert_machine_command(&bytes, &want, cash);
    }
}

/// `bytes` decode to the machine command `want` on the fast path and, through an owned
/// envelope, on the serde path.
fn assert_machine_command(bytes: &[u8], want: &MachineCommand, what: &str) {
    let Ok(Input::Machine { cmd, .. }) = decode_input(bytes) else {
        panic!("{what} decodes")
    };
    assert_eq!(&cmd, want, "{what}");
    let env = InputEnvelope::from_bytes(bytes).expect("owned");
    let Ok(Input::Machine { cmd, .. }) = Input::try_from(&env) else {
        panic!("{what}: owned envelope")
    };
    assert_eq!(&cmd, want, "{what} (owned)");
}

#[test]
fn bad_validation_numbers_and_voucher_commands_from_the_wrong_sender_are_rejected() {
    let code = |v: &Value| decode_input(&msgpack(v)).expect_err("rejected").code();
    for bad in [
        json!("12345678901234567"),
        json!("1234567890123456789"),
        json!("12345678901234567x"),
        json!(123456789012345678_u64),
    ] {
        let c = code(&ticket_json("ticket", "cash_out", bad.clone()));
        assert!(c == "invalid_id" || c == "malformed", "{bad}: {c}");
    }
    // A number on a bill: not a ticket.
    assert_eq!(
        code(&ticket_json("bill", "cash_in", json!(samples::VALIDATION))),
        "invalid_id"
    );
    let voucher = |kind: &str, source: Value, body: Value| {
        json!({
            "event_id": samples::event_id(41).to_string(),
            "schema_version": 1,
            "source": source,
            "seq": 1,
            "event_time": samples::TIME_MS,
            "payload": { kind: body }
        })
    };
    let machine = json!({ "hall": "H-1", "machine": "M-17" });
    let desk = json!({ "hall": "H-1", "server": "DESK-1" });
    let issue =
        json!({ "validation": samples::VALIDATION, "tx": "V-1", "amount": 100, "currency": "EUR" });
    assert_eq!(
        code(&voucher("voucher_issue", machine.clone(), issue.clone())),
        "invalid_source",
        "a machine issues by printing, not by command"
    );
    let commit = json!({ "validation": samples::VALIDATION, "tx": "V-3" });
    assert_eq!(
        code(&voucher("voucher_commit", machine, commit.clone())),
        "invalid_source",
        "a machine commits by crediting the ticket"
    );
    assert_eq!(
        code(&voucher(
            "voucher_issue",
            desk.clone(),
            without(issue, "", "amount")
        )),
        "missing_field"
    );
    assert_eq!(
        code(&voucher("voucher_void", desk.clone(), commit.clone())),
        "missing_field",
        "a void gives its reason"
    );
    let blank = with(commit.clone(), "/reason", json!("  "));
    assert_eq!(
        code(&voucher("voucher_void", desk.clone(), blank)),
        "malformed"
    );
    let short = with(commit, "/validation", json!("42"));
    assert_eq!(code(&voucher("voucher_cancel", desk, short)), "invalid_id");
}
