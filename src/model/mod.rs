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

mod aml;
mod entities;
pub mod gen;
mod machine;
mod pool;
mod state;
mod tickets;
mod types;
mod validate;
mod voucher;
mod wallet;

pub use state::Model;
pub use types::{
    AmlModel, Answer, CaseRow, Draw, HallView, Hit, LevelSpec, LevelView, MachineView, ModelConfig,
    MoveRow, Outcome, PoolSpec, SessionRow, Totals, TransferRow, VoucherView, WalletView,
    AMOUNT_MAX, DAY_MS, EPOCHS_KEPT, HOLES_KEPT, MICRO, VOUCHER_ANSWERS_KEPT, VOUCHER_FACTS_KEPT,
    WINDOW_MS,
};
pub use validate::{Event, Party};
pub use voucher::VoucherAnswers;

#[cfg(test)]
mod tests {
    use super::gen::{generate, model_config, GenConfig};
    use super::{Draw, Model, WalletView};

    fn draw() -> Draw {
        Box::new(|_pool, _level, reset, lo, hi| lo + (reset as i64 * 7919) % (hi - lo + 1))
    }

    /// The model over seed 7's 20,000 events, its books balanced.
    fn balanced_run() -> (super::gen::Generated, Model) {
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
        (g, m)
    }

    #[test]
    fn a_generated_stream_conserves_money() {
        let (g, m) = balanced_run();
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

    /// RULES.md V: the generated voucher flows reach every rule, every refusal and every
    /// alert of it; the vouchers' books agree with the machines' tickets (V-8) and money is
    /// conserved with the vouchers' liability in the equation.
    #[test]
    fn a_generated_stream_exercises_every_voucher_rule() {
        let (g, m) = balanced_run();
        for (printed, booked) in m.ticket_books() {
            assert_eq!(
                printed, booked,
                "V-8: machines' tickets against the vouchers"
            );
        }
        for case in [
            "voucher_printed",
            "ticket_without_number",
            "voucher_machine_redeem",
            "voucher_desk_redeem",
            "voucher_cancel",
            "voucher_pending_elsewhere",
            "voucher_amount_mismatch",
            "voucher_redeemed_twice",
            "voucher_redeemed_without_hold",
            "voucher_credit_unbacked",
            "voucher_amount_variance",
            "voucher_reprinted",
            "voucher_desk_issue",
            "voucher_exists",
            "voucher_void",
            "voucher_hold_lapsed",
            "voucher_expired",
            "voucher_repeat",
            "voucher_tx_conflict",
            "voucher_wrong_hall",
            "voucher_invalid_number",
            "validation_on_bill",
            "voucher_invalid_source",
            "voucher_wrong_currency",
            "voucher_not_held",
            "voucher_unknown",
            "voucher_credit_before_print",
        ] {
            assert!(
                g.cases.get(case).copied().unwrap_or(0) > 0,
                "no {case} in {:?}",
                g.cases
            );
        }
        for code in [
            "voucher_unknown",
            "voucher_already_redeemed",
            "voucher_pending_elsewhere",
            "voucher_expired",
            "voucher_voided",
            "voucher_amount_mismatch",
            "voucher_exists",
            "voucher_not_held",
            "voucher_wrong_hall",
            "wrong_currency",
            "tx_conflict",
        ] {
            assert!(
                m.voucher_refusals.contains_key(code),
                "no voucher refusal {code}: {:?}",
                m.voucher_refusals
            );
        }
        for code in [
            "voucher_number_reused",
            "voucher_credit_unbacked",
            "voucher_redeemed_without_hold",
            "voucher_amount_variance",
            "voucher_hold_released",
        ] {
            assert!(
                m.voucher_alerts.contains_key(code),
                "no voucher alert {code}: {:?}",
                m.voucher_alerts
            );
        }
        for code in ["invalid_id", "invalid_source"] {
            assert!(m.rejections.contains_key(code), "{:?}", m.rejections);
        }
        let statuses: std::collections::BTreeSet<&str> =
            m.vouchers().values().map(|v| v.status).collect();
        for s in ["unissued", "issued", "redeemed", "expired", "voided"] {
            assert!(statuses.contains(s), "no {s} voucher: {statuses:?}");
        }
        // Vouchers are a few per cent of the stream.
        let voucher_items = g
            .items
            .iter()
            .filter(|i| {
                i.env
                    .as_ref()
                    .is_some_and(|e| e.payload.voucher().is_some())
            })
            .count();
        assert!(
            voucher_items * 100 < g.items.len() * 10 && voucher_items * 100 > g.items.len(),
            "{voucher_items} voucher commands in {}",
            g.items.len()
        );
    }

    /// RULES.md W-10: the generated transfer flows reach every case, alert and refusal of
    /// the rule, and money is conserved with holds and transfers in the equation.
    #[test]
    fn a_generated_stream_exercises_every_transfer_rule() {
        let (g, m) = balanced_run();
        for case in [
            "transfer_paid",
            "transfer_retry",
            "transfer_cancel_after_ack",
            "transfer_amount_variance",
            "transfer_unbacked",
            "transfer_cancelled",
            "transfer_not_held",
            "transfer_hold_lapsed",
            "transfer_ack_after_lapse",
            "transfer_without_hold",
            "transfer_acknowledged_twice",
            "transfer_ack_before_request",
            "transfer_from_machine",
            "transfer_insufficient_funds",
            "transfer_player_blocked",
            "transfer_self_excluded",
            "transfer_invalid_direction",
            "transfer_wrong_currency",
        ] {
            assert!(
                g.cases.get(case).copied().unwrap_or(0) > 0,
                "no {case} in {:?}",
                g.cases
            );
        }
        for code in [
            "transfer_hold_released",
            "transfer_without_hold",
            "transfer_amount_variance",
            "transfer_acknowledged_twice",
        ] {
            assert!(
                m.alerts.contains_key(code),
                "no alert {code}: {:?}",
                m.alerts
            );
        }
        assert!(
            m.wallet_refusals.contains_key("transfer_not_held"),
            "{:?}",
            m.wallet_refusals
        );
        let wallets = m.wallets();
        for (what, f) in [
            (
                "paid to machines",
                (|w: &WalletView| w.to_machines) as fn(&WalletView) -> i64,
            ),
            ("received from machines", |w| w.from_machines),
            ("unbacked", |w| w.unbacked),
        ] {
            assert!(wallets.values().any(|w| f(w) > 0), "no wallet {what}");
        }
    }

    /// RULES.md W-10, one sequence, as the rule reads.
    mod transfers {
        use super::super::gen::{model_config, CURRENCY, START_MS, TRANSFER_HOLD_MS};
        use super::super::{Answer, Model, Outcome};
        use crate::wire::{InputEnvelope, InputPayload, Source};

        const PLAYER: &str = "P-1";

        struct T {
            m: Model,
            ids: u128,
            seq: u64,
        }

        impl T {
            fn send(&mut self, machine: bool, t: i64, payload: InputPayload) -> Outcome {
                self.ids += 1;
                if machine {
                    self.seq += 1;
                }
                let env = InputEnvelope {
                    event_id: uuid::Uuid::from_u128(
                        0xaf70_0000_0000_4000_8000_0000_0000_0000 | self.ids,
                    )
                    .hyphenated()
                    .to_string(),
                    schema_version: 2,
                    source: Source {
                        hall: "H-00".to_owned(),
                        machine: machine.then(|| "M-1".to_owned()),
                        server: (!machine).then(|| "AFT-1".to_owned()),
                    },
                    epoch: machine.then_some(0),
                    seq: if machine { self.seq } else { 0 },
                    event_time: START_MS + t,
                    receive_time: None,
                    payload,
                };
                self.m.apply(&env, None)
            }

            fn host(&mut self, t: i64, payload: InputPayload) -> Outcome {
                self.send(false, t, payload)
            }

            fn took(&mut self, t: i64, transfer: &str, direction: &str, amount: i64) -> Outcome {
                let payload = InputPayload::CashlessTransfer {
                    transfer: transfer.to_owned(),
                    player: PLAYER.to_owned(),
                    direction: direction.to_owned(),
                    amount,
                    currency: CURRENCY.to_owned(),
                };
                self.send(true, t, payload)
            }

            /// (balance, held, to machines, from machines, unbacked).
            fn wallet(&self) -> (i64, i64, i64, i64, i64) {
                let w = &self.m.wallets()[PLAYER];
                (
                    w.balance,
                    w.held,
                    w.to_machines,
                    w.from_machines,
                    w.unbacked,
                )
            }

            fn alerts(&self, code: &str) -> u64 {
                self.m.alerts.get(code).copied().unwrap_or(0)
            }
        }

        fn request(tx: &str, amount: i64) -> InputPayload {
            InputPayload::TransferRequest {
                player: PLAYER.to_owned(),
                tx: tx.to_owned(),
                machine: "M-1".to_owned(),
                amount,
                currency: CURRENCY.to_owned(),
            }
        }

        fn cancel(tx: &str, transfer: &str) -> InputPayload {
            InputPayload::TransferCancel {
                player: PLAYER.to_owned(),
                tx: tx.to_owned(),
                transfer: transfer.to_owned(),
            }
        }

        fn deposit(tx: &str, amount: i64) -> InputPayload {
            InputPayload::Deposit {
                player: PLAYER.to_owned(),
                tx: tx.to_owned(),
                amount,
                currency: CURRENCY.to_owned(),
                round: None,
            }
        }

        #[test]
        fn holds_are_paid_given_back_lapse_and_what_nothing_pays_is_unbacked() {
            let mut t = T {
                m: Model::new(model_config(), Box::new(|_, _, _, lo, _| lo)),
                ids: 0,
                seq: 0,
            };
            assert_eq!(t.host(0, deposit("D-1", 1_000)), Outcome::Applied);
            // Held, then taken for less: the rest goes back.
            assert_eq!(t.host(1, request("X-1", 300)), Outcome::Applied);
            assert_eq!(t.wallet(), (700, 300, 0, 0, 0));
            assert_eq!(t.took(2, "X-1", "to_machine", 250), Outcome::Applied);
            assert_eq!(t.wallet(), (750, 0, 250, 0, 0));
            assert_eq!(t.alerts("transfer_amount_variance"), 1);
            // Taken again by another event: not paid twice, all unbacked; nothing to cancel.
            assert_eq!(t.took(3, "X-1", "to_machine", 250), Outcome::Applied);
            assert_eq!(t.wallet(), (750, 0, 250, 0, 250));
            assert_eq!(t.alerts("transfer_acknowledged_twice"), 1);
            assert_eq!(
                t.host(4, cancel("C-1", "X-1")),
                Outcome::Refused("transfer_not_held")
            );
            // A hold lapses at the first thing after its time, before that thing.
            assert_eq!(t.host(10, request("X-2", 500)), Outcome::Applied);
            let after = 10 + TRANSFER_HOLD_MS;
            assert_eq!(t.host(after, deposit("D-2", 1)), Outcome::Applied);
            assert_eq!(t.wallet(), (251, 500, 250, 0, 250));
            assert_eq!(t.host(after + 1, deposit("D-3", 1)), Outcome::Applied);
            assert_eq!(t.wallet(), (752, 0, 250, 0, 250));
            assert_eq!(t.alerts("transfer_hold_released"), 1);
            // The machine takes it anyway: without a hold, it waits for a request (the hold
            // time), then the balance pays it.
            assert_eq!(
                t.took(after + 2, "X-2", "to_machine", 600),
                Outcome::Applied
            );
            assert_eq!(t.wallet(), (752, 0, 250, 0, 250));
            assert_eq!(t.alerts("transfer_without_hold"), 0);
            let w = after + 3 + TRANSFER_HOLD_MS;
            assert_eq!(t.host(w, deposit("D-4", 1)), Outcome::Applied);
            assert_eq!(t.wallet(), (153, 0, 850, 0, 250));
            assert_eq!(t.alerts("transfer_without_hold"), 1);
            // The balance, never the credit line, pays a hold.
            assert_eq!(
                t.host(w + 1, request("X-3", 154)),
                Outcome::Refused("insufficient_funds")
            );
            // Taken before it was asked for, beyond the balance: the request cannot hold
            // it, so the acknowledgement waits out its time, then the balance pays what it
            // has and the rest is unbacked.
            assert_eq!(t.took(w + 2, "X-4", "to_machine", 400), Outcome::Applied);
            assert_eq!(
                t.host(w + 3, request("X-4", 400)),
                Outcome::Refused("insufficient_funds")
            );
            let v = w + 3 + TRANSFER_HOLD_MS;
            assert_eq!(t.host(v, deposit("D-5", 1)), Outcome::Applied);
            assert_eq!(t.wallet(), (1, 0, 1_003, 0, 497));
            assert_eq!(t.alerts("transfer_without_hold"), 2);
            // Taken before it was asked for, within the balance: the request holds it and
            // the acknowledgement, waiting, takes the hold (the input order's outcome).
            assert_eq!(t.took(v + 1, "X-7", "to_machine", 100), Outcome::Applied);
            assert_eq!(t.host(v + 2, deposit("D-6", 200)), Outcome::Applied);
            assert_eq!(t.host(v + 3, request("X-7", 100)), Outcome::Applied);
            let key = (PLAYER.to_owned(), "AFT-1".to_owned(), "X-7".to_owned());
            assert_eq!(
                t.m.answers[&key],
                Answer::Applied {
                    delta: -100,
                    balance: 101
                }
            );
            assert_eq!(t.wallet(), (101, 0, 1_103, 0, 497));
            assert_eq!(t.alerts("transfer_without_hold"), 2);
            // A cancel gives a hold back; from a machine, the wallet receives.
            assert_eq!(t.took(v + 4, "X-5", "from_machine", 200), Outcome::Applied);
            assert_eq!(t.host(v + 5, request("X-6", 150)), Outcome::Applied);
            assert_eq!(t.host(v + 6, cancel("C-2", "X-6")), Outcome::Applied);
            assert_eq!(t.wallet(), (301, 0, 1_103, 200, 497));
            let (entered, accounted) = t.m.conservation();
            assert_eq!(entered, accounted);
        }
    }

    /// RULES.md V, one sequence at a time, as the rules read.
    mod vouchers {
        use super::super::gen::{model_config, CURRENCY, START_MS};
        use super::super::{Model, Outcome};
        use crate::wire::{InputEnvelope, InputPayload, Source};

        const N: &str = "000000000000000042";

        struct T {
            m: Model,
            ids: u128,
            seqs: std::collections::BTreeMap<String, u64>,
        }

        impl T {
            fn new() -> Self {
                Self {
                    m: Model::new(model_config(), Box::new(|_, _, _, lo, _| lo)),
                    ids: 0,
                    seqs: Default::default(),
                }
            }

            fn env(
                &mut self,
                hall: &str,
                machine: Option<&str>,
                desk: Option<&str>,
                t: i64,
                p: InputPayload,
            ) -> InputEnvelope {
                self.ids += 1;
                let seq = match (machine, &p) {
                    (Some(m), p) if p.voucher().is_none() => {
                        let s = self.seqs.entry(m.to_owned()).or_default();
                        *s += 1;
                        *s
                    }
                    _ => 0,
                };
                InputEnvelope {
                    event_id: uuid::Uuid::from_u128(
                        0xfeed_0000_0000_4000_8000_0000_0000_0000 | self.ids,
                    )
                    .hyphenated()
                    .to_string(),
                    schema_version: 2,
                    source: Source {
                        hall: hall.to_owned(),
                        machine: machine.map(str::to_owned),
                        server: desk.map(str::to_owned),
                    },
                    epoch: machine.map(|_| 0),
                    seq,
                    event_time: START_MS + t,
                    receive_time: None,
                    payload: p,
                }
            }

            fn desk(&mut self, desk: &str, hall: &str, t: i64, p: InputPayload) -> Outcome {
                let e = self.env(hall, None, Some(desk), t, p);
                self.m.apply(&e, None)
            }

            fn machine(&mut self, machine: &str, hall: &str, t: i64, p: InputPayload) -> Outcome {
                let e = self.env(hall, Some(machine), None, t, p);
                self.m.apply(&e, None)
            }

            fn status(&self) -> (&'static str, i64, i64) {
                let v = &self.m.vouchers()[N];
                (v.status, v.unbacked, v.reprinted)
            }
        }

        fn redeem(tx: &str, amount: i64) -> InputPayload {
            InputPayload::VoucherRedeem {
                validation: N.to_owned(),
                tx: tx.to_owned(),
                amount,
                currency: CURRENCY.to_owned(),
            }
        }

        fn print(amount: i64) -> InputPayload {
            InputPayload::CashOut {
                kind: "ticket".to_owned(),
                amount,
                currency: CURRENCY.to_owned(),
                validation: Some(N.to_owned()),
            }
        }

        fn credit(amount: i64) -> InputPayload {
            InputPayload::CashIn {
                kind: "ticket".to_owned(),
                amount,
                currency: CURRENCY.to_owned(),
                validation: Some(N.to_owned()),
                credit_type: None,
            }
        }

        fn simple(kind: &str, tx: &str) -> InputPayload {
            let (validation, tx) = (N.to_owned(), tx.to_owned());
            match kind {
                "commit" => InputPayload::VoucherCommit { validation, tx },
                "cancel" => InputPayload::VoucherCancel { validation, tx },
                _ => InputPayload::VoucherVoid {
                    validation,
                    tx,
                    reason: "stolen".to_owned(),
                },
            }
        }

        #[test]
        fn a_printed_ticket_is_held_paid_once_and_the_rest_is_refused_or_unbacked() {
            let mut t = T::new();
            assert_eq!(
                t.desk("CAGE-02", "H-02", 0, redeem("r0", 500)),
                Outcome::Refused("voucher_unknown")
            );
            assert_eq!(t.machine("M-1", "H-02", 1, print(500)), Outcome::Applied);
            assert_eq!(t.status(), ("issued", 0, 0));
            assert_eq!(
                t.desk("CAGE-02", "H-02", 2, redeem("r1", 400)),
                Outcome::Refused("voucher_amount_mismatch")
            );
            assert_eq!(
                t.desk("CAGE-02", "H-02", 3, redeem("r2", 500)),
                Outcome::Applied
            );
            assert_eq!(
                t.machine("M-2", "H-02", 4, redeem("r3", 500)),
                Outcome::Refused("voucher_pending_elsewhere")
            );
            assert_eq!(
                t.machine("M-2", "H-02", 5, simple("cancel", "c1")),
                Outcome::Refused("voucher_not_held")
            );
            assert_eq!(
                t.desk("CAGE-02", "H-02", 6, simple("commit", "k1")),
                Outcome::Applied
            );
            assert_eq!(
                t.desk("CAGE-02", "H-02", 6, simple("commit", "k1")),
                Outcome::Repeat
            );
            assert_eq!(
                t.desk("CAGE-02", "H-02", 7, redeem("r2", 501)),
                Outcome::Refused("tx_conflict")
            );
            assert_eq!(
                t.desk("CAGE-02", "H-02", 8, simple("commit", "k2")),
                Outcome::Refused("voucher_already_redeemed")
            );
            assert_eq!(t.status(), ("redeemed", 0, 0));
            assert_eq!(t.machine("M-2", "H-02", 9, credit(500)), Outcome::Applied);
            assert_eq!(t.machine("M-3", "H-02", 10, print(700)), Outcome::Applied);
            assert_eq!(t.status(), ("redeemed", 500, 700));
            assert_eq!(t.m.voucher_alerts.get("voucher_credit_unbacked"), Some(&1));
            assert_eq!(t.m.voucher_alerts.get("voucher_number_reused"), Some(&1));
            let (entered, accounted) = t.m.conservation();
            assert_eq!(entered, accounted);
        }

        #[test]
        fn a_ticket_in_read_before_its_print_is_redeemed_by_the_print() {
            let mut t = T::new();
            assert_eq!(t.machine("M-2", "H-02", 0, credit(600)), Outcome::Applied);
            assert_eq!(t.status(), ("unissued", 600, 0));
            assert_eq!(t.machine("M-1", "H-02", 1, print(500)), Outcome::Applied);
            assert_eq!(t.status(), ("redeemed", 100, 0));
            assert_eq!(t.m.voucher_alerts.get("voucher_amount_variance"), Some(&1));
            let (entered, accounted) = t.m.conservation();
            assert_eq!(entered, accounted);
        }

        #[test]
        fn a_hold_lapses_and_an_expired_voucher_stays_expired() {
            let mut t = T::new();
            // H-00 keeps its tickets a day (the generator's configuration).
            assert_eq!(
                t.desk(
                    "CAGE-00",
                    "H-00",
                    0,
                    InputPayload::VoucherIssue {
                        validation: N.to_owned(),
                        tx: "i1".to_owned(),
                        amount: 900,
                        currency: CURRENCY.to_owned(),
                    }
                ),
                Outcome::Applied
            );
            assert_eq!(
                t.machine("M-1", "H-02", 10, redeem("r1", 900)),
                Outcome::Applied
            );
            assert_eq!(
                t.desk("CAGE-00", "H-00", 60_009, redeem("r2", 900)),
                Outcome::Refused("voucher_pending_elsewhere")
            );
            assert_eq!(
                t.desk("CAGE-00", "H-00", 60_010, redeem("r3", 900)),
                Outcome::Applied
            );
            assert_eq!(t.m.voucher_alerts.get("voucher_hold_released"), Some(&1));
            assert_eq!(
                t.desk("BO", "H-00", 60_011, simple("void", "v1")),
                Outcome::Refused("voucher_pending_elsewhere")
            );
            assert_eq!(
                t.desk("CAGE-00", "H-00", 60_012, simple("cancel", "c1")),
                Outcome::Applied
            );
            assert_eq!(t.status(), ("issued", 0, 0));
            // A hold that lasts past the expiry: the voucher does not expire under it, and
            // expires at the next message once the hold is released.
            assert_eq!(
                t.desk("CAGE-00", "H-00", 86_399_990, redeem("r4", 900)),
                Outcome::Applied
            );
            assert_eq!(
                t.desk("BO", "H-00", 86_400_001, simple("void", "v2")),
                Outcome::Refused("voucher_pending_elsewhere")
            );
            assert_eq!(
                t.desk("CAGE-00", "H-00", 86_400_002, simple("cancel", "c2")),
                Outcome::Applied
            );
            assert_eq!(t.status(), ("issued", 0, 0));
            assert_eq!(
                t.desk("CAGE-00", "H-00", 86_400_003, redeem("r5", 900)),
                Outcome::Refused("voucher_expired")
            );
            assert_eq!(
                t.machine("M-1", "H-00", 86_400_004, credit(900)),
                Outcome::Applied
            );
            assert_eq!(t.status(), ("expired", 900, 0));
            let (entered, accounted) = t.m.conservation();
            assert_eq!(entered, accounted);
        }

        #[test]
        fn a_credit_settles_the_voucher_with_its_variance_and_home_only_halls_keep_theirs() {
            let mut t = T::new();
            // H-01 is home-only in the generator's configuration.
            assert_eq!(t.machine("M-1", "H-01", 0, print(1_000)), Outcome::Applied);
            assert_eq!(
                t.machine("M-2", "H-02", 1, redeem("r1", 1_000)),
                Outcome::Refused("voucher_wrong_hall")
            );
            let mut usd = redeem("r2", 1_000);
            if let InputPayload::VoucherRedeem { currency, .. } = &mut usd {
                *currency = "USD".to_owned();
            }
            assert_eq!(
                t.machine("M-3", "H-01", 2, usd),
                Outcome::Refused("wrong_currency")
            );
            assert_eq!(
                t.machine("M-3", "H-01", 3, redeem("r3", 1_000)),
                Outcome::Applied
            );
            assert_eq!(t.machine("M-3", "H-01", 4, credit(1_020)), Outcome::Applied);
            assert_eq!(t.status(), ("redeemed", 20, 0));
            assert_eq!(t.m.voucher_alerts.get("voucher_amount_variance"), Some(&1));
            assert_eq!(
                t.m.voucher_alerts.get("voucher_redeemed_without_hold"),
                None
            );
            let (entered, accounted) = t.m.conservation();
            assert_eq!(entered, accounted);
        }
    }
}
