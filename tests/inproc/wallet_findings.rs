//! Issue 11's wallet findings, one test each, named after the finding (RULES.md W-1..W-7,
//! E-4). Each runs the sequence the finding describes through the reference processor
//! (`Direct`, the domain as the actors apply it) or the actor runtime over a store.

use std::sync::Arc;

use pitboss::config::Config;
use pitboss::direct::Direct;
use pitboss::rng::KeyedHitPoints;
use pitboss_actors::domain::wallet::{Answer, WalletCommand, WalletMeta, WalletOp};
use pitboss_actors::domain::{
    Amount, Currency, EventId, HallId, PlayerId, ServerId, Timestamp, TxId,
};
use pitboss_actors::shell::{
    Input, ManualClock, MemorySink, MemoryStore, Output, Runtime, RuntimeConfig, Snapshot,
    StateStore,
};

const T0: i64 = 1_800_000_000_000;

fn config() -> RuntimeConfig {
    let mut rc = Config::load_with_env(None, Vec::new())
        .expect("default config")
        .runtime_config()
        .expect("runtime config");
    rc.wallet_credit_line_minor = 1_000;
    rc
}

/// A command from `provider` on the network's hall, at `T0 + n` seconds.
fn cmd(n: u128, provider: &str, tx: &str, op: WalletOp, currency: &str) -> Input {
    Input::Wallet {
        player: PlayerId::new("P-1").unwrap(),
        meta: WalletMeta {
            event_id: EventId(n),
            time: Timestamp(T0 + n as i64 * 1_000),
            hall: HallId::new("ONLINE").unwrap(),
        },
        cmd: WalletCommand {
            provider: ServerId::new(provider).unwrap(),
            tx: TxId::new(tx).unwrap(),
            op,
            round: None,
        },
        currency: Some(Currency::new(currency).unwrap()),
    }
}

fn a(minor: i64) -> Amount {
    Amount::new(minor).unwrap()
}

fn tx(id: &str) -> TxId {
    TxId::new(id).unwrap()
}

fn direct() -> Direct {
    Direct::new(config(), "test").keeping_answers()
}

fn balance(d: &Direct) -> i64 {
    d.snapshots()
        .into_iter()
        .find_map(|s| match s {
            Snapshot::Wallet(w) => Some(w.balance),
            _ => None,
        })
        .unwrap_or(0)
}

/// The last answer published: (tx, repeat, answer).
fn last(d: &Direct) -> (String, bool, Answer) {
    let a = d.answers.last().expect("an answer");
    (a.key.tx.to_string(), a.repeat, a.answered.answer.clone())
}

fn refused_code(d: &Direct) -> Option<&'static str> {
    match &d.answers.last()?.answered.answer {
        Answer::Refused(e) => Some(e.code()),
        Answer::Applied { .. } => None,
    }
}

#[test]
fn finding_1_idempotency_forgets() {
    let mut d = direct();
    d.apply(cmd(1, "PSP", "PSP-1", WalletOp::Deposit(a(1_000)), "EUR"));
    d.apply(cmd(2, "GS", "B1", WalletOp::Bet(a(100)), "EUR"));
    for i in 0..300 {
        d.apply(cmd(
            10 + i,
            "PSP",
            &format!("D-{i}"),
            WalletOp::Deposit(a(1)),
            "EUR",
        ));
    }
    assert_eq!(balance(&d), 1_200);
    // Far beyond the 256 answers kept in memory: the first answer, from the store.
    d.apply(cmd(400, "PSP", "PSP-1", WalletOp::Deposit(a(1_000)), "EUR"));
    assert_eq!(
        last(&d),
        (
            "PSP-1".into(),
            true,
            Answer::Applied {
                delta: 1_000,
                balance: 1_000
            }
        )
    );
    assert_eq!(balance(&d), 1_200, "not credited twice");
    // The rollback still finds its bet: refunded, not answered with 0.
    d.apply(cmd(
        401,
        "GS",
        "R1",
        WalletOp::Rollback { bet_tx: tx("B1") },
        "EUR",
    ));
    assert_eq!(
        last(&d).2,
        Answer::Applied {
            delta: 100,
            balance: 1_300
        }
    );
}

/// W-1 through the actors: the answer leaves the wallet's memory, the actor reads it back
/// from the store, also after a restart from what the store holds.
#[actix_rt::test]
async fn finding_1_idempotency_survives_a_restart_from_the_store() {
    let store = Arc::new(MemoryStore::default());
    let start = |sink: Arc<MemorySink>| {
        Runtime::start(
            config(),
            sink,
            store.clone() as Arc<dyn StateStore>,
            Arc::new(KeyedHitPoints::new("test")),
            Arc::new(ManualClock::at(Timestamp(T0))),
        )
    };
    let sink = Arc::new(MemorySink::default());
    let rt = start(sink.clone());
    let ack = pitboss_actors::shell::AckToken::none;
    rt.dispatch(
        cmd(1, "PSP", "PSP-1", WalletOp::Deposit(a(1_000)), "EUR"),
        ack(),
    )
    .await;
    for i in 0..300 {
        let c = cmd(
            10 + i,
            "PSP",
            &format!("D-{i}"),
            WalletOp::Deposit(a(1)),
            "EUR",
        );
        rt.dispatch(c, ack()).await;
    }
    rt.dispatch(
        cmd(400, "PSP", "PSP-1", WalletOp::Deposit(a(1_000)), "EUR"),
        ack(),
    )
    .await;
    rt.quiesce().await;
    let player = PlayerId::new("P-1").unwrap();
    let wallet = |s: Option<Snapshot>| match s {
        Some(Snapshot::Wallet(w)) => w,
        other => panic!("no wallet: {other:?}"),
    };
    let w = wallet(
        rt.inspect::<pitboss_actors::shell::WalletEntity>(&player)
            .await
            .unwrap(),
    );
    assert_eq!(w.balance, 1_300, "credited once");
    let answers: Vec<Output> = sink
        .take()
        .into_iter()
        .filter(|o| matches!(o, Output::Wallet { tx, .. } if tx.as_str() == "PSP-1"))
        .collect();
    assert_eq!(answers.len(), 2);
    assert_eq!(
        answers[0], answers[1],
        "the first answer, republished as it was"
    );
    rt.checkpoint().await;
    rt.stop();

    // A new runtime over the same store: the retry is still a repeat.
    let sink = Arc::new(MemorySink::default());
    let rt = start(sink.clone());
    rt.dispatch(
        cmd(500, "PSP", "PSP-1", WalletOp::Deposit(a(1_000)), "EUR"),
        ack(),
    )
    .await;
    rt.quiesce().await;
    let w = wallet(
        rt.inspect::<pitboss_actors::shell::WalletEntity>(&player)
            .await
            .unwrap(),
    );
    assert_eq!(w.balance, 1_300, "not credited after the restart either");
    let again: Vec<Output> = sink.take();
    assert_eq!(again, vec![answers[0].clone()]);
    rt.stop();
}

#[test]
fn finding_2_a_repeat_is_recognised_by_tx_id_alone() {
    let mut d = direct();
    d.apply(cmd(1, "PSP", "T1", WalletOp::Deposit(a(100)), "EUR"));
    // Same key, other content: a conflict, refused with its own code; nothing debited.
    d.apply(cmd(2, "PSP", "T1", WalletOp::Bet(a(5_000)), "EUR"));
    assert_eq!(d.conflicts.len(), 1);
    assert_eq!(d.conflicts[0].2, "tx_conflict");
    assert_eq!(balance(&d), 100);
    // Two providers' tx 1001 for one player are two commands.
    d.apply(cmd(3, "GS-A", "1001", WalletOp::Deposit(a(10)), "EUR"));
    d.apply(cmd(4, "GS-B", "1001", WalletOp::Deposit(a(20)), "EUR"));
    assert_eq!(balance(&d), 130);
    // A repeated request gets the first answer again.
    d.apply(cmd(5, "GS-A", "1001", WalletOp::Deposit(a(10)), "EUR"));
    assert_eq!(
        last(&d),
        (
            "1001".into(),
            true,
            Answer::Applied {
                delta: 10,
                balance: 110
            }
        )
    );
}

#[test]
fn finding_8_currencies_mix() {
    let mut d = direct();
    d.apply(cmd(1, "PSP", "D1", WalletOp::Deposit(a(100)), "USD"));
    assert_eq!(refused_code(&d), Some("wrong_currency"));
    d.apply(cmd(2, "GS", "B1", WalletOp::Bet(a(100)), "USD"));
    assert_eq!(refused_code(&d), Some("wrong_currency"));
    assert_eq!(balance(&d), 0);
    let ggr: i64 = d
        .snapshots()
        .into_iter()
        .filter_map(|s| match s {
            Snapshot::Hall(h) => Some(h.totals.bets),
            _ => None,
        })
        .sum();
    assert_eq!(ggr, 0, "no dollars in a euro GGR");
    let wallet_currency = d.snapshots().into_iter().find_map(|s| match s {
        Snapshot::Wallet(w) => Some(w.currency),
        _ => None,
    });
    assert_eq!(wallet_currency, Some(Currency::new("EUR").unwrap()));
}

#[test]
fn finding_9_bet_tx_is_ignored() {
    let mut d = direct();
    d.apply(cmd(1, "PSP", "D1", WalletOp::Deposit(a(1_000)), "EUR"));
    // rollback(B1), bet B1 (refused), win bet_tx=B1 -> refused.
    d.apply(cmd(
        2,
        "GS",
        "R1",
        WalletOp::Rollback { bet_tx: tx("B1") },
        "EUR",
    ));
    d.apply(cmd(3, "GS", "B1", WalletOp::Bet(a(100)), "EUR"));
    assert_eq!(refused_code(&d), Some("bet_rolled_back"));
    let win = |n, t: &str, b: &str, amount| {
        cmd(
            n,
            "GS",
            t,
            WalletOp::Win {
                amount: a(amount),
                bet_tx: Some(tx(b)),
            },
            "EUR",
        )
    };
    d.apply(win(4, "W1", "B1", 500));
    assert_eq!(refused_code(&d), Some("bet_not_accepted"));
    d.apply(win(5, "W0", "B-never", 500));
    assert_eq!(refused_code(&d), Some("bet_unknown"));
    assert_eq!(balance(&d), 1_000);
    // bet B2, win bet_tx=B2, rollback(B2) -> a settled bet is not refunded.
    d.apply(cmd(6, "GS", "B2", WalletOp::Bet(a(100)), "EUR"));
    d.apply(win(7, "W2", "B2", 300));
    d.apply(cmd(
        8,
        "GS",
        "R2",
        WalletOp::Rollback { bet_tx: tx("B2") },
        "EUR",
    ));
    assert_eq!(refused_code(&d), Some("bet_settled"));
    assert_eq!(balance(&d), 1_200);
}

#[test]
fn finding_10_withdrawals_draw_on_the_credit_line() {
    let mut d = direct();
    // Credit line 1,000, balance 0.
    d.apply(cmd(1, "PSP", "X1", WalletOp::Withdraw(a(1_000)), "EUR"));
    assert_eq!(refused_code(&d), Some("insufficient_funds"));
    assert_eq!(balance(&d), 0);
    // A bet may use it.
    d.apply(cmd(2, "GS", "B1", WalletOp::Bet(a(1_000)), "EUR"));
    assert_eq!(refused_code(&d), None);
    assert_eq!(balance(&d), -1_000);
}

#[test]
fn finding_15_a_rollback_is_booked_in_the_rollbacks_window() {
    let mut d = direct();
    d.apply(cmd(1, "PSP", "D1", WalletOp::Deposit(a(1_000)), "EUR"));
    // The bet in one window, the rollback 100 s later, in another.
    d.apply(cmd(2, "GS", "B1", WalletOp::Bet(a(100)), "EUR"));
    d.apply(cmd(
        102,
        "GS",
        "R1",
        WalletOp::Rollback { bet_tx: tx("B1") },
        "EUR",
    ));
    let hall = d
        .snapshots()
        .into_iter()
        .find_map(|s| match s {
            Snapshot::Hall(h) => Some(h),
            _ => None,
        })
        .expect("the online hall");
    let bet_window = Timestamp(T0 + 2_000).window_start();
    for (start, w) in &hall.windows {
        assert!(w.totals.bets >= 0, "window {start:?}: negative bets");
    }
    assert_eq!(
        hall.windows[&bet_window].totals.bets, 0,
        "reversed where it was booked"
    );
    assert_eq!(hall.totals.bets, 0);
}

#[test]
fn finding_18_a_repeated_or_refunded_wallet_request_gets_an_output() {
    let mut d = direct();
    d.apply(cmd(1, "PSP", "D1", WalletOp::Deposit(a(100)), "EUR"));
    d.apply(cmd(2, "PSP", "D1", WalletOp::Deposit(a(100)), "EUR"));
    d.apply(cmd(
        3,
        "GS",
        "R1",
        WalletOp::Rollback { bet_tx: tx("B9") },
        "EUR",
    ));
    d.apply(cmd(
        4,
        "GS",
        "R2",
        WalletOp::Rollback { bet_tx: tx("B9") },
        "EUR",
    ));
    d.apply(cmd(5, "GS", "X1", WalletOp::Withdraw(a(500)), "EUR"));
    assert_eq!(d.answers.len(), 5, "every command answered (W-6)");
    assert!(d.answers[1].repeat);
    let statuses: Vec<bool> = d
        .answers
        .iter()
        .map(|a| matches!(a.answered.answer, Answer::Applied { .. }))
        .collect();
    assert_eq!(statuses, [true, true, true, true, false]);
}
