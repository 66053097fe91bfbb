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
mod desk;
mod entities;
pub mod gen;
mod machine;
mod pool;
mod shifts;
mod state;
mod tickets;
mod types;
mod validate;
mod voucher;
mod wallet;

pub use state::Model;
pub use types::{
    AmlModel, Answer, BonusView, CaseRow, DeskAlert, DeskView, Draw, HallView, Hit, LevelSpec,
    LevelView, MachineView, ModelConfig, MoveRow, Outcome, PoolSpec, SessionRow, ShiftRow,
    ShiftView, Totals, TransferRow, UnshiftedOp, VoucherView, WalletView, AMOUNT_MAX, DAY_MS,
    DESK_ANSWERS_KEPT, DESK_OPS_KEPT, DESK_SHIFTS_KEPT, DESK_UNSHIFTED_KEPT, EPOCHS_KEPT,
    HOLES_KEPT, MICRO, VOUCHER_ANSWERS_KEPT, VOUCHER_FACTS_KEPT, WINDOW_MS,
};
pub use validate::{DeskOpModel, Event, Party};
pub use voucher::VoucherAnswers;

#[cfg(test)]
mod tests {
    use super::gen::{generate, model_config, GenConfig};
    use super::{DeskAlert, Draw, Model, WalletView};

    fn draw() -> Draw {
        Box::new(|_pool, _level, reset, lo, hi| lo + (reset as i64 * 7919) % (hi - lo + 1))
    }

    /// A test's event `id` of schema `version` at `t` ms into the stream: from machine M-1
    /// (numbered `seq`, epoch 0 in version 2) or, without `machine`, from `server`.
    fn envelope(
        id: u128,
        (machine, server): (bool, &str),
        (version, seq, t): (u32, u64, i64),
        payload: crate::wire::InputPayload,
    ) -> crate::wire::InputEnvelope {
        crate::wire::InputEnvelope {
            event_id: uuid::Uuid::from_u128(id).hyphenated().to_string(),
            schema_version: version,
            source: crate::wire::Source {
                hall: "H-00".to_owned(),
                machine: machine.then(|| "M-1".to_owned()),
                server: (!machine).then(|| server.to_owned()),
            },
            epoch: (machine && version == 2).then_some(0),
            seq: if machine { seq } else { 0 },
            event_time: super::gen::START_MS + t,
            receive_time: None,
            payload,
        }
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

    /// RULES.md D: the generated desk flows reach every case, refusal, rejection and alert
    /// of the rules; closed shifts are revised; the desks' cash agrees with the vouchers
    /// they sold and paid (D-9).
    #[test]
    fn a_generated_stream_exercises_every_desk_rule() {
        let (g, m) = balanced_run();
        assert!(m.desk_books().is_empty(), "{:?}", m.desk_books());
        for case in DESK_CASES {
            assert!(
                g.cases.get(case).copied().unwrap_or(0) > 0,
                "no {case} in {:?}",
                g.cases
            );
        }
        for code in [
            "shift_already_open",
            "shift_not_open",
            "wrong_currency",
            "tx_conflict",
        ] {
            assert!(
                m.desk_refusals.contains_key(code),
                "no desk refusal {code}: {:?}",
                m.desk_refusals
            );
        }
        for code in ["shift_variance", "desk_cash_without_shift"] {
            assert!(
                m.alerts.contains_key(code),
                "no alert {code}: {:?}",
                m.alerts
            );
        }
        for code in ["malformed", "invalid_amount", "invalid_currency"] {
            assert!(m.rejections.contains_key(code), "{:?}", m.rejections);
        }
        let closed: Vec<_> = m.desks().into_values().flat_map(|d| d.closed).collect();
        assert!(closed
            .iter()
            .any(|s| s.variance() == Some(0) && s.revision == 0));
        assert!(closed.iter().any(|s| s.variance().is_some_and(|v| v > 0)));
        assert!(closed.iter().any(|s| s.variance().is_some_and(|v| v < 0)));
        assert!(closed.iter().any(|s| s.revision > 0 && s.operations > 0));
        assert!(m.shifts.iter().any(|r| r.op == "revise"));
        // D-5: a revision brought a shift's variance back to 0, and no revision to 0 was
        // alerted (a close with no variance is not alerted either).
        assert!(m
            .shifts
            .iter()
            .any(|r| r.op == "revise" && r.shift.variance() == Some(0)));
        assert!(!m
            .desk_alerts
            .iter()
            .any(|a| matches!(a, DeskAlert::ShiftVariance { variance: 0, .. })));
        // D-3: shifts took at their opening cash read before it.
        assert!(m
            .shifts
            .iter()
            .any(|r| r.op == "open" && r.refused.is_none() && r.shift.operations >= 64));
        let desks = m.desks();
        assert!(desks
            .values()
            .any(|d| d.unshifted_in > 0 && d.unshifted_out > 0));
        // Most of a cage's cash is booked to shifts.
        let shifted: i64 = closed.iter().map(|s| s.cash_in + s.cash_out).sum();
        let unshifted: i64 = desks
            .values()
            .map(|d| d.unshifted_in + d.unshifted_out)
            .sum();
        assert!(
            shifted > unshifted,
            "{shifted} booked to shifts, {unshifted} not"
        );
    }

    /// RULES.md D-10: the generated wallet cash at the cage reaches every case of the rule:
    /// deposits and withdrawals booked at listed desks (in shifts, unshifted, revising,
    /// taken at an opening), refused ones for every reason a deposit or withdrawal has,
    /// repeats and conflicts, a desk not listed and a listed one without shifts; the
    /// desks' wallet cash agrees with the wallets' (D-9).
    #[test]
    fn a_generated_stream_exercises_wallet_cash_at_the_cage() {
        use super::gen::{CASH_DESKS, UNLISTED_CAGE};
        let (g, m) = balanced_run();
        assert!(m.desk_books().is_empty(), "{:?}", m.desk_books());
        for case in [
            "cage_deposit",
            "cage_withdrawal",
            "cage_cash_in_shift",
            "cage_cash_unshifted",
            "cage_cash_revision",
            "cage_withdrawal_revision",
            "cage_cash_read_before_open",
            "cage_withdrawal_read_before_open",
            "cage_cash_repeat",
            "cage_cash_redelivered",
            "cage_cash_conflict",
            "cage_cash_unlisted_desk",
            "cage_cash_desk_without_shifts",
            "cage_withdrawal_insufficient_funds",
            "cage_withdrawal_kyc_required",
            "cage_cash_at_open",
            "cage_cash_at_close",
            "cage_cash_player_blocked",
            "cage_deposit_over_limit",
            "cage_cash_self_excluded",
        ] {
            assert!(
                g.cases.get(case).copied().unwrap_or(0) > 0,
                "no {case} in {:?}",
                g.cases
            );
        }
        // Refused at a listed desk, for each reason.
        let refused: std::collections::BTreeSet<&str> = m
            .answers
            .iter()
            .filter(|((_, provider, _), _)| CASH_DESKS.contains(&provider.as_str()))
            .filter_map(|(_, a)| match a {
                super::Answer::Refused(code) => Some(*code),
                super::Answer::Applied { .. } => None,
            })
            .collect();
        for code in [
            "insufficient_funds",
            "kyc_required",
            "player_blocked",
            "self_excluded",
            "limit_deposit",
        ] {
            assert!(refused.contains(code), "no {code} at a desk: {refused:?}");
        }
        let desks = m.desks();
        for d in CASH_DESKS {
            assert!(
                desks[d].wallet_in > 0,
                "no wallet cash at {d}: {:?}",
                desks[d]
            );
        }
        assert!(desks.values().any(|d| d.wallet_out > 0));
        // The listed desk without shifts books it all unshifted; the desk not listed none.
        let express = &desks[CASH_DESKS[3]];
        assert_eq!(express.next, 0);
        assert_eq!(
            (express.unshifted_in, express.unshifted_out),
            (express.wallet_in, express.wallet_out)
        );
        let unlisted = &desks[UNLISTED_CAGE];
        assert_eq!((unlisted.wallet_in, unlisted.wallet_out), (0, 0));
        assert!(unlisted.cash_in > 0);
        let wallets = m.wallets();
        assert!(wallets
            .values()
            .any(|w| w.desk_deposits > 0 && w.desk_withdrawals > 0));
    }

    /// The desk cases (RULES.md D) every generated stream of 20,000 events carries
    /// (`desk_cash_older_than_kept` needs a longer one: `tests/inproc/model_check.rs`).
    const DESK_CASES: [&str; 29] = [
        "shift_open",
        "shift_float_zero",
        "shift_close",
        "shift_counted_as_expected",
        "shift_counted_off",
        "shift_counted_zero",
        "shift_revision",
        "shift_revision_to_balance",
        "shift_closed_twice",
        "shift_close_repeated",
        "shift_open_twice",
        "shift_rush",
        "desk_fill",
        "desk_credit",
        "desk_fill_without_shift",
        "desk_credit_without_shift",
        "desk_left_unshifted",
        "desk_cash_at_open",
        "desk_cash_at_close",
        "desk_cash_before_first_shift",
        "desk_cash_read_before_open",
        "desk_unshifted_beyond_kept",
        "desk_payment_in_shift",
        "desk_wrong_currency",
        "desk_repeat",
        "desk_tx_conflict",
        "desk_invalid",
        "desk_cashier_too_long",
        "desk_command_from_machine",
    ];

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

    /// RULES.md W-12 `player_unknown`: the generated awards to players of their own reach
    /// every way a player is known or not; the model refuses the unknown ones and applies
    /// (or refuses for the block or the exclusion) the known ones.
    #[test]
    fn a_generated_stream_exercises_awards_to_players_pitboss_knows_nothing_of() {
        let (g, m) = balanced_run();
        for case in KNOWN_CASES {
            assert!(
                g.cases.get(case).copied().unwrap_or(0) > 0,
                "no {case} in {:?}",
                g.cases
            );
        }
        // The awards to the flows' own players (`P-U…`), by their outcome.
        let mut outcomes: std::collections::BTreeMap<&str, u64> = Default::default();
        for ((player, provider, _), answer) in &m.answers {
            if player.starts_with("P-U") && provider == "PROMO-1" {
                let what = match answer {
                    super::Answer::Applied { .. } => "applied",
                    super::Answer::Refused(code) => code,
                };
                *outcomes.entry(what).or_default() += 1;
            }
        }
        for what in [
            "applied",
            "player_unknown",
            "player_blocked",
            "self_excluded",
        ] {
            assert!(outcomes.contains_key(what), "no award {what}: {outcomes:?}");
        }
        // The pool's players too: an award before a player's first command is refused.
        assert!(m.wallet_refusals.contains_key("player_unknown"));
    }

    /// The cases of awards to players of their own (RULES.md W-12, `player_unknown`) every
    /// generated stream of 20,000 events carries.
    const KNOWN_CASES: [&str; 22] = [
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
        "bonus_known_by_limit_removed",
        "bonus_known_by_kyc",
        "bonus_known_blocked",
        "bonus_known_by_limit",
        "bonus_known_self_excluded",
        "bonus_known_by_past_exclusion",
        "bonus_known_by_bonus",
        "bonus_known_by_transfer",
        "bonus_known_by_waiting_transfer",
        "bonus_known_by_points",
        "bonus_known_by_patron_cash",
        "bonus_fresh_wallet",
    ];

    /// RULES.md W-10, one sequence, as the rule reads.
    mod transfers {
        use super::super::gen::{model_config, CURRENCY, TRANSFER_HOLD_MS};
        use super::super::{Answer, Model, Outcome};
        use crate::wire::InputPayload;

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
                let id = 0xaf70_0000_0000_4000_8000_0000_0000_0000 | self.ids;
                let env = super::envelope(id, (machine, "AFT-1"), (2, self.seq, t), payload);
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
                    credit_type: None,
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
                credit_type: None,
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

    /// RULES.md W-12, one sequence at a time, as the rule reads.
    mod bonus {
        use super::super::gen::{model_config, CURRENCY, START_MS, TRANSFER_HOLD_MS};
        use super::super::{Answer, BonusView, Model, Outcome};
        use crate::wire::InputPayload;

        const PLAYER: &str = "P-1";
        const WEEK: i64 = 7 * 86_400_000;

        struct T {
            m: Model,
            ids: u128,
            seq: u64,
        }

        impl T {
            fn new(bonus_first: bool) -> Self {
                let mut cfg = model_config();
                cfg.bonus_first = bonus_first;
                Self {
                    m: Model::new(cfg, Box::new(|_, _, _, lo, _| lo)),
                    ids: 0,
                    seq: 0,
                }
            }

            fn send(
                &mut self,
                machine: bool,
                version: u32,
                t: i64,
                payload: InputPayload,
            ) -> Outcome {
                self.ids += 1;
                if machine {
                    self.seq += 1;
                }
                let id = 0xb0b0_0000_0000_4000_8000_0000_0000_0000 | self.ids;
                let env = super::envelope(id, (machine, "GS-1"), (version, self.seq, t), payload);
                self.m.apply(&env, None)
            }

            fn host(&mut self, t: i64, payload: InputPayload) -> Outcome {
                self.send(false, 2, t, payload)
            }

            fn took(&mut self, t: i64, transfer: &str, amount: i64, ct: Option<&str>) -> Outcome {
                let payload = InputPayload::CashlessTransfer {
                    transfer: transfer.to_owned(),
                    player: PLAYER.to_owned(),
                    direction: "to_machine".to_owned(),
                    amount,
                    currency: CURRENCY.to_owned(),
                    credit_type: ct.map(str::to_owned),
                };
                self.send(true, 2, t, payload)
            }

            /// (balance, bonus, wagering left).
            fn wallet(&self) -> (i64, i64, i64) {
                let w = &self.m.wallets()[PLAYER];
                let b = w.bonus.clone().unwrap_or_default();
                (w.balance, b.balance, b.wagering_left)
            }

            fn bonus(&self) -> BonusView {
                self.m.wallets()[PLAYER].bonus.clone().expect("an account")
            }

            /// The answer to `tx`: (delta, balance) and (bonus delta, bonus).
            fn answer(&self, tx: &str) -> ((i64, i64), Option<(i64, i64)>) {
                let key = (PLAYER.to_owned(), "GS-1".to_owned(), tx.to_owned());
                let Answer::Applied { delta, balance } = self.m.answers[&key] else {
                    panic!("{tx} was refused");
                };
                ((delta, balance), self.m.bonus_answers.get(&key).copied())
            }

            fn books(&self) {
                let (entered, accounted) = self.m.conservation();
                assert_eq!(entered, accounted);
                assert_eq!(self.m.bonus_books(), Vec::<String>::new());
            }
        }

        fn award(tx: &str, amount: i64, wagering: i64, expires_at: i64) -> InputPayload {
            InputPayload::BonusAward {
                player: PLAYER.to_owned(),
                tx: tx.to_owned(),
                amount,
                currency: CURRENCY.to_owned(),
                wagering,
                expires_at: START_MS + expires_at,
            }
        }

        fn money(kind: &str, tx: &str, amount: i64, bet: Option<&str>) -> InputPayload {
            let (player, tx, currency) = (PLAYER.to_owned(), tx.to_owned(), CURRENCY.to_owned());
            match kind {
                "deposit" => InputPayload::Deposit {
                    player,
                    tx,
                    amount,
                    currency,
                    round: None,
                },
                "withdraw" => InputPayload::Withdraw {
                    player,
                    tx,
                    amount,
                    currency,
                    round: None,
                },
                "bet" => InputPayload::WalletBet {
                    player,
                    tx,
                    amount,
                    currency,
                    round: None,
                },
                _ => InputPayload::WalletWin {
                    player,
                    tx,
                    amount,
                    currency,
                    bet_tx: bet.map(str::to_owned),
                    round: None,
                },
            }
        }

        fn rollback(tx: &str, bet: &str) -> InputPayload {
            InputPayload::Rollback {
                player: PLAYER.to_owned(),
                tx: tx.to_owned(),
                bet_tx: bet.to_owned(),
                currency: CURRENCY.to_owned(),
                round: None,
            }
        }

        fn request(tx: &str, amount: i64, ct: Option<&str>) -> InputPayload {
            InputPayload::TransferRequest {
                player: PLAYER.to_owned(),
                tx: tx.to_owned(),
                machine: "M-1".to_owned(),
                amount,
                currency: CURRENCY.to_owned(),
                credit_type: ct.map(str::to_owned),
            }
        }

        #[test]
        fn a_bonus_is_staked_won_split_refunded_converted_and_expires() {
            let mut t = T::new(false);
            assert_eq!(
                t.host(0, money("deposit", "D-1", 100, None)),
                Outcome::Applied
            );
            // No bonus account yet: the answers carry none.
            assert_eq!(t.answer("D-1"), ((100, 100), None));
            assert_eq!(t.host(1, award("B-1", 500, 2, WEEK)), Outcome::Applied);
            assert_eq!(t.answer("B-1"), ((0, 100), Some((500, 500))));
            assert_eq!(t.wallet(), (100, 500, 1_000));
            // Cash first: the cash above zero, then the bonus; the whole bet is wagered.
            assert_eq!(t.host(2, money("bet", "G-1", 300, None)), Outcome::Applied);
            assert_eq!(t.answer("G-1"), ((-100, 0), Some((-200, 300))));
            assert_eq!(t.wallet(), (0, 300, 700));
            assert_eq!(t.m.halls["H-00"].totals.promo, 200);
            // The win is split like its bet: floor(100 x 200 / 300) = 66 to the bonus.
            assert_eq!(
                t.host(3, money("win", "W-1", 100, Some("G-1"))),
                Outcome::Applied
            );
            assert_eq!(t.answer("W-1"), ((34, 34), Some((66, 366))));
            // Cash 34 and bonus 366 pay the next bet; the rollback gives each part back,
            // and the wagering it met.
            assert_eq!(t.host(4, money("bet", "G-2", 400, None)), Outcome::Applied);
            assert_eq!(t.wallet(), (0, 0, 300));
            assert_eq!(t.host(5, rollback("R-1", "G-2")), Outcome::Applied);
            assert_eq!(t.answer("R-1"), ((34, 34), Some((366, 366))));
            assert_eq!(t.wallet(), (34, 366, 700));
            assert_eq!(t.m.halls["H-00"].totals.promo, 200);
            // Withdrawals draw on cash only.
            assert_eq!(
                t.host(6, money("withdraw", "O-1", 35, None)),
                Outcome::Refused("insufficient_funds")
            );
            // Beyond cash + credit line + bonus: refused.
            assert_eq!(
                t.host(7, money("bet", "G-3", 34 + 1_000 + 367, None)),
                Outcome::Refused("insufficient_funds")
            );
            // A bet that meets the wagering: the bonus becomes cash, in the answer's delta.
            assert_eq!(
                t.host(8, money("deposit", "D-2", 1_000, None)),
                Outcome::Applied
            );
            assert_eq!(t.host(9, money("bet", "G-4", 700, None)), Outcome::Applied);
            assert_eq!(t.answer("G-4"), ((-700 + 366, 700), Some((-366, 0))));
            assert_eq!(t.wallet(), (700, 0, 0));
            let b = t.bonus();
            assert_eq!(
                (b.awarded, b.staked, b.won, b.refunded, b.converted),
                (500, 566, 66, 366, 366)
            );
            t.books();
            // A bonus without wagering is cash at once.
            assert_eq!(t.host(10, award("B-2", 50, 0, WEEK)), Outcome::Applied);
            assert_eq!(t.answer("B-2"), ((50, 750), Some((0, 0))));
            // A spent bonus leaves no requirement behind: bonus-first spends it, the next
            // award starts from its own.
            assert_eq!(t.host(1_002, award("B-4", 100, 50, WEEK)), Outcome::Applied);
            assert_eq!(t.wallet(), (750, 100, 5_000));
            assert_eq!(
                t.host(1_003, money("withdraw", "O-2", 750, None)),
                Outcome::Applied
            );
            assert_eq!(
                t.host(1_004, money("bet", "G-6", 100, None)),
                Outcome::Applied
            );
            assert_eq!(t.wallet(), (0, 0, 4_900));
            assert_eq!(t.host(1_005, award("B-5", 100, 1, WEEK)), Outcome::Applied);
            assert_eq!(t.wallet(), (0, 100, 100));
            t.books();
            // Rejected at the wire: an expiry at the command's time, a multiple beyond 100.
            assert_eq!(
                t.host(1_006, award("B-6", 100, 1, 1_006)),
                Outcome::Rejected("malformed")
            );
            assert_eq!(
                t.host(1_007, award("B-7", 100, 101, WEEK)),
                Outcome::Rejected("malformed")
            );
        }

        #[test]
        fn an_expired_bonus_is_gone_before_the_first_thing_at_its_time_and_after_a_change() {
            let mut t = T::new(false);
            // Known to pitboss (W-12's `player_unknown`) by the KYC provider's word alone:
            // no cash for the bets to draw on first.
            let verified = InputPayload::KycStatus {
                player: PLAYER.to_owned(),
                tx: "K-1".to_owned(),
                status: "verified".to_owned(),
            };
            assert_eq!(t.host(0, verified), Outcome::Applied);
            // Expiring at 1,000 (its own expiry: the account's first).
            assert_eq!(t.host(1, award("B-1", 200, 1, 1_000)), Outcome::Applied);
            assert_eq!(t.host(2, money("bet", "G-1", 50, None)), Outcome::Applied);
            assert_eq!(t.wallet(), (0, 150, 150));
            assert_eq!(
                t.host(999, money("deposit", "D-1", 1, None)),
                Outcome::Applied
            );
            assert_eq!(t.wallet(), (1, 150, 150));
            assert_eq!(
                t.host(1_000, money("deposit", "D-2", 1, None)),
                Outcome::Applied
            );
            assert_eq!(t.answer("D-2"), ((1, 2), Some((0, 0))));
            assert_eq!(t.wallet(), (2, 0, 0));
            assert_eq!(t.bonus().expired, 150);
            // A win named after the expiry: its bonus part (all of it) expires after it.
            assert_eq!(
                t.host(1_001, money("win", "W-1", 30, Some("G-1"))),
                Outcome::Applied
            );
            assert_eq!(t.answer("W-1"), ((0, 2), Some((0, 0))));
            assert_eq!(t.bonus().expired, 180);
            // A later award on an empty account: the later of the two expiries.
            assert_eq!(t.host(1_002, award("B-2", 100, 1, WEEK)), Outcome::Applied);
            assert_eq!(t.bonus().expires, START_MS + WEEK);
            assert_eq!(t.wallet(), (2, 100, 100));
            t.books();
        }

        /// W-12 `player_unknown`: an award to a player pitboss knows nothing of is refused
        /// (after the currency, before W-8 and W-9); each way a player becomes known, in
        /// its own wallet, and what does not make one known (readings: `Wallet::known`).
        #[test]
        fn an_award_to_a_player_pitboss_knows_nothing_of_is_refused() {
            use super::super::gen::{COOLING_OFF_MS, SESSION_BREAK_MS};
            use InputPayload as P;
            let eur = || CURRENCY.to_owned();
            let s = |x: &str| x.to_owned();
            let kyc = |p: &str, tx: &str, status: &str| P::KycStatus {
                player: s(p),
                tx: s(tx),
                status: s(status),
            };
            let deposit = |p: &str, tx: &str, amount: i64, currency: &str| P::Deposit {
                player: s(p),
                tx: s(tx),
                amount,
                currency: s(currency),
                round: None,
            };
            let bet = |p: &str, tx: &str, amount: i64| P::WalletBet {
                player: s(p),
                tx: s(tx),
                amount,
                currency: eur(),
                round: None,
            };
            let win = |p: &str, tx: &str, bet_tx: Option<&str>| P::WalletWin {
                player: s(p),
                tx: s(tx),
                amount: 100,
                currency: eur(),
                bet_tx: bet_tx.map(s),
                round: None,
            };
            let deposit_limit = |p: &str, tx: &str, amount: Option<i64>| P::DepositLimit {
                player: s(p),
                tx: s(tx),
                period: s("day"),
                amount,
                currency: amount.map(|_| eur()),
            };
            let fact = |p: &str, transfer: &str, direction: &str| P::CashlessTransfer {
                transfer: s(transfer),
                player: s(p),
                direction: s(direction),
                amount: 100,
                currency: eur(),
                credit_type: None,
            };
            let award_to = |p: &str, tx: &str| P::BonusAward {
                player: s(p),
                tx: s(tx),
                amount: 100,
                currency: eur(),
                wagering: 1,
                expires_at: START_MS + WEEK,
            };
            // (player, what reaches its wallet first: (from a machine, time, the message,
            // its outcome), the award's outcome at 10 hours).
            type Step = (bool, i64, InputPayload, Outcome);
            const OK: Outcome = Outcome::Applied;
            let refused = Outcome::Refused;
            let hour = 3_600_000;
            let rows: Vec<(&str, Vec<Step>, Outcome)> = vec![
                // Nothing at all: a new id.
                ("U-new", vec![], refused("player_unknown")),
                // Only refused commands.
                (
                    "U-refused",
                    vec![
                        (
                            false,
                            1,
                            P::Withdraw {
                                player: s("U-refused"),
                                tx: s("1"),
                                amount: 100,
                                currency: eur(),
                                round: None,
                            },
                            refused("insufficient_funds"),
                        ),
                        (
                            false,
                            2,
                            bet("U-refused", "2", 5_000),
                            refused("insufficient_funds"),
                        ),
                        (
                            false,
                            3,
                            deposit("U-refused", "3", 100, "USD"),
                            refused("wrong_currency"),
                        ),
                        (
                            false,
                            4,
                            win("U-refused", "4", Some("9")),
                            refused("bet_unknown"),
                        ),
                        (
                            false,
                            5,
                            P::TransferCancel {
                                player: s("U-refused"),
                                tx: s("5"),
                                transfer: s("X-9"),
                            },
                            refused("transfer_not_held"),
                        ),
                        (
                            false,
                            6,
                            P::TransferRequest {
                                player: s("U-refused"),
                                tx: s("6"),
                                machine: s("M-1"),
                                amount: 100,
                                currency: eur(),
                                credit_type: None,
                            },
                            refused("insufficient_funds"),
                        ),
                        (
                            false,
                            7,
                            award_to("U-refused", "7"),
                            refused("player_unknown"),
                        ),
                    ],
                    refused("player_unknown"),
                ),
                // The KYC provider's `unverified`, or a status set back to it.
                (
                    "U-unverified",
                    vec![
                        (false, 1, kyc("U-unverified", "1", "unverified"), OK),
                        (false, 2, kyc("U-unverified", "2", "unverified"), OK),
                    ],
                    refused("player_unknown"),
                ),
                (
                    "U-unverified-again",
                    vec![
                        (false, 1, kyc("U-unverified-again", "1", "verified"), OK),
                        (false, 2, kyc("U-unverified-again", "2", "unverified"), OK),
                    ],
                    refused("player_unknown"),
                ),
                // A rollback of a bet never seen: answered with a refund of 0, it moved no
                // money.
                (
                    "U-rollback",
                    vec![(
                        false,
                        1,
                        P::Rollback {
                            player: s("U-rollback"),
                            tx: s("1"),
                            bet_tx: s("9"),
                            currency: eur(),
                            round: None,
                        },
                        OK,
                    )],
                    refused("player_unknown"),
                ),
                // Carded in at a machine, nothing played nor paid in: no wallet state.
                (
                    "U-carded",
                    vec![
                        (
                            true,
                            1,
                            P::CardIn {
                                player: s("U-carded"),
                            },
                            OK,
                        ),
                        (true, 2, P::CardOut {}, OK),
                    ],
                    refused("player_unknown"),
                ),
                // Known: a KYC status other than `unverified`.
                (
                    "K-verified",
                    vec![(false, 1, kyc("K-verified", "1", "verified"), OK)],
                    OK,
                ),
                (
                    "K-blocked",
                    vec![(false, 1, kyc("K-blocked", "1", "blocked"), OK)],
                    refused("player_blocked"),
                ),
                // Known: a money operation applied, on credit, a win naming no bet.
                (
                    "K-deposit",
                    vec![(false, 1, deposit("K-deposit", "1", 100, "EUR"), OK)],
                    OK,
                ),
                ("K-bet", vec![(false, 1, bet("K-bet", "1", 100), OK)], OK),
                ("K-win", vec![(false, 1, win("K-win", "1", None), OK)], OK),
                // Known: a limit, in force, or removed (none held: at once, or after its
                // cooling-off).
                (
                    "K-limit",
                    vec![(false, 1, deposit_limit("K-limit", "1", Some(500)), OK)],
                    OK,
                ),
                (
                    "K-limit-removed",
                    vec![(false, 1, deposit_limit("K-limit-removed", "1", None), OK)],
                    OK,
                ),
                (
                    "K-limit-removed-later",
                    vec![
                        (
                            false,
                            1,
                            deposit_limit("K-limit-removed-later", "1", Some(500)),
                            OK,
                        ),
                        (
                            false,
                            2,
                            deposit_limit("K-limit-removed-later", "2", None),
                            OK,
                        ),
                    ],
                    OK,
                ),
                (
                    "K-session-limit",
                    vec![(
                        false,
                        1,
                        P::SessionLimit {
                            player: s("K-session-limit"),
                            tx: s("1"),
                            minutes: Some(60),
                        },
                        OK,
                    )],
                    OK,
                ),
                // Known: a self-exclusion, in force (refused for it) or over.
                (
                    "K-excluded",
                    vec![(
                        false,
                        1,
                        P::SelfExclusion {
                            player: s("K-excluded"),
                            tx: s("1"),
                            until: START_MS + 11 * hour,
                        },
                        OK,
                    )],
                    refused("self_excluded"),
                ),
                (
                    "K-excluded-once",
                    vec![(
                        false,
                        1,
                        P::SelfExclusion {
                            player: s("K-excluded-once"),
                            tx: s("1"),
                            until: START_MS + hour,
                        },
                        OK,
                    )],
                    OK,
                ),
                // Known: a transfer from a machine, or one to a machine (its acknowledgement
                // waits for the request, then is unbacked).
                (
                    "K-from-machine",
                    vec![(true, 1, fact("K-from-machine", "X-1", "from_machine"), OK)],
                    OK,
                ),
                (
                    "K-to-machine",
                    vec![(true, 1, fact("K-to-machine", "X-2", "to_machine"), OK)],
                    OK,
                ),
                // Known: loyalty points of a rated session.
                (
                    "K-points",
                    vec![
                        (
                            true,
                            1,
                            P::CardIn {
                                player: s("K-points"),
                            },
                            OK,
                        ),
                        (
                            true,
                            2,
                            P::Bet {
                                amount: 1_000,
                                currency: eur(),
                            },
                            OK,
                        ),
                        (true, 3, P::CardOut {}, OK),
                    ],
                    OK,
                ),
                // Known: patron cash, a bill taken while carded in.
                (
                    "K-bill",
                    vec![
                        (
                            true,
                            1,
                            P::CardIn {
                                player: s("K-bill"),
                            },
                            OK,
                        ),
                        (
                            true,
                            2,
                            P::CashIn {
                                kind: s("bill"),
                                amount: 1_000,
                                currency: eur(),
                                validation: None,
                                credit_type: None,
                            },
                            OK,
                        ),
                        (true, 3, P::CardOut {}, OK),
                    ],
                    OK,
                ),
                // Known: a bonus, awarded while verified, the status set back since.
                (
                    "K-bonus",
                    vec![
                        (false, 1, kyc("K-bonus", "1", "verified"), OK),
                        (false, 2, award_to("K-bonus", "2"), OK),
                        (false, 3, kyc("K-bonus", "3", "unverified"), OK),
                    ],
                    OK,
                ),
            ];
            assert!(SESSION_BREAK_MS < hour && COOLING_OFF_MS < 9 * hour);
            for (player, steps, want) in rows {
                let mut t = T::new(false);
                for (i, (machine, at, payload, outcome)) in steps.into_iter().enumerate() {
                    let got = t.send(machine, 2, at, payload);
                    assert_eq!(got, outcome, "{player}: step {i}");
                }
                let award = award_to(player, "A");
                assert_eq!(t.host(10 * hour, award), want, "{player}");
                // A repeat of the refusal is the same refusal, known or not since (W-2).
                if want == refused("player_unknown") {
                    let verified = kyc(player, "V", "verified");
                    assert_eq!(t.host(10 * hour + 1, verified), OK, "{player}");
                    let again = award_to(player, "A");
                    assert_eq!(t.host(10 * hour + 2, again), Outcome::Repeat, "{player}");
                    let key = (s(player), s("GS-1"), s("A"));
                    assert_eq!(t.m.answers[&key], Answer::Refused("player_unknown"));
                    let known = award_to(player, "B");
                    assert_eq!(t.host(10 * hour + 3, known), OK, "{player}");
                }
                // The currency is checked first.
                let other = P::BonusAward {
                    player: s(player),
                    tx: s("C"),
                    amount: 100,
                    currency: s("USD"),
                    wagering: 1,
                    expires_at: START_MS + WEEK,
                };
                let code = t.host(10 * hour + 4, other);
                assert_eq!(code, refused("wrong_currency"), "{player}");
            }
        }

        #[test]
        fn bonus_first_draws_the_bonus_before_the_cash() {
            let mut t = T::new(true);
            assert_eq!(
                t.host(0, money("deposit", "D-1", 1_000, None)),
                Outcome::Applied
            );
            assert_eq!(t.host(1, award("B-1", 300, 1, WEEK)), Outcome::Applied);
            assert_eq!(t.host(2, money("bet", "G-1", 200, None)), Outcome::Applied);
            assert_eq!(t.answer("G-1"), ((0, 1_000), Some((-200, 100))));
            assert_eq!(t.host(3, money("bet", "G-2", 150, None)), Outcome::Applied);
            // 100 of bonus, 50 of cash; the wagering is met with nothing left to convert.
            assert_eq!(t.answer("G-2"), ((-50, 950), Some((-100, 0))));
            assert_eq!(t.wallet(), (950, 0, 0));
            // The win of G-2 is two thirds bonus (floor(100 x 100 / 150) = 66), which
            // converts at once: nothing is left to wager.
            assert_eq!(
                t.host(4, money("win", "W-1", 100, Some("G-2"))),
                Outcome::Applied
            );
            assert_eq!(t.answer("W-1"), ((100, 1_050), Some((0, 0))));
            assert_eq!(t.bonus().converted, 66);
            t.books();
        }

        /// W-12: "after ... a transfer ... changes the account": what a settlement gives
        /// back to a bonus with nothing left to wager becomes cash at once, and the
        /// settlement's balance is after it.
        #[test]
        fn what_a_settlement_gives_back_to_a_wagered_bonus_converts_at_once() {
            let mut t = T::new(false);
            t.host(0, money("deposit", "D-1", 1_000, None));
            t.host(0, award("A-1", 100, 1, WEEK));
            t.host(0, request("T-1", 100, Some("restricted")));
            assert_eq!(t.host(1, money("bet", "B-1", 100, None)), Outcome::Applied);
            assert_eq!(t.wallet(), (900, 0, 0));
            assert_eq!(t.took(2, "T-1", 60, Some("restricted")), Outcome::Applied);
            assert_eq!(t.wallet(), (940, 0, 0));
            let row = t.m.transfers.last().expect("settled").clone();
            assert_eq!((row.delta, row.balance), (40, 940));
            assert_eq!(t.bonus().converted, 40);
        }

        #[test]
        fn restricted_transfers_hold_the_bonus_and_pay_only_their_own_type() {
            let mut t = T::new(false);
            assert_eq!(
                t.host(0, money("deposit", "D-1", 1_000, None)),
                Outcome::Applied
            );
            assert_eq!(t.host(1, award("B-1", 1_000, 5, WEEK)), Outcome::Applied);
            // Held from the bonus, taken for less: the rest goes back to the bonus.
            assert_eq!(
                t.host(2, request("X-1", 300, Some("restricted"))),
                Outcome::Applied
            );
            assert_eq!(t.answer("X-1"), ((0, 1_000), Some((-300, 700))));
            assert_eq!(t.m.wallets()[PLAYER].restricted_held, 300);
            assert_eq!(t.took(3, "X-1", 250, Some("restricted")), Outcome::Applied);
            assert_eq!(t.wallet(), (1_000, 750, 5_000));
            let row = t.m.transfers.last().expect("settled").clone();
            assert!(row.restricted);
            assert_eq!((row.held, row.delta, row.unbacked), (300, 50, 0));
            assert_eq!(t.m.machines()["M-1"].meters["restricted_in"], 250);
            assert_eq!(t.m.machines()["M-1"].meters["cashless_in"], 0);
            assert_eq!(t.bonus().to_machines, 250);
            // A restricted hold acknowledged as cashable credits: the hold stays, the cash
            // pays (no hold), and the cancel gives the hold back to the bonus.
            assert_eq!(
                t.host(4, request("X-2", 100, Some("restricted"))),
                Outcome::Applied
            );
            assert_eq!(t.took(5, "X-2", 100, None), Outcome::Applied);
            assert_eq!(t.wallet(), (900, 650, 5_000));
            assert_eq!(t.m.alerts.get("transfer_without_hold"), Some(&1));
            assert_eq!(
                t.host(
                    6,
                    InputPayload::TransferCancel {
                        player: PLAYER.to_owned(),
                        tx: "C-1".to_owned(),
                        transfer: "X-2".to_owned(),
                    }
                ),
                Outcome::Applied
            );
            assert_eq!(t.answer("C-1"), ((0, 900), Some((100, 750))));
            // A cashable hold acknowledged as restricted credits beyond the bonus: the
            // bonus pays what it has, the rest is unbacked; the cash hold lapses.
            assert_eq!(
                t.host(7, request("X-3", 200, Some("cashable"))),
                Outcome::Applied
            );
            assert_eq!(t.took(8, "X-3", 800, Some("restricted")), Outcome::Applied);
            assert_eq!(t.wallet(), (700, 0, 5_000));
            assert_eq!(t.m.wallets()[PLAYER].unbacked, 50);
            let after = 7 + TRANSFER_HOLD_MS + 1;
            assert_eq!(
                t.host(after, money("deposit", "D-2", 1, None)),
                Outcome::Applied
            );
            assert_eq!(t.wallet(), (901, 0, 5_000));
            // The bonus never pays beyond itself.
            assert_eq!(
                t.host(after + 1, request("X-4", 1, Some("restricted"))),
                Outcome::Refused("insufficient_funds")
            );
            // A restricted hold that lapses goes back to the bonus.
            assert_eq!(
                t.host(after + 2, award("B-2", 100, 1, WEEK)),
                Outcome::Applied
            );
            assert_eq!(
                t.host(after + 3, request("X-5", 60, Some("restricted"))),
                Outcome::Applied
            );
            let later = after + 4 + TRANSFER_HOLD_MS;
            assert_eq!(
                t.host(later, money("deposit", "D-3", 1, None)),
                Outcome::Applied
            );
            assert_eq!(t.wallet(), (902, 100, 100));
            assert_eq!(t.m.wallets()[PLAYER].held, 0);
            t.books();
            // Wire: other credit types, and restricted credits from a machine, are not
            // events in version 2; version 1 ignores the credit type.
            assert_eq!(
                t.host(later + 1, request("X-6", 10, Some("nonrestricted"))),
                Outcome::Rejected("malformed")
            );
            let from = |ct: &str| InputPayload::CashlessTransfer {
                transfer: "X-7".to_owned(),
                player: PLAYER.to_owned(),
                direction: "from_machine".to_owned(),
                amount: 10,
                currency: CURRENCY.to_owned(),
                credit_type: Some(ct.to_owned()),
            };
            assert_eq!(
                t.send(true, 2, later + 2, from("restricted")),
                Outcome::Rejected("malformed")
            );
            assert_eq!(
                t.send(true, 1, later + 3, from("restricted")),
                Outcome::Applied
            );
            assert_eq!(
                t.send(false, 1, later + 4, request("X-8", 10, Some("restricted"))),
                Outcome::Applied
            );
            assert_eq!(t.wallet(), (902, 100, 100));
            t.books();
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
