//! The core's wallets against the independent model (`pitboss::model`, written from RULES.md
//! alone): generated streams (retries after hundreds of other commands, conflicting repeats,
//! rollbacks before and after their bets, settled-bet rollbacks, wrong currencies, two
//! providers' same tx ids) run through the reference processor (`Direct`, the domain as the
//! actors apply it, with the store fallback of W-1) and through the model; every wallet's
//! balance and totals and every command's first answer must agree, and so must the counts
//! of repeats and conflicts.

use std::collections::BTreeMap;

use pitboss::direct::Direct;
use pitboss::model::gen::{
    generate, model_config, GenConfig, CREDIT_LINE, CURRENCY, KYC_WITHDRAWAL_MAX,
};
use pitboss::model::{Answer as ModelAnswer, Model};
use pitboss::model_check;
use pitboss::wire::decode_input;
use pitboss_actors::domain::Currency;
use pitboss_actors::shell::{Input, Snapshot};

type Key = (String, String, String);

fn run(seed: u64, events: usize) {
    let g = generate(&GenConfig {
        events,
        seed,
        ..GenConfig::default()
    });
    // The model's bounds: currency, credit line, KYC limit, the limits' zone and cooling-off.
    let rc = model_check::core_config(&model_config())
        .runtime_config()
        .expect("runtime config");
    assert_eq!(rc.currency, Currency::new(CURRENCY).unwrap());
    assert_eq!(rc.wallet_credit_line_minor, CREDIT_LINE);
    assert_eq!(rc.wallet_kyc_withdrawal_max_minor, Some(KYC_WITHDRAWAL_MAX));
    let mut direct = Direct::new(rc, "model").keeping_answers();
    let mut model = Model::new(model_config(), Box::new(|_, _, _, lo, _| lo));
    let mut commands = 0u64;
    for item in &g.items {
        // Wallet commands only: machines, pools and halls are compared elsewhere.
        let Ok(input @ Input::Wallet { .. }) = decode_input(&item.bytes) else {
            continue;
        };
        commands += 1;
        direct.apply(input);
        model.apply_bytes(&item.bytes, Some(item.kafka_time));
    }
    assert!(commands > 0, "seed {seed}: no wallet command generated");

    // First answers, by key.
    let core: BTreeMap<Key, ModelAnswer> = model_check::core_answers(&direct)
        .into_iter()
        .map(|(k, (answer, _))| (k, answer))
        .collect();
    let mut differences: Vec<String> = Vec::new();
    for (k, want) in &model.answers {
        match core.get(k) {
            Some(got) if got == want => {}
            got => differences.push(format!("{k:?}: model {want:?}, core {got:?}")),
        }
    }
    for k in core.keys().filter(|k| !model.answers.contains_key(*k)) {
        differences.push(format!("{k:?}: answered by the core only: {:?}", core[k]));
    }
    // The round each answer echoes (RULES.md E-2, W-6): the first command's, repeats included.
    let core_rounds: BTreeMap<Key, String> = direct
        .answers
        .iter()
        .filter_map(|a| {
            let key = (
                a.player.to_string(),
                a.key.provider.to_string(),
                a.key.tx.to_string(),
            );
            Some((key, a.answered.round.as_ref()?.to_string()))
        })
        .collect();
    if core_rounds != model.rounds {
        let differ = core_rounds
            .iter()
            .filter(|(k, r)| model.rounds.get(*k) != Some(*r))
            .chain(
                model
                    .rounds
                    .iter()
                    .filter(|(k, r)| core_rounds.get(*k) != Some(*r)),
            )
            .next();
        differences.push(format!(
            "rounds echoed: core {}, model {}; first difference at {differ:?}",
            core_rounds.len(),
            model.rounds.len()
        ));
    }
    let repeats = direct.answers.iter().filter(|a| a.repeat).count() as u64;
    if repeats != model.repeats {
        differences.push(format!("repeats: model {}, core {repeats}", model.repeats));
    }
    let conflicts = model.refusals.get("tx_conflict").copied().unwrap_or(0);
    if direct.conflicts.len() as u64 != conflicts {
        differences.push(format!(
            "conflicts: model {conflicts}, core {}",
            direct.conflicts.len()
        ));
    }
    // Balances and totals (W-7).
    let wallets: BTreeMap<String, [i64; 6]> = direct
        .snapshots()
        .into_iter()
        .filter_map(|s| match s {
            Snapshot::Wallet(w) => {
                let t = &w.totals;
                Some((
                    w.id.to_string(),
                    [
                        w.balance,
                        t.deposits,
                        t.withdrawals,
                        t.bets,
                        t.wins,
                        t.refunds,
                    ],
                ))
            }
            _ => None,
        })
        .collect();
    for (p, v) in model.wallets() {
        let want = [
            v.balance,
            v.deposits,
            v.withdrawals,
            v.bets,
            v.wins,
            v.refunds,
        ];
        // A wallet whose every command was refused holds zeros in both.
        let got = wallets.get(&p).copied().unwrap_or_default();
        if got != want {
            differences.push(format!("wallet {p}: model {want:?}, core {got:?}"));
        }
    }
    assert!(
        differences.is_empty(),
        "seed {seed}: {} differences over {commands} wallet commands, first: {:#?}",
        differences.len(),
        &differences[..differences.len().min(10)]
    );
    // The stream held the cases the rules are about.
    for code in [
        "tx_conflict",
        "bet_rolled_back",
        "bet_settled",
        "insufficient_funds",
    ] {
        assert!(
            model.refusals.get(code).copied().unwrap_or(0) > 0,
            "seed {seed}: no {code} in {:?}",
            model.refusals
        );
    }
    assert!(model.repeats > 0, "seed {seed}: no repeat");
    assert!(!model.rounds.is_empty(), "seed {seed}: no round echoed");
    for case in ["round_conflict", "round_ignored_in_v1", "invalid_round"] {
        assert!(
            g.cases.get(case).copied().unwrap_or(0) > 0,
            "seed {seed}: no {case} in {:?}",
            g.cases
        );
    }
}

#[test]
fn wallets_agree_with_the_model_on_generated_streams() {
    for seed in [1, 2, 3, 11, 42] {
        run(seed, 20_000);
    }
}
