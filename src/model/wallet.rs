//! The W rules: keys, repeats and conflicts, debits, settling and rolling back bets.

use super::entities::{BetState, Record};
use super::state::Model;
use super::types::{Answer, Outcome, Totals};
use super::validate::{WalletEvent, WalletOpModel};

impl Model {
    pub(super) fn apply_wallet(&mut self, ev: WalletEvent) -> Outcome {
        let credit_line = self.cfg.credit_line;
        let kyc_max = self.cfg.kyc_withdrawal_max;
        let network = self.cfg.currency.clone();
        let w = self.wallets.entry(ev.player.clone()).or_default();
        let key = (ev.provider.clone(), ev.tx.clone());
        let answer_key = (ev.player.clone(), ev.provider.clone(), ev.tx.clone());
        let tombstoned = match w.records.get(&key) {
            // W-2: same content (operation, amount, currency, bet, round) is a repeat, other
            // content a conflict.
            Some(Record::Answered {
                op,
                currency,
                round,
                ..
            }) => {
                return if *op == ev.op && *currency == ev.currency && *round == ev.round {
                    Outcome::Repeat
                } else {
                    Outcome::Refused("tx_conflict")
                };
            }
            // W-5: a tombstone refuses the bet it was left for, and nothing else fits it.
            Some(Record::Tombstone) if !matches!(ev.op, WalletOpModel::Bet(_)) => {
                return Outcome::Refused("tx_conflict");
            }
            Some(Record::Tombstone) => true,
            None => false,
        };
        // E-3 is for machine clocks: a wallet command is booked at its time as sent.
        let booked = ev.time;
        let w = self.wallets.get_mut(&ev.player).expect("exists");
        let mut bet_state = None;
        let mut revenue: Option<(String, i64, Totals)> = None;
        let answer = if tombstoned {
            Answer::Refused("bet_rolled_back")
        } else if !matches!(ev.op, WalletOpModel::Kyc(_)) && ev.currency != network {
            // E-4 (a KYC status names no currency).
            Answer::Refused("wrong_currency")
        } else {
            let v = &mut w.view;
            // W-8: who is blocked may not pay in, take out or stake; who is not verified may
            // not take out more than the limit. Wins and rollbacks are never held back.
            let status = if v.kyc.is_empty() {
                "unverified"
            } else {
                v.kyc.as_str()
            };
            let refusal = match &ev.op {
                WalletOpModel::Deposit(_) | WalletOpModel::Bet(_) | WalletOpModel::Withdraw(_)
                    if status == "blocked" =>
                {
                    Some("player_blocked")
                }
                WalletOpModel::Withdraw(a)
                    if status != "verified" && kyc_max.is_some_and(|max| *a > max) =>
                {
                    Some("kyc_required")
                }
                _ => None,
            };
            if let Some(code) = refusal {
                Answer::Refused(code)
            } else {
                match &ev.op {
                    WalletOpModel::Kyc(s) => {
                        v.kyc = s.clone();
                        Answer::Applied {
                            delta: 0,
                            balance: v.balance,
                        }
                    }
                    WalletOpModel::Deposit(a) => match v.balance.checked_add(*a) {
                        None => Answer::Refused("overflow"),
                        Some(b) => {
                            v.balance = b;
                            v.deposits += a;
                            Answer::Applied {
                                delta: *a,
                                balance: b,
                            }
                        }
                    },
                    // W-3: a withdrawal never draws on credit.
                    WalletOpModel::Withdraw(a) => {
                        if *a > v.balance {
                            Answer::Refused("insufficient_funds")
                        } else {
                            v.balance -= a;
                            v.withdrawals += a;
                            Answer::Applied {
                                delta: -a,
                                balance: v.balance,
                            }
                        }
                    }
                    // W-3: a bet may use the credit line.
                    WalletOpModel::Bet(a) => {
                        if *a > v.balance + credit_line {
                            Answer::Refused("insufficient_funds")
                        } else {
                            v.balance -= a;
                            v.bets += a;
                            bet_state = Some((BetState::Open, booked, ev.hall.clone()));
                            revenue = Some((
                                ev.hall.clone(),
                                booked,
                                Totals {
                                    bets: *a,
                                    ..Totals::default()
                                },
                            ));
                            Answer::Applied {
                                delta: -a,
                                balance: v.balance,
                            }
                        }
                    }
                    // W-4.
                    WalletOpModel::Win(a, bet_tx) => {
                        let check = match bet_tx {
                            None => Ok(None),
                            Some(b) => {
                                let bkey = (ev.provider.clone(), b.clone());
                                match w.records.get(&bkey) {
                                    None => Err("bet_unknown"),
                                    Some(Record::Tombstone) => Err("bet_rolled_back"),
                                    Some(Record::Answered {
                                        op, answer, bet, ..
                                    }) => match (op, answer, bet) {
                                        (WalletOpModel::Bet(_), Answer::Refused(_), _) => {
                                            Err("bet_not_accepted")
                                        }
                                        (
                                            WalletOpModel::Bet(_),
                                            _,
                                            Some((BetState::RolledBack, _, _)),
                                        ) => Err("bet_rolled_back"),
                                        (WalletOpModel::Bet(_), _, Some(_)) => Ok(Some(bkey)),
                                        _ => Err("bet_unknown"),
                                    },
                                }
                            }
                        };
                        match check {
                            Err(code) => Answer::Refused(code),
                            Ok(settles) => match w.view.balance.checked_add(*a) {
                                None => Answer::Refused("overflow"),
                                Some(b) => {
                                    w.view.balance = b;
                                    w.view.wins += a;
                                    if let Some(bkey) = settles {
                                        if let Some(Record::Answered { bet: Some(s), .. }) =
                                            w.records.get_mut(&bkey)
                                        {
                                            s.0 = BetState::Settled;
                                        }
                                    }
                                    revenue = Some((
                                        ev.hall.clone(),
                                        booked,
                                        Totals {
                                            wins: *a,
                                            ..Totals::default()
                                        },
                                    ));
                                    Answer::Applied {
                                        delta: *a,
                                        balance: b,
                                    }
                                }
                            },
                        }
                    }
                    // W-5.
                    WalletOpModel::Rollback(b) => {
                        let bkey = (ev.provider.clone(), b.clone());
                        let balance = w.view.balance;
                        match w.records.get_mut(&bkey) {
                            None => {
                                w.records.insert(bkey, Record::Tombstone);
                                Answer::Applied { delta: 0, balance }
                            }
                            Some(Record::Tombstone) => Answer::Applied { delta: 0, balance },
                            Some(Record::Answered {
                                op, answer, bet, ..
                            }) => match (op, answer, bet) {
                                (WalletOpModel::Bet(_), Answer::Refused(_), _) => {
                                    Answer::Applied { delta: 0, balance }
                                }
                                (WalletOpModel::Bet(a), _, Some(state)) => match state.0 {
                                    BetState::RolledBack => Answer::Applied { delta: 0, balance },
                                    BetState::Settled => Answer::Refused("bet_settled"),
                                    BetState::Open => {
                                        let a = *a;
                                        state.0 = BetState::RolledBack;
                                        let (bet_time, bet_hall) = (state.1, state.2.clone());
                                        w.view.balance += a;
                                        w.view.refunds += a;
                                        revenue = Some((
                                            bet_hall,
                                            bet_time,
                                            Totals {
                                                bets: -a,
                                                ..Totals::default()
                                            },
                                        ));
                                        Answer::Applied {
                                            delta: a,
                                            balance: w.view.balance,
                                        }
                                    }
                                },
                                _ => Answer::Refused("rollback_of_non_bet"),
                            },
                        }
                    }
                }
            }
        };
        let w = self.wallets.get_mut(&ev.player).expect("exists");
        w.records.insert(
            key,
            Record::Answered {
                op: ev.op.clone(),
                currency: ev.currency.clone(),
                round: ev.round.clone(),
                answer: answer.clone(),
                bet: bet_state,
            },
        );
        // W-6: the answer echoes the command's round.
        if let Some(r) = &ev.round {
            self.rounds.insert(answer_key.clone(), r.clone());
        }
        self.answers.insert(answer_key, answer.clone());
        if let Some((hall, time, delta)) = revenue {
            self.book(&hall, time, delta);
        }
        match answer {
            Answer::Applied { .. } => Outcome::Applied,
            Answer::Refused(code) => Outcome::Refused(code),
        }
    }
}
