//! RULES.md E-2, W-2, W-6: a version 2 wallet command's game round (`round`), through the
//! actor runtime and the wire: the answer echoes it, a repeat with the same round gets the
//! first answer (round included), the same key with another round or none is refused
//! `tx_conflict` and the first answer stands.

use std::sync::Arc;

use pitboss::config::Config;
use pitboss::rng::KeyedHitPoints;
use pitboss::wire::{decode_input, decode_output, encode_output, samples, OutputEvent};
use pitboss_actors::domain::Timestamp;
use pitboss_actors::shell::{
    AckToken, Input, ManualClock, MemorySink, MemoryStore, Output, Runtime, Snapshot, StateStore,
    WalletEntity,
};

/// The version 2 sample of `kind` (its round is [`samples::ROUND`]), with event id `n`.
fn v2(kind: &str, n: u16, round: Option<&str>) -> Input {
    let mut env = samples::inputs_with_round()
        .into_iter()
        .find(|e| e.payload.kind() == kind)
        .expect("a sample of the kind");
    env.event_id = samples::event_id(n).to_string();
    env.payload.set_round(round.map(str::to_owned));
    decode_input(&env.to_bytes()).expect("a valid command")
}

#[actix_rt::test]
async fn the_answer_echoes_the_round_and_another_round_under_the_key_conflicts() {
    let rc = Config::load_with_env(None, Vec::new())
        .expect("default config")
        .runtime_config()
        .expect("runtime config");
    let sink = Arc::new(MemorySink::default());
    let rt = Runtime::start(
        rc,
        sink.clone(),
        Arc::new(MemoryStore::default()) as Arc<dyn StateStore>,
        Arc::new(KeyedHitPoints::new("test")),
        Arc::new(ManualClock::at(Timestamp(samples::TIME_MS))),
    );
    let round = Some(samples::ROUND);
    for input in [
        // A deposit without a round, a bet in round ROUND (T-3) ...
        v2("deposit", 100, None),
        v2("wallet_bet", 101, round),
        // ... its retry (same content, another event) ...
        v2("wallet_bet", 102, round),
        // ... and the same key in another round, or in none: conflicts.
        v2("wallet_bet", 103, Some("G-99999")),
        v2("wallet_bet", 104, None),
    ] {
        rt.dispatch(input, AckToken::none()).await;
    }
    rt.quiesce().await;
    let outputs = sink.take();

    let answers: Vec<&Output> = outputs
        .iter()
        .filter(|o| matches!(o, Output::Wallet { .. }))
        .collect();
    assert_eq!(
        answers.len(),
        3,
        "deposit, bet, the bet's repeat: {outputs:#?}"
    );
    let rounds: Vec<Option<String>> = answers
        .iter()
        .map(|o| match o {
            Output::Wallet { round, .. } => round.as_ref().map(|r| r.to_string()),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        rounds,
        [
            None,
            Some(samples::ROUND.into()),
            Some(samples::ROUND.into())
        ]
    );
    assert_eq!(
        answers[1], answers[2],
        "the repeat republishes the first answer"
    );

    let conflicts: Vec<&str> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Refused { code, .. } => Some(*code),
            _ => None,
        })
        .collect();
    assert_eq!(conflicts, ["tx_conflict", "tx_conflict"]);

    // The first answer stands: the bet was debited once.
    let player = pitboss_actors::domain::PlayerId::new(samples::PLAYER).unwrap();
    let Some(Snapshot::Wallet(w)) = rt.inspect::<WalletEntity>(&player).await.unwrap() else {
        panic!("no wallet")
    };
    assert_eq!(w.balance, 10_000 - 100);

    // On the wire: `round` in the bet's answer and its repeat, none in the deposit's.
    let wire_rounds: Vec<Option<String>> = answers
        .iter()
        .map(|o| {
            let rec = encode_output(o);
            let Ok(OutputEvent::Wallet(e)) = decode_output(&rec.bytes) else {
                panic!("a wallet output")
            };
            e.payload.round.map(|r| r.into_owned())
        })
        .collect();
    assert_eq!(wire_rounds, rounds);
    rt.stop();
}
