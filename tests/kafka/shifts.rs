// The serial guard is held for the whole test on purpose: the tests of this file share
// the machine with a broker each and must not overlap.
#![allow(clippy::await_holding_lock)]
//! A cash desk's shift through `pitboss run` and the broker (RULES.md D): the desk's
//! commands (keyed by the desk) and its voucher commands (keyed by validation number) are
//! read from different input partitions, and the vouchers' cash reaches the desk through the
//! internal desk-ops topic, in whatever order the partitions are read. Whatever that order,
//! the shift books each ticket sold and paid by its time: a payment read after the close is
//! a revision (D-5), one read before the opening is taken by it (D-3). The stored shift, the
//! shift report and the last output published for the shift agree, and the audit is clean.
//! A player's deposit and withdrawal at the cage (RULES.md D-10), read from the player's
//! partition, reach the desk the same way and are booked to its shift too; a refused
//! withdrawal and a payment provider's deposit move no drawer.

use crate::support;

use pitboss::run::RunOptions;
use pitboss::wire::{decode_output, InputEnvelope, InputPayload, OutputEvent};
use support::Broker;

const SOLD: &str = "300000000000000001";
const PAID: &str = "300000000000000002";
const LATE: &str = "300000000000000003";
const ELSEWHERE: &str = "300000000000000004";

/// (desk, shift, op, status, cash in, cash out, expected, variance) of every shift output.
type ShiftOut = (String, u32, String, String, i64, i64, i64, Option<i64>);

fn shift_outputs(cfg: &pitboss::config::Config) -> Vec<ShiftOut> {
    support::read_all(
        &cfg.kafka.brokers,
        std::slice::from_ref(&cfg.kafka.topics.shifts),
    )
    .iter()
    .filter_map(|r| match decode_output(&r.payload).ok()? {
        OutputEvent::Shift(e) => {
            let p = e.payload;
            Some((
                p.desk.to_string(),
                p.shift,
                p.op.to_string(),
                p.status.to_string(),
                p.cash_in,
                p.cash_out,
                p.expected,
                p.variance,
            ))
        }
        _ => None,
    })
    .collect()
}

#[actix_rt::test]
async fn a_shift_books_its_desks_tickets_by_time_through_the_internal_topic() {
    let _serial = support::serial();
    let broker = Broker::start();
    let data = tempfile::tempdir().unwrap();
    let mut cfg = support::config(&broker, "shifts");
    assert!(cfg.kafka.internal_topics, "the cash must cross desk-ops");
    cfg.store.kind = pitboss::store::StoreKind::Embedded;
    cfg.store.data_dir = data.path().join("state");
    cfg.runtime.cash_desks = vec!["CAGE-1".into()];
    pitboss::run::create_topics(&cfg)
        .await
        .expect("create topics");
    let now = pitboss::clock::now_ms();
    let cur = cfg.network.currency.clone();
    let mut n = 0u128;
    let mut command = |desk: &str, time: i64, payload: InputPayload| {
        n += 1;
        let env = InputEnvelope::wallet(
            uuid::Uuid::from_u128(0x5417_0000 + n),
            "H-1",
            desk,
            n as u64,
            time,
            payload,
        );
        (env.kafka_key().to_owned(), env.to_bytes())
    };
    let money = |amount: i64| (amount, cur.clone());
    let (issue, redeem, commit) = (
        |v: &str, tx: &str, (amount, currency): (i64, String)| InputPayload::VoucherIssue {
            validation: v.into(),
            tx: tx.into(),
            amount,
            currency,
        },
        |v: &str, tx: &str, (amount, currency): (i64, String)| InputPayload::VoucherRedeem {
            validation: v.into(),
            tx: tx.into(),
            amount,
            currency,
        },
        |v: &str, tx: &str| InputPayload::VoucherCommit {
            validation: v.into(),
            tx: tx.into(),
        },
    );
    let wallet = |kind: &str, tx: &str, amount: i64| {
        let (player, tx, currency, round) = ("P-77".into(), tx.into(), cur.clone(), None);
        match kind {
            "deposit" => InputPayload::Deposit {
                player,
                tx,
                amount,
                currency,
                round,
            },
            _ => InputPayload::Withdraw {
                player,
                tx,
                amount,
                currency,
                round,
            },
        }
    };
    let t = now - 60_000;
    let msgs = vec![
        // Tickets the back office issued for the desk to pay (no cash at a desk).
        command("BACKOFFICE", t - 10_000, issue(PAID, "b-1", money(4_000))),
        command("BACKOFFICE", t - 10_000, issue(LATE, "b-2", money(1_000))),
        command(
            "BACKOFFICE",
            t - 10_000,
            issue(ELSEWHERE, "b-3", money(700)),
        ),
        // The shift: a float of 50,000.
        command(
            "CAGE-1",
            t,
            InputPayload::ShiftOpen {
                tx: "s-1".into(),
                cashier: "C-7".into(),
                float: 50_000,
                currency: cur.clone(),
            },
        ),
        // A ticket sold for 2,500 cash, one paid for 4,000, a fill and a credit.
        command("CAGE-1", t + 1_000, issue(SOLD, "v-1", money(2_500))),
        command("CAGE-1", t + 2_000, redeem(PAID, "v-2", money(4_000))),
        command("CAGE-1", t + 2_000, commit(PAID, "v-3")),
        command("CAGE-1", t + 2_500, redeem(LATE, "v-4", money(1_000))),
        command(
            "CAGE-1",
            t + 3_000,
            InputPayload::DeskFill {
                tx: "s-2".into(),
                amount: 20_000,
                currency: cur.clone(),
            },
        ),
        command(
            "CAGE-1",
            t + 4_000,
            InputPayload::DeskCredit {
                tx: "s-3".into(),
                amount: 30_000,
                currency: cur.clone(),
            },
        ),
        // D-10: a player deposits 6,000 at the cage and takes 1,500 out; a withdrawal of
        // more than the wallet holds is refused (no cash paid); a payment provider's deposit
        // is no desk's.
        command("CAGE-1", t + 3_500, wallet("deposit", "p-1", 6_000)),
        command("CAGE-1", t + 3_600, wallet("withdraw", "p-2", 1_500)),
        command("CAGE-1", t + 3_700, wallet("withdraw", "p-3", 90_000)),
        command("PSP-1", t + 3_800, wallet("deposit", "p-4", 9_999)),
        // Closed with 42,000 counted: the drawer as it is, the late payment below included.
        command(
            "CAGE-1",
            t + 10_000,
            InputPayload::ShiftClose {
                tx: "s-4".into(),
                counted: 42_000,
                currency: cur.clone(),
            },
        ),
        // A payment made during the shift, sent after its close.
        command("CAGE-1", t + 5_000, commit(LATE, "v-5")),
        // Another desk pays a ticket with no shift open.
        command("CAGE-2", t + 6_000, redeem(ELSEWHERE, "w-1", money(700))),
        command("CAGE-2", t + 6_000, commit(ELSEWHERE, "w-2")),
    ];
    // Expected: 50,000 + 2,500 + 6,000 - 4,000 - 1,000 - 1,500 + 20,000 - 30,000 = 42,000:
    // no variance once the late payment is booked.
    let final_figures = |o: &ShiftOut| {
        o.0 == "CAGE-1" && o.1 == 1 && o.3 == "applied" && o.4 == 8_500 && o.5 == 6_500
    };
    let (report, published) = support::run_until(
        &cfg,
        RunOptions::default(),
        msgs,
        "the closed shift with every ticket of its time",
        move |c| {
            let got = shift_outputs(c);
            let closed = got.iter().any(|o| o.0 == "CAGE-1" && o.2 == "close");
            (closed && got.iter().any(final_figures)).then_some(got)
        },
    )
    .await;
    report.expect("pitboss run stops cleanly");
    // The close's answer if every ticket was booked before it, else the revision the late
    // payment made (D-5): either way the final figures, with no variance.
    let last: Vec<_> = published
        .iter()
        .filter(|o| final_figures(o) && (o.2 == "close" || o.2 == "revise"))
        .collect();
    assert!(!last.is_empty(), "{published:?}");
    for o in last {
        assert_eq!((o.6, o.7), (42_000, Some(0)), "{published:?}");
    }
    let ops: Vec<_> = published
        .iter()
        .filter(|o| o.0 == "CAGE-1")
        .map(|o| o.2.as_str())
        .collect();
    for op in ["open", "fill", "credit", "close"] {
        assert_eq!(ops.iter().filter(|o| **o == op).count(), 1, "{ops:?}");
    }

    // The store: the shift as published, the other desk's payment unshifted, and a clean
    // audit of every ledger (the desks' drawers and unshifted cash, D-9).
    // The stopped processor's store threads let go of the file shortly after the run ends.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let src = loop {
        match pitboss::store::open_audit_source(&cfg.store).await {
            Ok(s) => break s,
            Err(e) if std::time::Instant::now() < deadline => {
                tracing::debug!(%e, "the store is still held");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("opening the stopped processor's store: {e}"),
        }
    };
    let audit = pitboss::store::audit(src.as_ref()).await.unwrap();
    assert!(audit.ok(), "{:#?}", audit.differences);
    let desks = src.desks().await.unwrap();
    let cage2 = desks.iter().find(|d| d.id.as_str() == "CAGE-2").unwrap();
    assert_eq!((cage2.unshifted_out, cage2.next), (700, 0));
    let cage1 = desks.iter().find(|d| d.id.as_str() == "CAGE-1").unwrap();
    assert_eq!(
        (
            cage1.cash_in,
            cage1.cash_out,
            cage1.wallet_in,
            cage1.wallet_out
        ),
        (8_500, 6_500, 6_000, 1_500)
    );
    // The recount: the desks' wallet cash is the wallets' at desks (D-9, D-10).
    let states: Vec<_> = src
        .entities()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.snapshot)
        .collect();
    let rc = pitboss::recount::recount(&states);
    assert_eq!(
        (
            rc.desk_wallet_in,
            rc.wallet_desk_deposits,
            rc.desk_wallet_out,
            rc.wallet_desk_withdrawals,
            rc.deposits
        ),
        (6_000, 6_000, 1_500, 1_500, 15_999)
    );
    assert!(rc.conservation_ok, "{rc:#?}");
    let days = cfg.gaming_days().unwrap();
    let date = days.rule("H-1").day_of(t).unwrap().to_string();
    let r = pitboss::report::shifts::read_shifts(src.as_ref(), &days, &date, None, &cur)
        .await
        .unwrap();
    assert_eq!(r.shifts.len(), 1, "{r:?}");
    let s = &r.shifts[0];
    assert_eq!(
        (
            s.desk.as_str(),
            s.cashier.as_str(),
            s.cash_in_minor,
            s.cash_out_minor,
            s.expected_minor,
            s.counted_minor,
            s.variance_minor
        ),
        ("CAGE-1", "C-7", 8_500, 6_500, 42_000, 42_000, 0)
    );
    assert_eq!((r.day.shifts, r.day.variance_minor), (1, 0));
}
