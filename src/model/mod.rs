//! An independent model of the money rules, written from `RULES.md` and nothing else.
//!
//! It exists to check the core (`pitboss-actors`' domain state machines) against a second
//! reading of the same rules: if both were written from one wrong idea they would agree, but
//! a slip in either shows up as a difference. So it shares no code with the core: it imports
//! nothing from `pitboss_actors` (`tests/architecture.rs` checks it), keeps its state in plain
//! integers, strings and ordered maps, and applies one input at a time in the most obvious
//! way, with no concern for speed or memory beyond finishing a million events in seconds.
//! Each rule's id from `RULES.md` is cited where it is applied.
//!
//! It reads the wire's owned input form ([`InputEnvelope`]) and validates it itself (E-1):
//! the only things it takes from the rest of the crate are that type and the mystery hit
//! point generator (an input to the rules, like the events, not a rule).
//!
//! What it produces, [`Model`]'s public maps and counters, is what [`crate::model_check`]
//! compares with the core's states and outputs.

mod entities;
pub mod gen;
mod machine;
mod pool;
mod state;
mod types;
mod validate;
mod wallet;

pub use state::Model;
pub use types::{
    Answer, Draw, HallView, Hit, LevelSpec, LevelView, MachineView, ModelConfig, Outcome, PoolSpec,
    Totals, WalletView, AMOUNT_MAX, EPOCHS_KEPT, HOLES_KEPT, MICRO, WINDOW_MS,
};
pub use validate::Event;

#[cfg(test)]
mod tests {
    use super::gen::{generate, model_config, GenConfig};
    use super::{Draw, Model};

    fn draw() -> Draw {
        Box::new(|_pool, _level, reset, lo, hi| lo + (reset as i64 * 7919) % (hi - lo + 1))
    }

    #[test]
    fn a_generated_stream_conserves_money() {
        let g = generate(&GenConfig {
            events: 20_000,
            seed: 7,
            ..GenConfig::default()
        });
        let mut m = Model::new(model_config(), draw());
        for item in &g.items {
            m.apply_bytes(&item.bytes, Some(item.kafka_time));
        }
        let (entered, accounted) = m.conservation();
        assert_eq!(entered, accounted);
        for case in [
            "retry_after_hours",
            "late_gap_fill",
            "epoch_reset",
            "settled_bet_rollback",
            "ineligible_claim",
            "round_conflict",
            "round_ignored_in_v1",
            "invalid_round",
        ] {
            assert!(
                g.cases.get(case).copied().unwrap_or(0) > 0,
                "no {case} in {:?}",
                g.cases
            );
        }
        for code in [
            "bet_settled",
            "bet_rolled_back",
            "tx_conflict",
            "insufficient_funds",
        ] {
            assert!(
                m.refusals.contains_key(code),
                "no refusal {code}: {:?}",
                m.refusals
            );
        }
        for code in [
            "sequence_gap",
            "credit_variance",
            "clock_skew",
            "sequence_reset",
        ] {
            assert!(
                m.alerts.contains_key(code),
                "no alert {code}: {:?}",
                m.alerts
            );
        }
        assert!(m.hits.iter().any(|h| h.mystery) && m.hits.iter().any(|h| !h.mystery));
    }
}
