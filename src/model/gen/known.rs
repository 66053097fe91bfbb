//! Bonus awards to players pitboss knows nothing of (RULES.md W-12, `player_unknown`) mixed
//! into generated streams, each to a wallet of its own (nobody else's commands reach it): a
//! new player id; a player whose only commands so far were refused (or rejected at the
//! wire); one the KYC provider only called `unverified` (or set back to it); one whose only
//! command was a rollback of a bet never seen (a refund of 0); one carded in at a machine
//! with nothing played or paid in. And awards to players made known in each way the rule
//! names: a money operation applied (a deposit, a bet on the credit line, a win naming no
//! bet), a KYC status other than `unverified` (`blocked`: refused for that), a limit (set,
//! or removed), a self-exclusion (in force: refused for that; over), a bonus, and, with
//! machines' facts in the stream, a transfer (from a machine, or to one, waiting for its
//! request), loyalty points and patron cash. Now and then the refused award is sent again
//! once the player is known (a repeat: the same refusal, W-2) and a new one follows.
//!
//! Like the rest of the generator it knows nothing of the outcomes: the model decides which
//! awards are refused. Its own random draws, so that adding it left the rest of every seed's
//! draws as they were (but for the machines its players are carded in at or transfer with).

use rand::Rng;

use crate::wire::InputPayload;

use super::bonus::{award, PROMOS};
use super::{deposit_limit, kyc, loss_limit, rollback, self_exclusion, session_limit, wallet};
use super::{World, COOLING_OFF_MS, CURRENCY};

/// A week: an award that outlives any stream.
const WEEK_MS: i64 = 7 * 86_400_000;

/// A wallet of the flow's own: its id, version, last tx number, and how far ahead of the
/// stream's time the wallet's commands are dated.
struct Own {
    id: String,
    v2: bool,
    tx: u32,
    ahead: i64,
}

impl Own {
    fn tx(&mut self) -> String {
        self.tx += 1;
        format!("TU-{}", self.tx)
    }
}

/// How a flow leaves the player before the award: `true` when the generator means it known.
type Known = bool;

impl World {
    /// One award to a player the flow made known, or not, first. With `machines` false only
    /// the ways that need no machine's fact reaching the wallet (whose order with the
    /// wallet's commands a consumer of several partitions does not keep).
    pub(super) fn unknown_player_award(&mut self, machines: bool) {
        self.bonus_serial += 1;
        let mut o = Own {
            id: format!("P-U{:04}", self.bonus_serial),
            v2: self.known_rng.gen_bool(0.5),
            tx: 0,
            ahead: 0,
        };
        // Each way in turn, so that every stream carries them all.
        let ways = if machines { 20 } else { 16 };
        self.known_turn += 1;
        let known = match self.known_turn % ways {
            0 => {
                self.case("bonus_unknown_new");
                false
            }
            1 => self.only_refused(&mut o),
            2 => {
                self.case("bonus_unknown_unverified");
                for _ in 0..self.known_rng.gen_range(1..3) {
                    let tx = o.tx();
                    self.send_own(&o, "KYC-1", kyc(&o.id, &tx, "unverified"));
                }
                false
            }
            3 => {
                // Verified once, set back: the status held is `unverified`.
                self.case("bonus_unknown_unverified_again");
                let tx = o.tx();
                self.send_own(&o, "KYC-1", kyc(&o.id, &tx, "verified"));
                let tx = o.tx();
                self.send_own(&o, "KYC-1", kyc(&o.id, &tx, "unverified"));
                false
            }
            4 => self.limit_removed(&mut o),
            5 => self.carded_in_only(&o),
            6 => {
                self.case("bonus_known_by_deposit");
                let tx = o.tx();
                let a = self.known_rng.gen_range(1..50) * 100;
                self.send_own(&o, "PSP-1", wallet("deposit", &o.id, &tx, a, None));
                true
            }
            7 => {
                // On the credit line: no money in, a money operation all the same.
                self.case("bonus_known_by_bet");
                let tx = o.tx();
                let prov = self.providers[self.known_rng.gen_range(0..2)].clone();
                self.send_own(&o, &prov, wallet("wallet_bet", &o.id, &tx, 100, None));
                true
            }
            8 => {
                // A win naming no bet (W-4).
                self.case("bonus_known_by_win");
                let tx = o.tx();
                let prov = self.providers[self.known_rng.gen_range(0..2)].clone();
                self.send_own(&o, &prov, wallet("wallet_win", &o.id, &tx, 250, None));
                true
            }
            9 => {
                // A rollback of a bet never seen: answered with a refund of 0 (W-5), no
                // money moved.
                self.case("bonus_unknown_rollback");
                let tx = o.tx();
                let prov = self.providers[self.known_rng.gen_range(0..2)].clone();
                self.send_own(&o, &prov, rollback(&o.id, &tx, "TU-never"));
                false
            }
            10 => {
                self.case("bonus_known_by_kyc");
                let tx = o.tx();
                self.send_own(&o, "KYC-1", kyc(&o.id, &tx, "verified"));
                true
            }
            11 => {
                // Known, and refused for the block (W-8).
                self.case("bonus_known_blocked");
                let tx = o.tx();
                self.send_own(&o, "KYC-1", kyc(&o.id, &tx, "blocked"));
                true
            }
            12 => {
                self.case("bonus_known_by_limit");
                let tx = o.tx();
                let period = ["day", "week", "month"][self.known_rng.gen_range(0..3)];
                let limit = match self.known_rng.gen_range(0..3) {
                    0 => deposit_limit(&o.id, &tx, period, Some(5_000)),
                    1 => loss_limit(&o.id, &tx, period, Some(5_000)),
                    _ => session_limit(&o.id, &tx, Some(60)),
                };
                self.send_own(&o, "RG-1", limit);
                true
            }
            13 => {
                // Known, and refused for the exclusion in force (W-9).
                self.case("bonus_known_self_excluded");
                let tx = o.tx();
                let until = self.now + 60_000;
                self.send_own(&o, "RG-1", self_exclusion(&o.id, &tx, until));
                true
            }
            14 => {
                // An exclusion of a millisecond, over when the award comes.
                self.case("bonus_known_by_past_exclusion");
                let tx = o.tx();
                let until = self.now + 1;
                self.send_own(&o, "RG-1", self_exclusion(&o.id, &tx, until));
                o.ahead = 2;
                true
            }
            15 => {
                // A bonus awarded while verified, the status set back since: the bonus
                // account keeps the player known.
                self.case("bonus_known_by_bonus");
                let tx = o.tx();
                self.send_own(&o, "KYC-1", kyc(&o.id, &tx, "verified"));
                let tx = o.tx();
                let at = self.now + WEEK_MS;
                self.send_own(&o, PROMOS, award(&o.id, &tx, 300, 1, at));
                let tx = o.tx();
                self.send_own(&o, "KYC-1", kyc(&o.id, &tx, "unverified"));
                true
            }
            16 => self.known_by_transfer(&o, true),
            17 => self.known_by_transfer(&o, false),
            18 => self.known_by_points(&mut o),
            _ => self.known_by_patron_cash(&mut o),
        };
        let tx = o.tx();
        let at = self.now + o.ahead + WEEK_MS;
        let first = award(&o.id, &tx, self.known_rng.gen_range(1..20) * 50, 2, at);
        self.send_own(&o, PROMOS, first.clone());
        if !known && self.known_rng.gen_bool(0.4) {
            // Known now (the KYC provider's word), the same award again: a repeat of its
            // refusal (W-2); a new award is applied.
            self.case("bonus_unknown_repeated_once_known");
            let tx = o.tx();
            self.send_own(&o, "KYC-1", kyc(&o.id, &tx, "verified"));
            self.send_own(&o, PROMOS, first);
            let tx = o.tx();
            self.send_own(&o, PROMOS, award(&o.id, &tx, 100, 1, at));
        }
    }

    /// Commands the wallet refuses (or the wire rejects), then the award: none of them
    /// makes the player known.
    fn only_refused(&mut self, o: &mut Own) -> Known {
        self.case("bonus_unknown_after_refusals");
        let prov = self.providers[self.known_rng.gen_range(0..2)].clone();
        for _ in 0..self.known_rng.gen_range(1..4) {
            let tx = o.tx();
            let (sender, payload) = match self.known_rng.gen_range(0..8) {
                // Nothing to take out.
                0 => ("PSP-1", wallet("withdraw", &o.id, &tx, 500, None)),
                // Beyond the credit line.
                1 => (
                    prov.as_str(),
                    wallet("wallet_bet", &o.id, &tx, 100_000, None),
                ),
                // Another currency.
                2 => {
                    let mut d = wallet("deposit", &o.id, &tx, 500, None);
                    if let InputPayload::Deposit { currency, .. } = &mut d {
                        *currency = "USD".to_owned();
                    }
                    ("PSP-1", d)
                }
                // Naming a bet never seen.
                3 => (
                    prov.as_str(),
                    wallet("wallet_win", &o.id, &tx, 100, Some("TU-never".to_owned())),
                ),
                // Nothing held, nothing to hold.
                4 => (
                    "AFT-2",
                    InputPayload::TransferCancel {
                        player: o.id.clone(),
                        tx,
                        transfer: "TU-none".to_owned(),
                    },
                ),
                5 => (
                    "AFT-2",
                    InputPayload::TransferRequest {
                        player: o.id.clone(),
                        tx,
                        machine: self.machines[0].id.clone(),
                        amount: 100,
                        currency: CURRENCY.to_owned(),
                        credit_type: None,
                    },
                ),
                // An award: refused `player_unknown` itself.
                6 => (PROMOS, award(&o.id, &tx, 100, 1, self.now + WEEK_MS)),
                // Not an event: a status no rule names.
                _ => ("KYC-1", kyc(&o.id, &tx, "gold")),
            };
            let sender = sender.to_owned();
            self.send_own(o, &sender, payload);
        }
        false
    }

    /// A limit removed: none held (at once), or one set and removed, the removal waiting
    /// out the cooling-off before the award (the promotions system's clock ahead of the
    /// stream's, as a game server's may be: a wallet command is booked at its time as
    /// sent). The player's limits are known to pitboss, none held or not.
    fn limit_removed(&mut self, o: &mut Own) -> Known {
        self.case("bonus_known_by_limit_removed");
        let tx = o.tx();
        self.send_own(o, "RG-1", deposit_limit(&o.id, &tx, "day", None));
        if self.known_rng.gen_bool(0.5) {
            let tx = o.tx();
            self.send_own(o, "RG-1", deposit_limit(&o.id, &tx, "day", Some(1_000)));
            let tx = o.tx();
            self.send_own(o, "RG-1", deposit_limit(&o.id, &tx, "day", None));
            // The award, and whatever follows for this wallet, an hour ahead.
            o.ahead = COOLING_OFF_MS + 1;
        }
        true
    }

    /// A machine the flows may card a player of their own in at: nobody carded in, switched
    /// on and talking; `idle`: no game open and no events held back (a late bet released
    /// meanwhile would count in the session).
    fn free_machine(&mut self, idle: bool) -> Option<usize> {
        let free: Vec<usize> = (0..self.machines.len())
            .filter(|m| {
                let m = &self.machines[*m];
                m.carded.is_none()
                    && !m.offline
                    && !m.powered_off
                    && (!idle || (!m.game_open && m.held.is_empty()))
            })
            .collect();
        (!free.is_empty()).then(|| free[self.known_rng.gen_range(0..free.len())])
    }

    /// Carded in and out at a machine with nothing played or paid in: a card-in creates no
    /// wallet (W-9), the session earns no points (M-12).
    fn carded_in_only(&mut self, o: &Own) -> Known {
        let Some(m) = self.free_machine(true) else {
            self.case("bonus_unknown_new");
            return false;
        };
        self.case("bonus_unknown_carded_in");
        let player = o.id.clone();
        self.send_machine(m, InputPayload::CardIn { player });
        self.send_machine(m, InputPayload::CardOut {});
        false
    }

    /// A machine's transfer: from the machine (its credits reach the wallet), or to it (the
    /// acknowledgement waits for a request that never comes).
    fn known_by_transfer(&mut self, o: &Own, from: bool) -> Known {
        let m = self.known_rng.gen_range(0..self.machines.len());
        let id = self.transfers.next_id();
        let credits = self.machines[m].credits;
        let (direction, amount) = if credits >= 100 && from {
            self.case("bonus_known_by_transfer");
            self.machines[m].credits -= credits.min(1_000);
            ("from_machine", credits.min(1_000))
        } else {
            self.case("bonus_known_by_waiting_transfer");
            self.machines[m].credits += 200;
            ("to_machine", 200)
        };
        let fact = InputPayload::CashlessTransfer {
            transfer: id,
            player: o.id.clone(),
            direction: direction.to_owned(),
            amount,
            currency: CURRENCY.to_owned(),
            credit_type: None,
        };
        self.send_machine(m, fact);
        true
    }

    /// A rated session with play: its points reach the wallet (M-12).
    fn known_by_points(&mut self, o: &mut Own) -> Known {
        let Some(m) = self
            .free_machine(false)
            .filter(|m| self.machines[*m].credits >= 500)
        else {
            return self.known_by_patron_cash(o);
        };
        self.case("bonus_known_by_points");
        let player = o.id.clone();
        self.send_machine(m, InputPayload::CardIn { player });
        let bet = 500;
        // M-13: restricted promotional credits pay first.
        let promo = self.machines[m].restricted.min(bet);
        self.machines[m].restricted -= promo;
        self.machines[m].credits -= bet - promo;
        self.send_machine(
            m,
            InputPayload::Bet {
                amount: bet,
                currency: CURRENCY.to_owned(),
            },
        );
        self.send_machine(m, InputPayload::GameEnd {});
        self.send_machine(m, InputPayload::CardOut {});
        true
    }

    /// A bill taken while carded in: the player's cash in (W-11).
    fn known_by_patron_cash(&mut self, o: &mut Own) -> Known {
        let Some(m) = self.free_machine(false) else {
            // No machine free: a deposit, a money operation and patron cash too.
            self.case("bonus_known_by_deposit");
            let tx = o.tx();
            self.send_own(o, "PSP-1", wallet("deposit", &o.id, &tx, 500, None));
            return true;
        };
        self.case("bonus_known_by_patron_cash");
        let player = o.id.clone();
        self.send_machine(m, InputPayload::CardIn { player });
        let bill = [1_000, 2_000, 5_000][self.known_rng.gen_range(0..3)];
        self.machines[m].credits += bill;
        self.send_machine(
            m,
            InputPayload::CashIn {
                kind: "bill".to_owned(),
                amount: bill,
                currency: CURRENCY.to_owned(),
                validation: None,
                credit_type: None,
            },
        );
        self.send_machine(m, InputPayload::CardOut {});
        true
    }

    /// A command for the flow's own wallet, dated as far ahead as the wallet's are.
    fn send_own(&mut self, o: &Own, provider: &str, payload: InputPayload) {
        let now = self.now;
        self.now = now + o.ahead;
        self.own(provider, payload, o.v2);
        self.now = now;
    }
}
