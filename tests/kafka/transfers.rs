// The serial guard is held for the whole test on purpose: the tests of this file share
// the machine with a broker each and must not overlap.
#![allow(clippy::await_holding_lock)]
//! Cashless transfers through `pitboss run` and the broker (RULES.md W-10): the cashless
//! host's `transfer_request` holds the money in the wallet, the machine's
//! `cashless_transfer` events are counted at the machine and cross the internal
//! wallet-transfers topic to the wallet's owner, which pays from the hold, receives a
//! transfer from the machine, and alerts a second acknowledgement instead of paying it;
//! the recount balances with the transfers in it.

use crate::support;

use pitboss::kafka::internal::decode_wallet_transfers;
use pitboss::kafka::partition::partition_for;
use pitboss::run::RunOptions;
use pitboss::wire::{decode_output, InputEnvelope, InputPayload, OutputEvent};
use support::Broker;

const PLAYER: &str = "P-AFT-1";
const MACHINE: &str = "M-AFT-1";
const HALL: &str = "H-001";

/// (kind, tx, delta, balance) of the player's wallet outputs, (kind, transfer) of the
/// transfer alerts, and what each acknowledgement settled, in publication order.
type Seen = (
    Vec<(String, String, i64, i64)>,
    Vec<(String, String)>,
    Vec<Settled>,
);

/// (transfer, direction, amount, held, delta, unbacked, repeated, balance).
type Settled = (String, String, i64, i64, i64, i64, bool, i64);

fn seen(cfg: &pitboss::config::Config) -> Seen {
    let t = &cfg.kafka.topics;
    let mut wallet = Vec::new();
    let mut alerts = Vec::new();
    let mut settled = Vec::new();
    for r in support::read_all(
        &cfg.kafka.brokers,
        &[t.wallet_events.clone(), t.alerts.clone()],
    ) {
        match decode_output(&r.payload).expect("every output decodes") {
            OutputEvent::Wallet(w) if w.payload.player == PLAYER => wallet.push((
                w.payload.kind.to_string(),
                w.payload.tx.to_string(),
                w.payload.delta.unwrap_or_default(),
                w.payload.balance.unwrap_or_default(),
            )),
            OutputEvent::Alert(a) if a.payload.kind.starts_with("transfer_") => alerts.push((
                a.payload.kind.to_string(),
                a.payload
                    .transfer
                    .as_deref()
                    .unwrap_or_default()
                    .to_string(),
            )),
            OutputEvent::Transfer(s) if s.payload.player == PLAYER => {
                let p = s.payload;
                settled.push((
                    p.transfer.to_string(),
                    p.direction.to_string(),
                    p.amount,
                    p.held,
                    p.delta,
                    p.unbacked,
                    p.repeated,
                    p.balance,
                ));
            }
            _ => {}
        }
    }
    (wallet, alerts, settled)
}

#[actix_rt::test]
async fn a_transfer_crosses_the_internal_topic_and_pays_from_the_hold() {
    let _serial = support::serial();
    let broker = Broker::start();
    let cfg = support::config(&broker, "transfers");
    assert!(
        cfg.kafka.internal_topics,
        "the transfer must cross the internal topic"
    );
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");
    let now = pitboss::clock::now_ms();
    let cur = cfg.network.currency.clone();
    let id = |n: u128| uuid::Uuid::from_u128(0xaf70_0000 + n);
    let wallet = |n: u128, server: &str, payload: InputPayload| {
        let env = InputEnvelope::wallet(id(n), HALL, server, n as u64, now + n as i64, payload);
        (env.kafka_key().to_owned(), env.to_bytes())
    };
    let machine = |n: u128, seq: u64, transfer: &str, direction: &str, amount: i64| {
        let payload = InputPayload::CashlessTransfer {
            transfer: transfer.into(),
            player: PLAYER.into(),
            direction: direction.into(),
            amount,
            currency: cur.clone(),
            credit_type: None,
        };
        let env = InputEnvelope::machine(id(n), HALL, MACHINE, seq, now + n as i64, payload);
        (env.kafka_key().to_owned(), env.to_bytes())
    };
    let msgs = vec![
        wallet(
            1,
            "PSP-1",
            InputPayload::Deposit {
                player: PLAYER.into(),
                tx: "D-1".into(),
                amount: 10_000,
                currency: cur.clone(),
                round: None,
            },
        ),
        wallet(
            2,
            "AFT-1",
            InputPayload::TransferRequest {
                player: PLAYER.into(),
                tx: "X-1".into(),
                machine: MACHINE.into(),
                amount: 4_000,
                currency: cur.clone(),
                credit_type: None,
            },
        ),
        machine(3, 1, "X-1", "to_machine", 4_000),
        machine(4, 2, "X-2", "from_machine", 1_500),
        // The machine acknowledges X-1 a second time (a new event): counted at the machine,
        // not paid again by the wallet.
        machine(5, 3, "X-1", "to_machine", 4_000),
    ];
    let opts = RunOptions {
        recount: true,
        ..Default::default()
    };
    let (report, (wallet_out, alerts, settled)) = support::run_until(
        &cfg,
        opts,
        msgs,
        "the wallet's answers, the second acknowledgement's alert and three settlements",
        |c| {
            let got = seen(c);
            let done = got.0.len() == 2
                && got.1.iter().any(|a| a.0 == "transfer_acknowledged_twice")
                && got.2.len() == 3;
            done.then_some(got)
        },
    )
    .await;
    let report = report.expect("pitboss run stops cleanly");

    // The commands are answered; the machine's facts are booked, not answered.
    assert_eq!(
        wallet_out,
        vec![
            ("deposit".into(), "D-1".into(), 10_000, 10_000),
            ("transfer_request".into(), "X-1".into(), -4_000, 6_000),
        ]
    );
    assert_eq!(
        alerts,
        vec![("transfer_acknowledged_twice".into(), "X-1".into())],
        "a hold paid in full raises nothing; the second take is alerted"
    );
    // What each acknowledgement settled, on the wallet-events topic: the hold paid
    // credited the balance, the second take of X-1 is unbacked.
    let s = |t: &str, d: &str, amount, held, delta, unbacked, repeated, balance| {
        let (t, d) = (t.to_string(), d.to_string());
        (t, d, amount, held, delta, unbacked, repeated, balance)
    };
    assert_eq!(
        settled,
        vec![
            s("X-1", "to_machine", 4_000, 4_000, 0, 0, false, 6_000),
            s("X-2", "from_machine", 1_500, 0, 1_500, 0, false, 7_500),
            s("X-1", "to_machine", 4_000, 0, 0, 4_000, true, 7_500),
        ]
    );

    // The player's two commands and the machine's three facts crossed the internal topic,
    // on the wallet's partition.
    let t = &cfg.kafka.topics;
    let recs = support::read_all(
        &cfg.kafka.brokers,
        std::slice::from_ref(&t.wallet_transfers),
    );
    let mut items = Vec::new();
    for r in &recs {
        assert_eq!(
            r.partition,
            partition_for(PLAYER.as_bytes(), cfg.kafka.partitions.internal)
        );
        for i in decode_wallet_transfers(&r.payload).expect("an internal batch") {
            // A command item names its command's tx; a fact item, the transfer.
            let id = i
                .command
                .as_ref()
                .map_or(i.transfer.to_string(), |c| c.tx.clone());
            items.push((id, i.direction.to_string(), i.amount));
        }
    }
    items.sort();
    assert_eq!(
        items,
        vec![
            ("D-1".into(), "command".into(), 0),
            ("X-1".into(), "command".into(), 0),
            ("X-1".into(), "to_machine".into(), 4_000),
            ("X-1".into(), "to_machine".into(), 4_000),
            ("X-2".into(), "from_machine".into(), 1_500),
        ]
    );

    // The end state, recounted: the hold took 4,000 from the balance and the machine took
    // exactly that; the machine's 1,500 came back to the wallet; the second acknowledgement
    // paid nothing and is unbacked. The machine counted what it reported: 8,000 in, 1,500
    // out, so 6,500 credits. Every unit is accounted for.
    let r = report.recount.as_ref().expect("recounted");
    assert!(r.conservation_ok, "{r:#?}");
    assert_eq!(
        (r.balances, r.transfers_held, r.transfers_to_machines),
        (7_500, 0, 4_000),
        "{r:#?}"
    );
    assert_eq!(
        (r.transfers_from_machines, r.transfers_unbacked, r.credits),
        (1_500, 4_000, 6_500),
        "{r:#?}"
    );
}

/// RULES.md W-12 through `pitboss run`: a promotions system's bonus award, a cashless host's
/// restricted transfer request (version 2) holding bonus, the machine's restricted
/// acknowledgement (version 2) crossing the internal topic and counted on the machine's
/// promotional meters, a machine bet that plays them first and a wallet bet drawing cash
/// then bonus: the answers carry the bonus, the settlement names its credit type, and the
/// recount balances with awards in and the halls' `promo` both machine and wallet play.
#[actix_rt::test]
async fn a_bonus_crosses_to_a_machine_as_restricted_credits_and_the_books_balance() {
    let _serial = support::serial();
    let broker = Broker::start();
    let cfg = support::config(&broker, "bonus");
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");
    let now = pitboss::clock::now_ms();
    let cur = cfg.network.currency.clone();
    let id = |n: u128| uuid::Uuid::from_u128(0xb0b0_0000 + n);
    let v2 = |mut env: InputEnvelope| {
        env.schema_version = 2;
        (env.kafka_key().to_owned(), env.to_bytes())
    };
    let wallet = |n: u128, server: &str, payload| {
        v2(InputEnvelope::wallet(
            id(n),
            HALL,
            server,
            n as u64,
            now + n as i64,
            payload,
        ))
    };
    let machine = |n: u128, seq: u64, payload| {
        v2(InputEnvelope::machine(
            id(n),
            HALL,
            MACHINE,
            seq,
            now + n as i64,
            payload,
        ))
    };
    // The deposit first: a bonus reaches only a player pitboss knows (RULES.md W-12).
    let msgs = vec![
        wallet(
            1,
            "PSP-1",
            InputPayload::Deposit {
                player: PLAYER.into(),
                tx: "D-1".into(),
                amount: 1_000,
                currency: cur.clone(),
                round: None,
            },
        ),
        wallet(
            2,
            "PROMO-1",
            InputPayload::BonusAward {
                player: PLAYER.into(),
                tx: "A-1".into(),
                amount: 3_000,
                currency: cur.clone(),
                wagering: 1,
                expires_at: now + 86_400_000,
            },
        ),
        wallet(
            3,
            "AFT-1",
            InputPayload::TransferRequest {
                player: PLAYER.into(),
                tx: "X-1".into(),
                machine: MACHINE.into(),
                amount: 2_000,
                currency: cur.clone(),
                credit_type: Some("restricted".into()),
            },
        ),
        machine(
            4,
            1,
            InputPayload::CashlessTransfer {
                transfer: "X-1".into(),
                player: PLAYER.into(),
                direction: "to_machine".into(),
                amount: 2_000,
                currency: cur.clone(),
                credit_type: Some("restricted".into()),
            },
        ),
        machine(
            5,
            2,
            InputPayload::Bet {
                amount: 500,
                currency: cur.clone(),
            },
        ),
        wallet(
            6,
            "GS-1",
            InputPayload::WalletBet {
                player: PLAYER.into(),
                tx: "B-1".into(),
                amount: 1_500,
                currency: cur.clone(),
                round: Some("R-1".into()),
            },
        ),
    ];
    let t = cfg.kafka.topics.clone();
    let (brokers, events) = (cfg.kafka.brokers.clone(), t.wallet_events.clone());
    // (tx or transfer, delta, balance, bonus delta, bonus, credit type) of the player's
    // answers and settlements.
    let read = move || {
        let mut out = Vec::new();
        for r in support::read_all(&brokers, std::slice::from_ref(&events)) {
            match decode_output(&r.payload).expect("every output decodes") {
                OutputEvent::Wallet(w) if w.payload.player == PLAYER => {
                    let p = w.payload;
                    out.push((
                        p.tx.to_string(),
                        p.delta.unwrap_or_default(),
                        p.balance.unwrap_or_default(),
                        p.bonus_delta,
                        p.bonus,
                        None,
                    ))
                }
                OutputEvent::Transfer(s) if s.payload.player == PLAYER => {
                    let p = s.payload;
                    out.push((
                        p.transfer.to_string(),
                        p.delta,
                        p.balance,
                        None,
                        None,
                        p.credit_type.map(|c| c.to_string()),
                    ))
                }
                _ => {}
            }
        }
        out
    };
    let opts = RunOptions {
        recount: true,
        ..Default::default()
    };
    let (report, seen) = support::run_until(
        &cfg,
        opts,
        msgs,
        "four answers and the restricted settlement",
        move |_| {
            let got = read();
            (got.len() == 5).then_some(got)
        },
    )
    .await;
    let report = report.expect("pitboss run stops cleanly");
    // The machine's acknowledgement comes from another input partition than the player's
    // commands: it settles before or after the bet, and its reported balance follows.
    let (settlements, answers): (Vec<_>, Vec<_>) = seen.into_iter().partition(|s| s.5.is_some());
    assert_eq!(
        answers,
        vec![
            ("D-1".into(), 1_000, 1_000, None, None, None),
            ("A-1".into(), 0, 1_000, Some(3_000), Some(3_000), None),
            ("X-1".into(), 0, 1_000, Some(-2_000), Some(1_000), None),
            // Cash first (1,000), then 500 of bonus; 1,500 of the 3,000 to wager is left.
            ("B-1".into(), -1_000, 0, Some(-500), Some(500), None),
        ]
    );
    // The restricted hold paid the machine in full: the bonus did not move again.
    let settled: Vec<_> = settlements
        .iter()
        .map(|s| (s.0.as_str(), s.1, s.5.as_deref()))
        .collect();
    assert_eq!(settled, vec![("X-1", 0, Some("restricted"))]);
    let r = report.recount.as_ref().expect("recounted");
    assert!(r.conservation_ok, "{r:#?}");
    assert_eq!(
        (
            r.bonus_awarded,
            r.bonus_balances,
            r.bonus_played,
            r.promo_played
        ),
        (3_000, 500, 500, 500),
        "{r:#?}"
    );
    // The halls' promotional play: the machine's restricted credits and the wallet's bonus.
    assert_eq!(
        (r.promo, r.promo_in, r.credits),
        (1_000, 2_000, 1_500),
        "{r:#?}"
    );
}

/// The sweep (RULES.md W-10) through `pitboss run`: a hold two minutes old that nothing
/// touches again is released; the lapse crosses the internal transfers topic to the wallet's
/// owner (an item of direction `lapse`), the alert is published once, and the recount finds
/// the money back in the balance.
#[actix_rt::test]
async fn the_sweep_lapses_a_hold_through_the_internal_topic() {
    let _serial = support::serial();
    let broker = Broker::start();
    let mut cfg = support::config(&broker, "transfers-sweep");
    cfg.http.addr = "127.0.0.1:0".into();
    cfg.http.census_interval_ms = 100;
    let dir = tempfile::tempdir().expect("tempdir");
    cfg.http.audit_log = dir.path().join("audit.jsonl").display().to_string();
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");
    let now = pitboss::clock::now_ms();
    let cur = cfg.network.currency.clone();
    let msgs: Vec<(String, Vec<u8>)> = [
        (
            "PSP-1",
            now - 180_000,
            InputPayload::Deposit {
                player: PLAYER.into(),
                tx: "D-1".into(),
                amount: 10_000,
                currency: cur.clone(),
                round: None,
            },
        ),
        (
            "AFT-1",
            now - 120_000,
            InputPayload::TransferRequest {
                player: PLAYER.into(),
                tx: "X-9".into(),
                machine: MACHINE.into(),
                amount: 4_000,
                currency: cur.clone(),
                credit_type: None,
            },
        ),
    ]
    .into_iter()
    .enumerate()
    .map(|(n, (server, time, payload))| {
        let id = uuid::Uuid::from_u128(0xaf71_0000 + n as u128);
        let env = InputEnvelope::wallet(id, HALL, server, n as u64, time, payload);
        (env.kafka_key().to_owned(), env.to_bytes())
    })
    .collect();
    let opts = RunOptions {
        http: true,
        recount: true,
        ..Default::default()
    };
    let (report, (_, alerts, _)) =
        support::run_until(&cfg, opts, msgs, "the lapsed hold's alert", |c| {
            let got = seen(c);
            got.1
                .iter()
                .any(|a| a == &("transfer_hold_released".to_string(), "X-9".to_string()))
                .then_some(got)
        })
        .await;
    let report = report.expect("pitboss run stops cleanly");
    assert_eq!(
        alerts,
        vec![("transfer_hold_released".into(), "X-9".into())],
        "released once"
    );
    let t = &cfg.kafka.topics;
    let lapses: Vec<String> = support::read_all(
        &cfg.kafka.brokers,
        std::slice::from_ref(&t.wallet_transfers),
    )
    .iter()
    .flat_map(|r| {
        decode_wallet_transfers(&r.payload)
            .expect("an internal batch")
            .into_iter()
            .map(|i| format!("{} {}", i.player, i.direction))
            .collect::<Vec<_>>()
    })
    .collect();
    // The player's two commands went the same way, ahead of the lapse (which a census
    // round may send again).
    let command = format!("{PLAYER} command");
    let lapse = format!("{PLAYER} lapse");
    assert!(
        lapses.len() >= 3
            && lapses[..2].iter().all(|l| l == &command)
            && lapses[2..].iter().all(|l| l == &lapse),
        "{lapses:?}"
    );
    let r = report.recount.as_ref().expect("recounted");
    assert!(r.conservation_ok, "{r:#?}");
    assert_eq!((r.balances, r.transfers_held), (10_000, 0));
}

/// RULES.md W-9 through `pitboss run`: a self-excluded player's card-in at a machine crosses
/// the internal transfers topic (an item of direction `card_in`) to the wallet's owner, which
/// raises `self_excluded_card_in` once; a card-in of a player without a wallet raises nothing
/// and creates no wallet. That player's card session (RULES.md M-12) is rated on
/// `pitboss.sessions` at the card-out.
#[actix_rt::test]
async fn a_self_excluded_players_card_in_raises_an_alert_and_a_card_session_is_rated() {
    let _serial = support::serial();
    let broker = Broker::start();
    let mut cfg = support::config(&broker, "card-in");
    // RULES.md W-11: the bill below is the carded-in player's cash, and logged.
    cfg.aml.log_threshold_minor = 5_000;
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");
    let now = pitboss::clock::now_ms();
    let until = now + 86_400_000;
    let id = |n: u128| uuid::Uuid::from_u128(0xaf72_0000 + n);
    let exclusion = InputEnvelope::wallet(
        id(1),
        HALL,
        "RG-1",
        1,
        now,
        InputPayload::SelfExclusion {
            player: PLAYER.into(),
            tx: "SE-1".into(),
            until,
        },
    );
    let event = |n: u128, machine: &str, seq: u64, payload: InputPayload| {
        let env = InputEnvelope::machine(id(n), HALL, machine, seq, now + n as i64, payload);
        (env.kafka_key().to_owned(), env.to_bytes())
    };
    let card_in = |player: &str| InputPayload::CardIn {
        player: player.into(),
    };
    let cur = cfg.network.currency.clone();
    // The card-ins are produced once the exclusion is answered: a card-in that reaches the
    // wallet before its exclusion raises nothing (RULES.md W-9), and the input topic's
    // partitions are read in no fixed order.
    let later = vec![
        event(2, "M-AFT-2", 1, card_in("P-NO-WALLET")),
        event(3, MACHINE, 1, card_in(PLAYER)),
        // RULES.md M-12: a session with play in it, ended by the card-out.
        event(
            4,
            "M-AFT-2",
            2,
            InputPayload::CashIn {
                kind: "bill".into(),
                amount: 5_000,
                currency: cur.clone(),
                validation: None,
                credit_type: None,
            },
        ),
        event(
            5,
            "M-AFT-2",
            3,
            InputPayload::Bet {
                amount: 2_500,
                currency: cur.clone(),
            },
        ),
        event(6, "M-AFT-2", 4, InputPayload::GameEnd {}),
        event(7, "M-AFT-2", 5, InputPayload::CardOut {}),
    ];
    let (brokers, input) = (cfg.kafka.brokers.clone(), cfg.kafka.topics.input.clone());
    let mut sent = false;
    let opts = RunOptions {
        recount: true,
        ..Default::default()
    };
    let msgs = vec![(exclusion.kafka_key().to_owned(), exclusion.to_bytes())];
    let what = "the card-in's alert and the rated session";
    let (report, (alerts, sessions, cases)) =
        support::run_until(&cfg, opts, msgs, what, move |c| {
            let t = &c.kafka.topics;
            let mut answered = false;
            let mut alerts = Vec::new();
            let mut sessions = Vec::new();
            let mut cases = Vec::new();
            for r in support::read_all(
                &c.kafka.brokers,
                &[
                    t.wallet_events.clone(),
                    t.alerts.clone(),
                    t.sessions.clone(),
                    t.compliance.clone(),
                ],
            ) {
                match decode_output(&r.payload).expect("every output decodes") {
                    OutputEvent::Wallet(w) => answered |= w.payload.tx == "SE-1",
                    OutputEvent::AmlCase(a) => {
                        let p = a.payload;
                        let machines: Vec<String> = p
                            .evidence
                            .iter()
                            .map(|m| m.machine.as_deref().unwrap_or_default().to_string())
                            .collect();
                        cases.push((
                            p.player.to_string(),
                            p.case.to_string(),
                            p.direction.to_string(),
                            p.total,
                            machines,
                        ));
                    }
                    OutputEvent::RatedSession(s) => {
                        let p = s.payload;
                        sessions.push((
                            p.player.to_string(),
                            p.machine.to_string(),
                            (p.coin_in, p.coin_out, p.games, p.theoretical_win, p.points),
                            (p.start, p.end, p.ended_by.to_string()),
                        ));
                    }
                    OutputEvent::Alert(a) => alerts.push((
                        a.payload.kind.to_string(),
                        a.payload.player.as_deref().unwrap_or_default().to_string(),
                        a.payload.machine.as_deref().unwrap_or_default().to_string(),
                        a.payload.until,
                    )),
                    _ => {}
                }
            }
            if answered && !sent {
                support::produce(&brokers, &input, &later);
                sent = true;
            }
            let alerted = alerts.iter().any(|a| a.0 == "self_excluded_card_in");
            (alerted && !sessions.is_empty() && !cases.is_empty())
                .then_some((alerts, sessions, cases))
        })
        .await;
    let report = report.expect("pitboss run stops cleanly");
    assert_eq!(
        alerts,
        vec![(
            "self_excluded_card_in".into(),
            PLAYER.into(),
            MACHINE.into(),
            Some(until)
        )],
        "one alert, for the excluded player only"
    );
    // RULES.md W-11: the 5,000 bill of the carded-in player reached the logging threshold.
    assert_eq!(
        cases,
        vec![(
            "P-NO-WALLET".into(),
            "log".into(),
            "in".into(),
            5_000,
            vec!["M-AFT-2".to_string()]
        )]
    );
    // Carded in at the event of now + 2 ms, out at now + 7 ms; 2,500 bet at the default 8 %
    // hold: a theoretical win of 200, and at the default 0.01 points per minor unit, 2
    // loyalty points.
    assert_eq!(
        sessions,
        vec![(
            "P-NO-WALLET".into(),
            "M-AFT-2".into(),
            (2_500, 0, 1, 200, 2),
            (now + 2, now + 7, "card_out".into())
        )]
    );
    // Both card-ins crossed the internal topic, each on its player's partition.
    let t = &cfg.kafka.topics;
    let mut items = Vec::new();
    for r in support::read_all(
        &cfg.kafka.brokers,
        std::slice::from_ref(&t.wallet_transfers),
    ) {
        for i in decode_wallet_transfers(&r.payload).expect("an internal batch") {
            assert_eq!(
                r.partition,
                partition_for(i.player.as_bytes(), cfg.kafka.partitions.internal)
            );
            items.push((i.player.to_string(), i.direction.to_string()));
        }
    }
    items.sort();
    assert_eq!(
        items,
        vec![
            ("P-AFT-1".into(), "card_in".into()),
            ("P-AFT-1".into(), "command".into()),
            ("P-NO-WALLET".into(), "card_in".into()),
            ("P-NO-WALLET".into(), "cash_in".into()),
            ("P-NO-WALLET".into(), "points".into()),
        ]
    );
    // No money moved between wallets and machines; the card-in made no wallet, the points
    // made the player's state.
    let r = report.recount.as_ref().expect("recounted");
    assert!(r.conservation_ok, "{r:#?}");
    assert_eq!((r.wallets, r.balances, r.credits), (2, 0, 2_500), "{r:#?}");
}
