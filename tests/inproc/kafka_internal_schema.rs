//! The internal topics' messages, as `pitboss::kafka::internal` writes them, conform to
//! `schemas/internal/batch.schema.json` (no broker needed).

use std::path::PathBuf;

use jsonschema::Resource;
use pitboss::kafka::internal::{
    award_item, decode_desk_ops, desk_item, event_id_text, ggr_item, pool_item,
    wallet_command_item, wallet_player_item, wallet_transfer_item, BatchBuf, DeskParts, Kind,
};
use pitboss_actors::domain::aml::CashDir;
use pitboss_actors::domain::desk::{
    CashDir as DeskCashDir, CashSource, DeskCash, DeskCommand, DeskMeta, DeskOp,
};
use pitboss_actors::domain::jackpot::{JackpotHit, PoolCommand, PoolMeta};
use pitboss_actors::domain::machine::GgrDelta;
use pitboss_actors::domain::transfer::{CreditType, Direction, TransferFact};
use pitboss_actors::domain::wallet::{WalletCommand, WalletMeta, WalletOp};
use pitboss_actors::domain::{
    Amount, Currency, EventId, HallId, MachineId, PlayerId, PoolId, ServerId, SourceKey, Timestamp,
    TxId,
};
use pitboss_actors::shell::{AckToken, DeskMsg, PlayerFact};
use serde_json::Value;

const BASE: &str = "https://pitboss.example/schemas/";

fn load(rel: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(rel);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn validator() -> jsonschema::Validator {
    let schema = load("internal/batch.schema.json");
    assert_eq!(schema["$id"], format!("{BASE}internal/batch.schema.json"));
    let mut options = jsonschema::options();
    options.should_validate_formats(true);
    options.with_resource(
        format!("{BASE}common.schema.json"),
        Resource::from_contents(load("common.schema.json")).unwrap(),
    );
    options
        .build(&schema)
        .expect("the internal schema compiles")
}

fn check(v: &jsonschema::Validator, bytes: &[u8]) -> Value {
    let json: Value = rmp_serde::from_slice(bytes).expect("MessagePack reads as JSON");
    let errors: Vec<String> = v
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{json}: {errors:?}");
    json
}

#[test]
fn every_internal_batch_kind_conforms() {
    let v = validator();
    let m = MachineId::new("M-001-00001").unwrap();
    let cause = EventId(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    let mut text = [0u8; 36];
    let cause_text = event_id_text(cause, &mut text).to_owned();
    let meta = PoolMeta {
        source: SourceKey::Machine(m.clone()),
        seq: 7,
        cause,
    };
    let pool = PoolId::new("WAP-1").unwrap();

    let mut b = BatchBuf::new(Kind::PoolCommands);
    let contribute = PoolCommand::Contribute {
        machine: m.clone(),
        bet: Amount::new(100).unwrap(),
        eligible: true,
    };
    let claim = PoolCommand::Claim {
        machine: m.clone(),
        level: 2,
        bet: 40,
        amount: Some(Amount::new(5_005).unwrap()),
    };
    b.push(&pool_item(&pool, &meta, &contribute, 3, &cause_text));
    b.push(&pool_item(&pool, &meta, &claim, 3, &cause_text));
    let json = check(&v, b.message());
    assert_eq!(json["items"].as_array().unwrap().len(), 2);

    let mut b = BatchBuf::new(Kind::GgrDeltas);
    for source in [
        SourceKey::Machine(m.clone()),
        SourceKey::Wallet(PlayerId::new("P-1").unwrap()),
    ] {
        b.push(&ggr_item(&GgrDelta {
            source,
            seq: 9,
            cause,
            hall: HallId::new("H-001").unwrap(),
            window: Timestamp(1_800_000_000_000),
            bets: -20,
            wins: 0,
            games: 1,
            jackpots: 300,
            promo: 0,
        }));
    }
    check(&v, b.message());

    let mut b = BatchBuf::new(Kind::MachineAwards);
    let hit = JackpotHit {
        pool,
        level: 0,
        name: "grand".into(),
        amount: Amount::new(1_000_000).unwrap(),
        machine: m,
        hit_number: 1,
        cause,
    };
    b.push(&award_item(&hit, &cause_text));
    check(&v, b.message());

    // RULES.md W-10: a machine's transfer and the sweep's lapse of a hold.
    let mut b = BatchBuf::new(Kind::WalletTransfers);
    let player = PlayerId::new("P-1").unwrap();
    let wmeta = WalletMeta {
        event_id: cause,
        time: Timestamp(1_800_000_000_000),
        hall: HallId::new("H-001").unwrap(),
    };
    let fact = TransferFact {
        transfer: TxId::new("XF-1").unwrap(),
        machine: MachineId::new("M-001-00001").unwrap(),
        direction: Direction::ToMachine,
        amount: Amount::new(2_000).unwrap(),
        // RULES.md W-12: the bonus's credits name their type on the topic.
        credit: CreditType::Restricted,
        seq: 7,
    };
    b.push(&wallet_transfer_item(
        &player,
        &wmeta,
        Some(&fact),
        &cause_text,
    ));
    b.push(&wallet_transfer_item(&player, &wmeta, None, &cause_text));
    // A wallet command from the input topic goes the same way (the wallet's order).
    let cmd = WalletCommand {
        provider: ServerId::new("GS-1").unwrap(),
        tx: TxId::new("T-1").unwrap(),
        op: WalletOp::TransferRequest {
            machine: MachineId::new("M-001-00001").unwrap(),
            amount: Amount::new(2_000).unwrap(),
            credit: CreditType::Restricted,
        },
        round: None,
    };
    let eur = Currency::new("EUR").unwrap();
    b.push(&wallet_command_item(
        &player,
        &wmeta,
        &cmd,
        Some(&eur),
        &cause_text,
    ));
    // RULES.md W-9: a player's card-in, for the wallet's self-exclusion.
    let machine = MachineId::new("M-001-00002").unwrap();
    // RULES.md M-12: a rated session's loyalty points.
    // RULES.md W-11: a carded-in player's cash at a machine.
    for (seq, fact) in [
        (0, PlayerFact::CardIn),
        (12, PlayerFact::Points(30)),
        (13, PlayerFact::Cash(5_000, CashDir::Out)),
    ] {
        b.push(&wallet_player_item(
            &player,
            &wmeta,
            &machine,
            seq,
            fact,
            &cause_text,
        ));
    }
    let json = check(&v, b.message());
    assert_eq!(json["items"][1]["direction"], "lapse");
    assert_eq!(json["items"][2]["command"]["op"], "transfer_request");
    assert_eq!(json["items"][3]["direction"], "card_in");
    assert_eq!(json["items"][4]["direction"], "points");
    assert_eq!(json["items"][5]["direction"], "cash_out");

    // RULES.md D: a desk's shift command and a voucher's cash operation for the desk, and
    // they read back as they were.
    let mut b = BatchBuf::new(Kind::DeskOps);
    let desk = ServerId::new("CAGE-1").unwrap();
    let dmeta = DeskMeta {
        event_id: cause,
        time: Timestamp(1_800_000_000_000),
        hall: HallId::new("H-001").unwrap(),
    };
    let open = DeskMsg::Command {
        meta: dmeta.clone(),
        cmd: DeskCommand {
            tx: TxId::new("S-1").unwrap(),
            op: DeskOp::Open {
                cashier: "C-7".into(),
                float: 0,
            },
        },
        currency: Currency::new("EUR").unwrap(),
        ack: AckToken::none(),
    };
    let paid = DeskMsg::Cash {
        meta: dmeta.clone(),
        cash: DeskCash {
            dir: DeskCashDir::Out,
            amount: 2_500,
        },
        source: CashSource::Ticket,
        ack: AckToken::none(),
    };
    // RULES.md D-10: a wallet's deposit at the desk says so.
    let deposited = DeskMsg::Cash {
        meta: dmeta.clone(),
        cash: DeskCash {
            dir: DeskCashDir::In,
            amount: 70_000,
        },
        source: CashSource::Wallet,
        ack: AckToken::none(),
    };
    b.push(&desk_item(&desk, &open, &cause_text));
    b.push(&desk_item(&desk, &paid, &cause_text));
    b.push(&desk_item(&desk, &deposited, &cause_text));
    let json = check(&v, b.message());
    assert_eq!(json["items"][0]["op"], "open");
    assert_eq!(json["items"][1]["op"], "cash_out");
    assert!(
        json["items"][1].get("source").is_none(),
        "a ticket's: {json}"
    );
    assert_eq!(json["items"][2]["source"], "wallet");
    let items = decode_desk_ops(b.message()).unwrap();
    match items[0].to_domain().unwrap() {
        (d, DeskParts::Command(m, c, _)) => {
            assert_eq!((d, m), (desk.clone(), dmeta.clone()));
            assert_eq!(
                c.op,
                DeskOp::Open {
                    cashier: "C-7".into(),
                    float: 0
                }
            );
        }
        _ => panic!("not a command"),
    }
    match items[1].to_domain().unwrap() {
        (d, DeskParts::Cash(m, c, s)) => {
            assert_eq!((d, m), (desk.clone(), dmeta.clone()));
            assert_eq!(
                (c.dir, c.amount, s),
                (DeskCashDir::Out, 2_500, CashSource::Ticket)
            );
        }
        _ => panic!("not a cash operation"),
    }
    match items[2].to_domain().unwrap() {
        (d, DeskParts::Cash(m, c, s)) => {
            assert_eq!((d, m), (desk, dmeta));
            assert_eq!(
                (c.dir, c.amount, s),
                (DeskCashDir::In, 70_000, CashSource::Wallet)
            );
        }
        _ => panic!("not a cash operation"),
    }

    // An empty batch is valid too (never sent, but well-formed).
    check(&v, BatchBuf::new(Kind::GgrDeltas).message());
}

#[test]
fn the_schema_refuses_what_the_reader_refuses() {
    let v = validator();
    let bad = serde_json::json!({
        "schema_version": 1,
        "kind": "pool_commands",
        "items": [{
            "pool": "WAP-1", "source_kind": "machine", "source": "M-1", "seq": 1,
            "cause": "01234567-89ab-cdef-0123-456789abcdef", "op": "contribute",
            "machine": "M-1", "machine_partition": 0
        }]
    });
    assert!(!v.is_valid(&bad), "a contribution without its bet");
    let bad = serde_json::json!({
        "schema_version": 1,
        "kind": "wallet_transfers",
        "items": [{
            "player": "P-1", "cause": "01234567-89ab-cdef-0123-456789abcdef",
            "time": 1, "hall": "H-1", "machine": "M-1", "transfer": "XF-1",
            "direction": "lapse", "amount": 0
        }]
    });
    assert!(!v.is_valid(&bad), "a lapse naming a machine and a transfer");
    let bad = serde_json::json!({
        "schema_version": 1,
        "kind": "wallet_transfers",
        "items": [{
            "player": "P-1", "cause": "01234567-89ab-cdef-0123-456789abcdef",
            "time": 1, "hall": "H-1", "machine": "", "transfer": "",
            "direction": "command", "amount": 0
        }]
    });
    assert!(!v.is_valid(&bad), "a command item without its command");
    let bad = serde_json::json!({"schema_version": 2, "kind": "ggr_deltas", "items": []});
    assert!(!v.is_valid(&bad), "another schema version");
}
