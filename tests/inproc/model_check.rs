//! The core against the independent model of `RULES.md` (`src/model/`), over generated
//! streams that carry every special case the rules name: provider retries hours later,
//! conflicting repeats, late gap-fills from store-and-forward, epoch resets, skewed clocks,
//! rollbacks before and after settlement, jackpot claims by ineligible machines, cash desks'
//! shifts revised by late tickets. Every machine, wallet, hall window, pool level, jackpot
//! hit, voucher and desk must agree.

use pitboss::model::gen::GenConfig;
use pitboss::model_check;

fn check(seed: u64, events: usize) -> model_check::Report {
    let r = model_check::run(&GenConfig {
        events,
        seed,
        ..GenConfig::default()
    });
    assert!(r.compared > 0, "nothing compared");
    assert_eq!(
        r.conservation.0, r.conservation.1,
        "the model's books do not balance (seed {seed})"
    );
    assert!(
        r.differences.is_empty(),
        "seed {seed}: {} differences between the core and the model; first: {:#?}",
        r.differences.len(),
        &r.differences[..r.differences.len().min(10)]
    );
    r
}

/// The core against the model over a hand-written stream: no difference, pools aside (a
/// stream where no machine plays leaves the core with no pool yet, which it makes at its
/// first contribution, while the model has every configured one from the start).
fn compare_items(items: Vec<pitboss::model::gen::Item>) -> model_check::Report {
    use pitboss::model::gen::{model_config, Generated};
    let g = Generated {
        items,
        ..Generated::default()
    };
    let r = model_check::compare(&g, &model_config());
    let differences: Vec<&String> = r
        .differences
        .iter()
        .filter(|d| !d.starts_with("pool "))
        .collect();
    assert!(
        differences.is_empty(),
        "{} differences between the core and the model: {:#?}",
        differences.len(),
        differences
    );
    r
}

#[test]
fn the_core_agrees_with_the_model_over_ten_generated_streams() {
    for seed in 1..=10 {
        check(seed, 10_000);
    }
}

#[test]
fn the_core_agrees_with_the_model_over_a_long_stream() {
    let r = check(4242, 100_000);
    // RULES.md W-8, W-9 and W-10 were exercised, not only compared: the stream carried each KYC
    // and limit case and the model refused for each reason (and rejected the status and the
    // period no rule names).
    for case in [
        "kyc_required",
        "kyc_verified",
        "player_blocked",
        "win_while_blocked",
        "kyc_limit_edge",
        "kyc_invalid_status",
        "deposit_limit",
        "limit_raise_waits",
        "limit_invalid_period",
        "self_excluded",
        "self_exclusion_active",
        "loss_limit",
        "loss_limit_raise_waits",
        "session_limit",
        "session_break",
        "session_limit_invalid",
        "transfer_paid",
        "transfer_amount_variance",
        "transfer_unbacked",
        "transfer_hold_lapsed",
        "transfer_ack_before_request",
        "transfer_acknowledged_twice",
        "transfer_from_machine_beyond_credits",
        "transfer_invalid_direction",
        "self_excluded_card_in",
    ] {
        assert!(
            r.cases.get(case).copied().unwrap_or(0) > 0,
            "no {case} case: {:?}",
            r.cases
        );
    }
    for code in [
        "kyc_required",
        "player_blocked",
        "limit_deposit",
        "limit_loss",
        "limit_session",
        "self_excluded",
        "self_exclusion_active",
        "transfer_not_held",
        "player_unknown",
    ] {
        assert!(
            r.refusals.get(code).copied().unwrap_or(0) > 0,
            "no {code} refusal: {:?}",
            r.refusals
        );
    }
    // RULES.md W-10 and W-9: every alert of the rules was raised, and compared by count.
    for code in [
        "self_excluded_card_in",
        "transfer_hold_released",
        "transfer_without_hold",
        "transfer_amount_variance",
        "transfer_acknowledged_twice",
    ] {
        assert!(
            r.alerts.get(code).copied().unwrap_or(0) > 0,
            "no {code} alert: {:?}",
            r.alerts
        );
    }
    // RULES.md W-11: every kind of AML case was opened, and compared with its evidence.
    for kind in ["log", "report", "structuring"] {
        assert!(
            r.aml_cases.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} case: {:?}",
            r.aml_cases
        );
    }
    // RULES.md M-12: card sessions were rated, played ones among them, some earning points
    // and some not, and compared (the points with the wallets too).
    let (sessions, played, earned) = r.sessions;
    assert!(
        played > 0 && sessions > played && earned > 0 && earned < played,
        "{:?}",
        r.sessions
    );
    w12_exercised(&r);
    d_exercised(&r);
}

/// RULES.md D was exercised, not only compared: shifts opened, filled or credited, closed
/// and revised, commands refused, cash booked without a shift (some of it taken by a shift
/// that opened at or before it, D-3) and variances alerted; and
/// in a long stream, the quick shifts' desk closed more shifts than a desk keeps and then
/// heard of a sale dated in one it no longer keeps (D-5).
fn d_exercised(r: &model_check::Report) {
    for what in [
        "opened",
        "closed",
        "filled_or_credited",
        "revised",
        "opened_taking_unshifted",
        "refused",
        "shift_variance",
        "cash_without_shift",
    ] {
        assert!(
            r.desks.get(what).copied().unwrap_or(0) > 0,
            "no desk {what}: {:?}",
            r.desks
        );
    }
    for case in [
        "desk_cash_older_than_kept",
        "desk_cash_read_before_open",
        "desk_payment_read_before_open",
        "desk_unshifted_beyond_kept",
        "shift_revision_payment",
        "shift_revision_to_balance",
        "desk_redelivered",
    ] {
        assert!(
            r.cases.get(case).copied().unwrap_or(0) > 0,
            "no {case} case: {:?}",
            r.cases
        );
    }
    eprintln!("D (seed {}): {:?}", r.seed, r.desks);
}

/// RULES.md W-12 with `runtime.wallet-bets-draw = "bonus-first"` (odd seeds; the long stream
/// above is cash-first): every bonus case again, compared.
#[test]
fn the_core_agrees_with_the_model_on_bonus_money_drawn_bonus_first() {
    let r = check(4243, 50_000);
    w12_exercised(&r);
}

/// RULES.md W-12 was exercised, not only compared: the stream carried every bonus case, and
/// in the model bonus money was awarded, staked, won, refunded, converted, expired and paid
/// to machines as restricted credits, and an award cleared a spent bonus's requirement.
fn w12_exercised(r: &model_check::Report) {
    for case in [
        "bonus_award",
        "bonus_wagering_zero",
        "bonus_expiry_in_stream",
        "bonus_expired_before_command",
        "bonus_award_on_top",
        "bonus_award_after_spent",
        "bonus_player_blocked",
        "bonus_self_excluded",
        "bonus_expiry_malformed",
        "bonus_wagering_malformed",
        "bonus_win_named",
        "bonus_bet_rolled_back",
        "restricted_transfer_paid",
        "restricted_transfer_less",
        "restricted_transfer_more",
        "restricted_transfer_unbacked",
        "restricted_hold_cashable_ack",
        "cashable_hold_restricted_ack",
        "restricted_transfer_cancelled",
        "restricted_hold_lapsed",
        "restricted_ack_before_request",
        "restricted_ack_without_request",
        "transfer_credit_type_malformed",
        "restricted_from_machine",
        "credit_type_ignored_in_v1",
        // W-12 `player_unknown`: awards to players pitboss knows nothing of, and to players
        // made known in each way the rule names.
        "bonus_unknown_new",
        "bonus_unknown_after_refusals",
        "bonus_unknown_unverified",
        "bonus_unknown_unverified_again",
        "bonus_unknown_rollback",
        "bonus_unknown_carded_in",
        "bonus_unknown_repeated_once_known",
        "bonus_known_by_deposit",
        "bonus_known_by_bet",
        "bonus_known_by_win",
        "bonus_known_by_kyc",
        "bonus_known_blocked",
        "bonus_known_by_limit",
        "bonus_known_by_limit_removed",
        "bonus_known_self_excluded",
        "bonus_known_by_past_exclusion",
        "bonus_known_by_bonus",
        "bonus_known_by_transfer",
        "bonus_known_by_waiting_transfer",
        "bonus_known_by_points",
        "bonus_known_by_patron_cash",
    ] {
        assert!(
            r.cases.get(case).copied().unwrap_or(0) > 0,
            "no {case} case: {:?}",
            r.cases
        );
    }
    for what in [
        "bonus_awarded",
        "bonus_awarded_on_top",
        "bonus_requirement_cleared",
        "bonus_staked",
        "bonus_won",
        "bonus_refunded",
        "bonus_converted",
        "bonus_expired",
        "restricted_settled",
    ] {
        assert!(
            r.bonus.get(what).copied().unwrap_or(0) > 0,
            "nothing {what}: {:?}",
            r.bonus
        );
    }
    assert!(
        r.refusals.get("player_unknown").copied().unwrap_or(0) > 0,
        "no player_unknown refusal: {:?}",
        r.refusals
    );
    eprintln!("W-12 (seed {}): {:?}", r.seed, r.bonus);
}

/// RULES.md W-12 `player_unknown`, hand-written sequences through the core and the model,
/// each player a wallet of its own, an award at the end: unknown (a new id; only refused
/// commands; only `unverified`, or set back to it; a rollback of a bet never seen; carded
/// in with nothing played) and known (a deposit, a bet on the credit line, a win naming no
/// bet, `verified`, `blocked`, a limit set or removed, a self-exclusion in force or over, a
/// transfer from or to a machine, loyalty points, patron cash, a bonus); then, for the
/// unknown, a repeat of the refused award once known, and a new one; every answer compared.
#[test]
fn the_core_agrees_with_the_model_on_awards_to_players_pitboss_knows_nothing_of() {
    use pitboss::model::gen::{Item, CURRENCY, START_MS};
    use pitboss::wire::{InputEnvelope, InputPayload as P, Source};

    const HOUR: i64 = 3_600_000;
    let mut items: Vec<Item> = Vec::new();
    let mut seq = 0u64;
    let mut send = |t: i64, server: Option<&str>, payload: P| {
        let i = items.len() as u128 + 1;
        let machine = server.is_none().then(|| "M-00-000".to_owned());
        if machine.is_some() {
            seq += 1;
        }
        let env = InputEnvelope {
            event_id: uuid::Uuid::from_u128(0xb0_0000_0000_4000_8000_0000_0000_0000 | i)
                .hyphenated()
                .to_string(),
            schema_version: 2,
            source: Source {
                hall: "H-00".to_owned(),
                machine: machine.clone(),
                server: server.map(str::to_owned),
            },
            epoch: machine.is_some().then_some(0),
            seq: if machine.is_some() { seq } else { 0 },
            event_time: START_MS + t,
            receive_time: None,
            payload,
        };
        items.push(Item {
            bytes: env.to_bytes(),
            key: env.kafka_key().to_owned(),
            env: Some(env),
            kafka_time: START_MS + t,
        });
    };
    let s = |x: &str| x.to_owned();
    let eur = || CURRENCY.to_owned();
    let kyc = |p: &str, tx: &str, status: &str| P::KycStatus {
        player: s(p),
        tx: s(tx),
        status: s(status),
    };
    let money = |kind: &str, p: &str, tx: &str, amount: i64, bet: Option<&str>| {
        let (player, tx, currency) = (s(p), s(tx), eur());
        match kind {
            "deposit" => P::Deposit {
                player,
                tx,
                amount,
                currency,
                round: None,
            },
            "withdraw" => P::Withdraw {
                player,
                tx,
                amount,
                currency,
                round: None,
            },
            "bet" => P::WalletBet {
                player,
                tx,
                amount,
                currency,
                round: None,
            },
            _ => P::WalletWin {
                player,
                tx,
                amount,
                currency,
                bet_tx: bet.map(s),
                round: None,
            },
        }
    };
    let limit = |p: &str, tx: &str, amount: Option<i64>| P::DepositLimit {
        player: s(p),
        tx: s(tx),
        period: s("day"),
        amount,
        currency: amount.map(|_| eur()),
    };
    let exclusion = |p: &str, tx: &str, until: i64| P::SelfExclusion {
        player: s(p),
        tx: s(tx),
        until: START_MS + until,
    };
    let fact = |p: &str, transfer: &str, direction: &str| P::CashlessTransfer {
        transfer: s(transfer),
        player: s(p),
        direction: s(direction),
        amount: 100,
        currency: eur(),
        credit_type: None,
    };
    let award = |p: &str, tx: &str| P::BonusAward {
        player: s(p),
        tx: s(tx),
        amount: 100,
        currency: eur(),
        wagering: 1,
        expires_at: START_MS + 24 * HOUR,
    };
    let (psp, gs, rg, promo) = (Some("PSP-1"), Some("GS-A"), Some("RG-1"), Some("PROMO-1"));
    let k = Some("KYC-1");
    // Unknown.
    send(1, psp, money("withdraw", "U-2", "1", 100, None));
    send(2, gs, money("bet", "U-2", "2", 100_000, None));
    send(3, gs, money("win", "U-2", "3", 100, Some("9")));
    send(4, promo, award("U-2", "4"));
    send(5, k, kyc("U-3", "1", "unverified"));
    send(6, k, kyc("U-4", "1", "verified"));
    send(7, k, kyc("U-4", "2", "unverified"));
    send(
        8,
        gs,
        P::Rollback {
            player: s("U-5"),
            tx: s("1"),
            bet_tx: s("9"),
            currency: eur(),
            round: None,
        },
    );
    send(9, None, P::CardIn { player: s("U-6") });
    send(10, None, P::CardOut {});
    // Known.
    send(11, psp, money("deposit", "K-1", "1", 100, None));
    send(12, gs, money("bet", "K-2", "1", 100, None));
    send(13, gs, money("win", "K-3", "1", 100, None));
    send(14, k, kyc("K-4", "1", "verified"));
    send(15, k, kyc("K-5", "1", "blocked"));
    send(16, rg, limit("K-6", "1", Some(500)));
    send(17, rg, limit("K-7", "1", None));
    send(18, rg, limit("K-8", "1", Some(500)));
    send(19, rg, limit("K-8", "2", None));
    send(20, rg, exclusion("K-9", "1", 11 * HOUR));
    send(21, rg, exclusion("K-10", "1", HOUR));
    send(22, None, fact("K-11", "X-1", "from_machine"));
    send(23, None, fact("K-12", "X-2", "to_machine"));
    send(24, None, P::CardIn { player: s("K-13") });
    send(
        25,
        None,
        P::Bet {
            amount: 1_000,
            currency: eur(),
        },
    );
    send(26, None, P::GameEnd {});
    send(27, None, P::CardOut {});
    send(28, None, P::CardIn { player: s("K-14") });
    send(
        29,
        None,
        P::CashIn {
            kind: s("bill"),
            amount: 1_000,
            currency: eur(),
            validation: None,
            credit_type: None,
        },
    );
    send(30, None, P::CardOut {});
    send(31, k, kyc("K-15", "1", "verified"));
    send(32, promo, award("K-15", "2"));
    send(33, k, kyc("K-15", "3", "unverified"));
    // The awards, ten hours on (the removal of K-8's limit past its cooling-off, K-10's
    // exclusion over, K-12's acknowledgement still waiting at 40 ms).
    let unknown = ["U-1", "U-2", "U-3", "U-4", "U-5", "U-6"];
    let known = [
        "K-1", "K-2", "K-3", "K-4", "K-5", "K-6", "K-7", "K-8", "K-9", "K-10", "K-11", "K-12",
        "K-13", "K-14", "K-15",
    ];
    for (i, p) in unknown.iter().chain(&known).enumerate() {
        let t = if *p == "K-12" {
            40
        } else {
            10 * HOUR + i as i64
        };
        send(t, promo, award(p, "A"));
    }
    // The unknown, known now: the same award again (a repeat of its refusal), a new one.
    for (i, p) in unknown.iter().enumerate() {
        let t = 11 * HOUR + 3 * i as i64;
        send(t, k, kyc(p, "V", "verified"));
        send(t + 1, promo, award(p, "A"));
        send(t + 2, promo, award(p, "B"));
    }
    let r = compare_items(items);
    // Six unknown (and U-2's own award before), K-5 blocked, K-9 self-excluded.
    assert_eq!(
        r.refusals.get("player_unknown").copied(),
        Some(7),
        "{:?}",
        r.refusals
    );
    assert_eq!(r.refusals.get("player_blocked").copied(), Some(1));
    assert_eq!(r.refusals.get("self_excluded").copied(), Some(1));
}

/// RULES.md D, one hand-written sequence through the core and the model: cash a desk's
/// vouchers moved before its first shift; a sale at and one after the opening of a shift,
/// and a payment after it, all read before its `shift_open` (booked `unshifted` when read,
/// then taken by the shift at its opening, D-3: the open's answer shows them, the alerts
/// stand, the sale dated before the opening stays unshifted); a shift filled, credited and
/// closed short; a sale read after the close but dated inside the shift (a revision, D-5);
/// a repeat and a conflict (D-6).
#[test]
fn the_core_agrees_with_the_model_on_a_desk_s_shift_sequence() {
    use pitboss::model::gen::{Item, CURRENCY, START_MS};
    use pitboss::wire::{InputEnvelope, InputPayload, Source};

    let mut items = Vec::new();
    let mut send = |t: i64, payload: InputPayload| {
        let i = items.len() as u128 + 1;
        let env = InputEnvelope {
            event_id: uuid::Uuid::from_u128(0xde5c_0000_0000_4000_8000_0000_0000_0000 | i)
                .hyphenated()
                .to_string(),
            schema_version: 2,
            source: Source {
                hall: "H-01".to_owned(),
                machine: None,
                server: Some("CAGE-01".to_owned()),
            },
            epoch: None,
            seq: 0,
            event_time: START_MS + t,
            receive_time: None,
            payload,
        };
        items.push(Item {
            bytes: env.to_bytes(),
            key: "CAGE-01".to_owned(),
            env: Some(env),
            kafka_time: START_MS + t,
        });
    };
    let eur = || CURRENCY.to_owned();
    let sell = |n: u64, amount: i64| InputPayload::VoucherIssue {
        validation: format!("{n:018}"),
        tx: format!("VI-{n}"),
        amount,
        currency: eur(),
    };
    let open = |tx: &str, float: i64| InputPayload::ShiftOpen {
        tx: tx.to_owned(),
        cashier: "Ana".to_owned(),
        float,
        currency: eur(),
    };
    send(50, sell(1, 1_000));
    // Read before the shift_open, dated at and after its time: the shift takes them.
    send(100, sell(2, 2_000));
    send(150, sell(3, 3_000));
    send(
        155,
        InputPayload::VoucherRedeem {
            validation: format!("{:018}", 3),
            tx: "VR-3".to_owned(),
            amount: 3_000,
            currency: eur(),
        },
    );
    send(
        155,
        InputPayload::VoucherCommit {
            validation: format!("{:018}", 3),
            tx: "VC-3".to_owned(),
        },
    );
    send(100, open("o1", 10_000));
    send(160, sell(4, 4_000));
    send(
        170,
        InputPayload::DeskFill {
            tx: "f1".to_owned(),
            amount: 500,
            currency: eur(),
        },
    );
    send(
        180,
        InputPayload::DeskCredit {
            tx: "c1".to_owned(),
            amount: 200,
            currency: eur(),
        },
    );
    send(
        200,
        InputPayload::ShiftClose {
            tx: "k1".to_owned(),
            // Expected 10,000 + 2,000 + 3,000 - 3,000 + 4,000 + 500 - 200: short by 300.
            counted: 16_000,
            currency: eur(),
        },
    );
    send(190, sell(5, 300));
    send(210, open("o1", 10_000));
    send(220, open("o1", 9_000));
    let r = compare_items(items);
    assert!(r.compared > 0, "nothing compared");
    // The model took the three operations at the opening, and the four alerts stand.
    let took = r.desks.get("opened_taking_unshifted").copied();
    assert_eq!(took, Some(1), "{:?}", r.desks);
    let unshifted = r.desks.get("cash_without_shift").copied();
    assert_eq!(unshifted, Some(4), "{:?}", r.desks);
}

/// RULES.md D-3's edges of the unshifted cash a shift takes at its opening, through the
/// core and the model: a sale dated before the opening stays (and a later shift opening
/// before its time, the desk's clock unchecked, takes it); one dated after the shift's
/// close is taken all the same (D-3 names no end); an opening refused (`wrong_currency`)
/// takes nothing; a taken sale delivered again is booked once; a repeated opening gets its
/// first answer again (D-6).
#[test]
fn the_core_agrees_with_the_model_on_cash_a_shift_takes_at_its_opening() {
    use pitboss::model::gen::{Item, CURRENCY, START_MS};
    use pitboss::wire::{InputEnvelope, InputPayload, Source};

    let mut items: Vec<Item> = Vec::new();
    let mut send = |t: i64, payload: InputPayload| {
        let i = items.len() as u128 + 1;
        let env = InputEnvelope {
            event_id: uuid::Uuid::from_u128(0xde5d_0000_0000_4000_8000_0000_0000_0000 | i)
                .hyphenated()
                .to_string(),
            schema_version: 2,
            source: Source {
                hall: "H-01".to_owned(),
                machine: None,
                server: Some("CAGE-01".to_owned()),
            },
            epoch: None,
            seq: 0,
            event_time: START_MS + t,
            receive_time: None,
            payload,
        };
        items.push(Item {
            bytes: env.to_bytes(),
            key: "CAGE-01".to_owned(),
            env: Some(env),
            kafka_time: START_MS + t,
        });
    };
    let sell = |n: u64, amount: i64| InputPayload::VoucherIssue {
        validation: format!("{n:018}"),
        tx: format!("VI-{n}"),
        amount,
        currency: CURRENCY.to_owned(),
    };
    let open = |tx: &str, currency: &str| InputPayload::ShiftOpen {
        tx: tx.to_owned(),
        cashier: "Ana".to_owned(),
        float: 0,
        currency: currency.to_owned(),
    };
    let close = |tx: &str, counted: i64| InputPayload::ShiftClose {
        tx: tx.to_owned(),
        counted,
        currency: CURRENCY.to_owned(),
    };
    send(90, sell(1, 100));
    send(500, sell(2, 200));
    send(100, open("o0", "USD"));
    send(100, open("o1", CURRENCY));
    send(200, close("k1", 200));
    send(210, open("o1", CURRENCY));
    send(80, open("o2", CURRENCY));
    send(95, sell(3, 50));
    send(300, close("k2", 0));
    // The sale the first shift took, delivered again.
    let again = items[1].clone();
    items.push(again);
    let r = compare_items(items);
    let took = r.desks.get("opened_taking_unshifted").copied();
    assert_eq!(took, Some(2), "{:?}", r.desks);
    let unshifted = r.desks.get("cash_without_shift").copied();
    assert_eq!(unshifted, Some(2), "{:?}", r.desks);
}
