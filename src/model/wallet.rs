//! The W rules: keys, repeats and conflicts, debits, settling and rolling back bets.

use super::entities::{Bet, BetState, Record};
use super::state::Model;
use super::types::{Answer, MoveRow, Outcome, Totals, TransferRow, TRANSFER_ACKS_KEPT};
use super::validate::{WalletEvent, WalletOpModel};

impl Model {
    pub(super) fn apply_wallet(&mut self, ev: WalletEvent) -> Outcome {
        let credit_line = self.cfg.credit_line;
        let kyc_max = self.cfg.kyc_withdrawal_max;
        let cooling_off = self.cfg.cooling_off_ms;
        let zone = self.cfg.limits_time_zone.clone();
        let network = self.cfg.currency.clone();
        let hold_ms = self.cfg.transfer_hold_ms;
        let session_break = self.cfg.session_break_ms;
        let bonus_first = self.cfg.bonus_first;
        // D-10: a deposit or withdrawal whose provider is a listed cash desk is cash at it.
        let at_desk = self.cfg.cash_desks.contains(&ev.provider);
        self.wallets.entry(ev.player.clone()).or_default();
        // W-10: before anything (a repeat and a conflict too), the holds whose time has
        // passed go back; W-12: and a bonus whose expiry has come is gone.
        self.lapse_holds(&ev.player, ev.time);
        let w = self.wallets.get_mut(&ev.player).expect("exists");
        // W-12: the answer's changes are counted from here.
        let (cash_before, bonus_before) = (w.view.balance, w.bonus_balance());
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
        let mut won_back = 0;
        // W-12: what the command did with bonus money, counted for the reports.
        let mut tags: Vec<&'static str> = Vec::new();
        let mut revenue: Option<(String, i64, Totals)> = None;
        let answer = if tombstoned {
            Answer::Refused("bet_rolled_back")
        } else if !ev.currency.is_empty() && ev.currency != network {
            // E-4 (a KYC status, a self-exclusion or a limit removed names no currency).
            Answer::Refused("wrong_currency")
        } else {
            // W-12: an award to a player pitboss knows nothing of is refused first (after
            // the currency, before W-8 and W-9). `Wallet::known` holds the readings of what
            // makes a player known.
            let unknown = matches!(ev.op, WalletOpModel::BonusAward(..)) && !w.known();
            let v = &mut w.view;
            // W-8: who is blocked may not pay in, take out or stake; who is not verified may
            // not take out more than the limit. Wins and rollbacks are never held back.
            let status = if v.kyc.is_empty() {
                "unverified"
            } else {
                v.kyc.as_str()
            };
            let refusal = match &ev.op {
                WalletOpModel::Deposit(_)
                | WalletOpModel::Bet(_)
                | WalletOpModel::Withdraw(_)
                | WalletOpModel::TransferRequest(..)
                | WalletOpModel::BonusAward(..)
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
            let refusal = if unknown {
                Some("player_unknown")
            } else {
                refusal
            };
            // W-9: changes whose cooling-off has passed are in force; then a self-excluded
            // player may not pay in or stake, a deposit may not take a period's deposits
            // above its limit, and a bet may not take a period's loss (were it lost) above
            // its limit.
            let now = ev.time;
            let due: Vec<(String, String)> = w
                .waiting
                .iter()
                .filter(|(_, (_, from))| *from <= now)
                .map(|(p, _)| p.clone())
                .collect();
            for p in due {
                if let Some((limit, _)) = w.waiting.remove(&p) {
                    match limit {
                        Some(l) => w.limits.insert(p, l),
                        None => w.limits.remove(&p),
                    };
                }
            }
            let excluded = w.excluded_until.filter(|until| now < *until);
            let mut counted: Vec<(String, i64, i64)> = Vec::new();
            let refusal = refusal.or_else(|| match &ev.op {
                WalletOpModel::Deposit(_)
                | WalletOpModel::Bet(_)
                | WalletOpModel::TransferRequest(..)
                | WalletOpModel::BonusAward(..)
                    if excluded.is_some() =>
                {
                    Some("self_excluded")
                }
                WalletOpModel::Deposit(a) | WalletOpModel::Bet(a) => {
                    let (kind, sums, code) = match &ev.op {
                        WalletOpModel::Deposit(_) => ("deposit", &w.deposits_in, "limit_deposit"),
                        _ => ("loss", &w.losses_in, "limit_loss"),
                    };
                    counted = in_periods(sums, &zone, now);
                    let over = counted.iter().any(|(name, _, sum)| {
                        w.limits
                            .get(&(kind.to_owned(), name.clone()))
                            .is_some_and(|limit| sum.saturating_add(*a) > *limit)
                    });
                    // A bet in a session (one that goes on: the latest bet or win at most
                    // the break before it) that has lasted the session limit.
                    let long = kind == "loss"
                        && w.limits
                            .get(&("session".to_owned(), String::new()))
                            .is_some_and(|limit| {
                                session_of(w.session, now, session_break).0 + limit <= now
                            });
                    if over {
                        Some(code)
                    } else if long {
                        Some("limit_session")
                    } else {
                        None
                    }
                }
                _ => None,
            });
            if let Some(code) = refusal {
                Answer::Refused(code)
            } else {
                if let WalletOpModel::Deposit(a) = &ev.op {
                    for (name, start, sum) in counted.drain(..) {
                        w.deposits_in.insert(name, (start, sum.saturating_add(*a)));
                    }
                }
                match &ev.op {
                    WalletOpModel::Limit(kind, period, limit) => {
                        // Lower (or a first limit): at once; higher or removed: after the
                        // cooling-off. A newer change replaces one still waiting.
                        let which = (kind.clone(), period.clone());
                        w.waiting.remove(&which);
                        let in_force = w.limits.get(&which).copied();
                        let at_once = match (limit, in_force) {
                            (Some(new), Some(old)) => *new <= old,
                            (None, Some(_)) => false,
                            (_, None) => true,
                        };
                        if at_once {
                            match limit {
                                Some(l) => w.limits.insert(which, *l),
                                None => w.limits.remove(&which),
                            };
                        } else {
                            let from = now.saturating_add(cooling_off);
                            w.waiting.insert(which, (*limit, from));
                        }
                        Answer::Applied {
                            delta: 0,
                            balance: w.view.balance,
                        }
                    }
                    WalletOpModel::SelfExclusion(until) => match excluded {
                        Some(end) if *until < end => Answer::Refused("self_exclusion_active"),
                        _ => {
                            w.excluded_until = Some(*until);
                            Answer::Applied {
                                delta: 0,
                                balance: w.view.balance,
                            }
                        }
                    },
                    // W-12: an award; on an empty account (no bonus, nothing held of it) the
                    // requirement a spent bonus left is cleared first.
                    WalletOpModel::BonusAward(a, wagering, expires) => {
                        let empty = w.bonus_balance() == 0 && w.restricted_held() == 0;
                        let b = w.bonus.get_or_insert_with(Default::default);
                        if empty && b.wagering_left > 0 {
                            tags.push("bonus_requirement_cleared");
                            b.wagering_left = 0;
                        }
                        b.balance += a;
                        b.awarded += a;
                        b.wagering_left = b.wagering_left.saturating_add(wagering * a);
                        b.expires = b.expires.max(*expires);
                        tags.push(if empty {
                            "bonus_awarded"
                        } else {
                            "bonus_awarded_on_top"
                        });
                        Answer::Applied {
                            delta: 0,
                            balance: w.view.balance,
                        }
                    }
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
                            if at_desk {
                                v.desk_deposits += a;
                            }
                            Answer::Applied {
                                delta: *a,
                                balance: b,
                            }
                        }
                    },
                    // W-10: the balance above zero (never the credit line) pays a hold; a
                    // transfer whose acknowledgement waited for it in vain (settled without
                    // a hold) holds nothing.
                    // W-12: a restricted transfer holds bonus above zero instead.
                    WalletOpModel::TransferRequest(_, a, restricted) => {
                        let funds = if *restricted {
                            w.bonus_balance()
                        } else {
                            w.view.balance
                        };
                        if w.acks.iter().any(|(t, _)| *t == ev.tx) {
                            Answer::Applied {
                                delta: 0,
                                balance: w.view.balance,
                            }
                        } else if w.holds.contains_key(&ev.tx) {
                            // Held already under another sender's key.
                            Answer::Refused("tx_conflict")
                        } else if *a > funds.max(0) {
                            Answer::Refused("insufficient_funds")
                        } else {
                            match w.bonus.as_mut() {
                                Some(b) if *restricted => b.balance -= a,
                                _ => w.view.balance -= a,
                            }
                            let until = ev.time.saturating_add(hold_ms);
                            w.holds.insert(ev.tx.clone(), (*a, until, *restricted));
                            Answer::Applied {
                                delta: -a,
                                balance: w.view.balance,
                            }
                        }
                    }
                    // W-12: a restricted hold goes back to the bonus.
                    WalletOpModel::TransferCancel(t) => match w.holds.remove(t) {
                        None => Answer::Refused("transfer_not_held"),
                        Some((a, _, restricted)) => {
                            match w.bonus.as_mut() {
                                Some(b) if restricted => b.balance += a,
                                _ => w.view.balance += a,
                            }
                            Answer::Applied {
                                delta: a,
                                balance: w.view.balance,
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
                            if at_desk {
                                v.desk_withdrawals += a;
                            }
                            Answer::Applied {
                                delta: -a,
                                balance: v.balance,
                            }
                        }
                    }
                    // W-3: a bet may use the credit line; W-12: and the bonus, which pays
                    // after the cash above zero (cash-first) or before the cash (bonus-first).
                    WalletOpModel::Bet(a) => {
                        let bonus = w.bonus_balance().max(0);
                        if *a > w.view.balance + credit_line + bonus {
                            Answer::Refused("insufficient_funds")
                        } else {
                            let from_bonus = if bonus_first {
                                (*a).min(bonus)
                            } else {
                                (*a - (*a).min(w.view.balance.max(0))).min(bonus)
                            };
                            let v = &mut w.view;
                            v.balance -= a - from_bonus;
                            v.bets += a;
                            // W-12: the whole bet counts towards the wagering.
                            let mut wagered = 0;
                            if let Some(b) = w.bonus.as_mut() {
                                b.balance -= from_bonus;
                                b.staked += from_bonus;
                                wagered = (*a).min(b.wagering_left.max(0));
                                b.wagering_left -= wagered;
                            }
                            for (name, start, sum) in std::mem::take(&mut counted) {
                                w.losses_in.insert(name, (start, sum.saturating_add(*a)));
                            }
                            if from_bonus > 0 {
                                tags.push("bonus_staked");
                            }
                            bet_state = Some(Bet {
                                state: BetState::Open,
                                time: booked,
                                hall: ev.hall.clone(),
                                bonus: from_bonus,
                                wagered,
                            });
                            let v = &w.view;
                            revenue = Some((
                                ev.hall.clone(),
                                booked,
                                Totals {
                                    bets: *a,
                                    promo: from_bonus,
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
                                        (WalletOpModel::Bet(_), _, Some(bet))
                                            if bet.state == BetState::RolledBack =>
                                        {
                                            Err("bet_rolled_back")
                                        }
                                        (WalletOpModel::Bet(amount), _, Some(bet)) => {
                                            Ok(Some((bkey, *amount, bet.bonus)))
                                        }
                                        _ => Err("bet_unknown"),
                                    },
                                }
                            }
                        };
                        match check {
                            Err(code) => Answer::Refused(code),
                            Ok(settles) => {
                                // W-12: split like the bet it settles, the bonus part
                                // rounded down; a win naming no bet is cash.
                                let to_bonus = match &settles {
                                    Some((_, bet, part)) if *part > 0 => i64::try_from(
                                        i128::from(*a) * i128::from(*part) / i128::from(*bet),
                                    )
                                    .expect("at most the win"),
                                    _ => 0,
                                };
                                match w.view.balance.checked_add(*a - to_bonus) {
                                    None => Answer::Refused("overflow"),
                                    Some(b) => {
                                        w.view.balance = b;
                                        w.view.wins += a;
                                        if let Some(bonus) = w.bonus.as_mut() {
                                            bonus.balance += to_bonus;
                                            bonus.won += to_bonus;
                                        }
                                        if to_bonus > 0 {
                                            tags.push("bonus_won");
                                        }
                                        won_back = *a;
                                        if let Some((bkey, _, _)) = settles {
                                            if let Some(Record::Answered { bet: Some(s), .. }) =
                                                w.records.get_mut(&bkey)
                                            {
                                                s.state = BetState::Settled;
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
                                }
                            }
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
                                (WalletOpModel::Bet(a), _, Some(bet)) => match bet.state {
                                    BetState::RolledBack => Answer::Applied { delta: 0, balance },
                                    BetState::Settled => Answer::Refused("bet_settled"),
                                    BetState::Open => {
                                        let a = *a;
                                        bet.state = BetState::RolledBack;
                                        let (bet_time, bet_hall) = (bet.time, bet.hall.clone());
                                        // W-12: each part back where it came from, and the
                                        // wagering it met back to meet.
                                        let (part, wagered) = (bet.bonus, bet.wagered);
                                        w.view.balance += a - part;
                                        w.view.refunds += a;
                                        if let Some(b) = w.bonus.as_mut() {
                                            b.balance += part;
                                            b.refunded += part;
                                            b.wagering_left += wagered;
                                        }
                                        if part > 0 || wagered > 0 {
                                            tags.push("bonus_refunded");
                                        }
                                        won_back = a;
                                        revenue = Some((
                                            bet_hall,
                                            bet_time,
                                            Totals {
                                                bets: -a,
                                                promo: -part,
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
        // W-12: after a change, an expired bonus is gone, else one with nothing left to
        // wager becomes cash; the answer gives the command's whole change of the cash (a
        // conversion included) and of the bonus.
        let mut answer = answer;
        let w = self.wallets.get_mut(&ev.player).expect("exists");
        // W-12 (`player_unknown`): an applied money operation that moved money, a limit or
        // a self-exclusion make the player known (the readings are at `Wallet::known`); a
        // refused command does not. A rollback moved money when it refunded the bet; a
        // transfer request when it held (one whose acknowledgement waited in vain holds
        // nothing, and that acknowledgement made the player known already).
        if let Answer::Applied { delta, .. } = answer {
            w.moved_money |= match ev.op {
                WalletOpModel::Deposit(_)
                | WalletOpModel::Withdraw(_)
                | WalletOpModel::Bet(_)
                | WalletOpModel::Win(..)
                | WalletOpModel::TransferCancel(_) => true,
                WalletOpModel::Rollback(_) => won_back > 0,
                // The command's own answer: `-amount` for what it held (cash or bonus).
                WalletOpModel::TransferRequest(..) => delta != 0,
                _ => false,
            };
            w.had_rg |= matches!(
                ev.op,
                WalletOpModel::Limit(..) | WalletOpModel::SelfExclusion(_)
            );
        }
        let (gone, converted) = w.bonus_due(ev.time);
        let mut bonus_answer = None;
        if let Answer::Applied { .. } = answer {
            let balance = w.view.balance;
            answer = Answer::Applied {
                delta: balance - cash_before,
                balance,
            };
            if w.bonus.is_some() {
                bonus_answer = Some(w.bonus_balance() - bonus_before);
            }
        }
        self.bonus_outcomes(gone, converted);
        for tag in tags {
            *self.bonus_events.entry(tag).or_default() += 1;
        }
        // W-10: an acknowledgement read before its request settles against the new hold.
        if let (WalletOpModel::TransferRequest(..), Answer::Applied { delta, .. }) =
            (&ev.op, &answer)
        {
            let delta = *delta;
            let w = self.wallets.get_mut(&ev.player).expect("exists");
            if let Some(i) = w.acks_waiting.iter().position(|x| x.0 == ev.tx) {
                let (tx, event, amount, _, restricted) = w.acks_waiting.remove(i);
                let at = Some(ev.time);
                self.settle(&ev.player, &tx, &event, (true, restricted), amount, at);
                let balance = self.wallets[&ev.player].view.balance;
                answer = Answer::Applied { delta, balance };
            }
        }
        if let Some(delta) = bonus_answer {
            let balance = self.wallets[&ev.player].bonus_balance();
            self.bonus_answers
                .insert(answer_key.clone(), (delta, balance));
        }
        let w = self.wallets.get_mut(&ev.player).expect("exists");
        // W-9: an applied bet or win plays in the session.
        let played = matches!(
            (&ev.op, &answer),
            (
                WalletOpModel::Bet(_) | WalletOpModel::Win(..),
                Answer::Applied { .. }
            )
        );
        if played && !tombstoned {
            w.session = Some(session_of(w.session, ev.time, session_break));
        }
        // W-9: a win or a refund lowers the loss of the period it is applied in.
        if won_back != 0 {
            for (name, start, sum) in in_periods(&w.losses_in, &zone, ev.time) {
                w.losses_in
                    .insert(name, (start, sum.saturating_sub(won_back)));
            }
        }
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
        // W-11: an applied deposit is cash in, an applied withdrawal cash out.
        if let (Answer::Applied { .. }, false) = (&answer, tombstoned) {
            let cash = match ev.op {
                WalletOpModel::Deposit(a) => Some((a, "in")),
                WalletOpModel::Withdraw(a) => Some((a, "out")),
                _ => None,
            };
            if let Some((amount, dir)) = cash {
                let mv = MoveRow {
                    event_id: ev.id.clone(),
                    amount,
                    time: ev.time,
                    dir,
                    machine: None,
                };
                self.patron_cash(&ev.player, mv);
                // D-10: applied at a listed cash desk (a refusal and a repeat never get
                // here): forwarded to the desk after the wallet applied it, with the
                // command's event time, event id and hall; the desk books it as a ticket's
                // cash (D-3). Reading: the amount the command named is what the drawer
                // took or paid (the answer's delta may also carry a bonus's conversion,
                // W-12, which is no cash).
                if at_desk {
                    let hall = ev.hall.clone();
                    let moved = (amount, dir == "in");
                    self.desk_wallet_cash(&ev.provider, &hall, ev.time, &ev.id, moved);
                }
            }
        }
        match answer {
            Answer::Applied { .. } => Outcome::Applied,
            Answer::Refused(code) => Outcome::Refused(code),
        }
    }
}

impl Model {
    /// W-12: counts what became of bonus money after a change (expired, converted).
    fn bonus_outcomes(&mut self, gone: i64, converted: i64) {
        if gone > 0 {
            *self.bonus_events.entry("bonus_expired").or_default() += 1;
        }
        if converted > 0 {
            *self.bonus_events.entry("bonus_converted").or_default() += 1;
        }
    }

    /// W-10: before a wallet applies anything at `t`, each hold whose time is before `t`
    /// lapses: the money goes back (W-12: a restricted hold to the bonus), alerted; the
    /// acknowledgements whose wait is over settle without a hold. W-12: then a bonus whose
    /// expiry has come is gone (else one with nothing left to wager is cash). RULES.md does
    /// not order the two: the holds and waits ended before `t`, as did the bonus, and an
    /// acknowledgement that waited is paid from the bonus it found (the core's order too).
    fn lapse_holds(&mut self, player: &str, t: i64) {
        let Some(w) = self.wallets.get_mut(player) else {
            return;
        };
        let lapsed: Vec<String> = w
            .holds
            .iter()
            .filter(|(_, (_, until, _))| *until < t)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &lapsed {
            let (a, _, restricted) = w.holds.remove(k).expect("listed");
            match w.bonus.as_mut() {
                Some(b) if restricted => b.balance += a,
                _ => w.view.balance += a,
            }
        }
        // Acknowledgements whose request never came settle without a hold, in arrival order.
        let (waited, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut w.acks_waiting)
            .into_iter()
            .partition(|x| x.3 < t);
        w.acks_waiting = kept;
        for _ in &lapsed {
            self.alert("transfer_hold_released");
        }
        for (tx, event, amount, _, restricted) in waited {
            self.settle(player, &tx, &event, (true, restricted), amount, None);
        }
        // W-12: an expiry that has come, else (what came back) a conversion.
        let w = self.wallets.get_mut(player).expect("exists");
        let (gone, converted) = w.bonus_due(t);
        self.bonus_outcomes(gone, converted);
    }

    /// W-10: a machine's word on a transfer, at the machine's booked time: a fact, never
    /// refused. To the machine, the hold pays; the balance above zero pays what the machine
    /// took beyond it; what nothing pays is `unbacked`; what it took below the hold goes
    /// back. From the machine, the wallet receives it. A second acknowledgement of a
    /// transfer is not paid again (to a machine: all unbacked); the same acknowledgement
    /// redelivered (same transfer and event, among the newest kept) changes nothing.
    /// `credit` is (to the machine, W-12: restricted credits).
    pub(super) fn transfer_fact(
        &mut self,
        player: &str,
        transfer: &str,
        event: &str,
        credit: (bool, bool),
        amount: i64,
        t: i64,
    ) {
        let (to_machine, restricted) = credit;
        self.wallets.entry(player.to_owned()).or_default();
        self.lapse_holds(player, t);
        let hold_ms = self.cfg.transfer_hold_ms;
        let w = self.wallets.get_mut(player).expect("exists");
        if w.acks.iter().any(|(x, e)| x == transfer && e == event)
            || w.acks_waiting
                .iter()
                .any(|x| x.0 == transfer && x.1 == event)
        {
            return;
        }
        if to_machine && !w.acknowledged(transfer) && !w.holds.contains_key(transfer) {
            // Before its request: it waits for it, the hold time at most.
            let until = t.saturating_add(hold_ms);
            w.acks_waiting.push((
                transfer.to_owned(),
                event.to_owned(),
                amount,
                until,
                restricted,
            ));
            return;
        }
        self.settle(player, transfer, event, credit, amount, Some(t));
    }

    /// W-10: settles an acknowledgement (applied now at `t`, or after waiting for its
    /// request; `None` for one whose wait is over, the expiry checked after them all). W-12: a hold pays only an acknowledgement of its own credit type; restricted
    /// credits are paid by the bonus as cashable ones by the balance; a hold of the other
    /// type stays held, and the acknowledgement settles as one without a hold.
    fn settle(
        &mut self,
        player: &str,
        transfer: &str,
        event: &str,
        credit: (bool, bool),
        amount: i64,
        t: Option<i64>,
    ) {
        let (to_machine, restricted) = credit;
        let w = self.wallets.get_mut(player).expect("exists");
        let twice = w.acknowledged(transfer);
        let mut alert = twice.then_some("transfer_acknowledged_twice");
        let mut row = TransferRow {
            player: player.to_owned(),
            transfer: transfer.to_owned(),
            to_machine,
            amount,
            held: 0,
            delta: 0,
            unbacked: 0,
            repeated: twice,
            balance: 0,
            restricted,
        };
        if !to_machine {
            w.view.balance += amount;
            w.view.from_machines += amount;
            row.delta = amount;
        } else if twice {
            w.view.unbacked += amount;
            row.unbacked = amount;
        } else {
            let held = match w.holds.get(transfer) {
                Some((a, _, r)) if *r == restricted => {
                    let a = *a;
                    w.holds.remove(transfer);
                    Some(a)
                }
                _ => None,
            };
            let h = held.unwrap_or(0);
            let beyond = (amount - h).max(0);
            let funds = if restricted {
                w.bonus_balance()
            } else {
                w.view.balance
            };
            let paid = beyond.min(funds.max(0));
            let unbacked = beyond - paid;
            let delta = (h - amount).max(0) - paid;
            match w.bonus.as_mut() {
                Some(b) if restricted => {
                    b.balance += delta;
                    b.to_machines += amount - unbacked;
                }
                _ => w.view.balance += delta,
            }
            w.view.to_machines += amount - unbacked;
            w.view.unbacked += unbacked;
            (row.held, row.delta, row.unbacked) = (h, delta, unbacked);
            alert = match held {
                None => Some("transfer_without_hold"),
                Some(h) if h != amount => Some("transfer_amount_variance"),
                Some(_) => None,
            };
            if restricted {
                *self.bonus_events.entry("restricted_settled").or_default() += 1;
            }
        }
        let w = self.wallets.get_mut(player).expect("exists");
        w.acks.push_back((transfer.to_owned(), event.to_owned()));
        while w.acks.len() > TRANSFER_ACKS_KEPT {
            w.acks.pop_front();
        }
        // W-12: a transfer that changed the account: expired, else converted.
        let (gone, converted) = t.map_or((0, 0), |t| w.bonus_due(t));
        row.balance = w.view.balance;
        self.transfers.push(row);
        self.bonus_outcomes(gone, converted);
        if let Some(code) = alert {
            self.alert(code);
        }
    }
}

/// W-9: the local day, week (from Monday) and month the instant `t` (ms) falls in, each as
/// the instant it started, in the jurisdiction's zone.
/// The session a bet or win at `t` plays in: the current one if its latest is at most the
/// break before `t` (kept its latest if `t` is earlier), else a new one from `t`.
fn session_of(current: Option<(i64, i64)>, t: i64, break_ms: i64) -> (i64, i64) {
    match current {
        Some((start, last)) if t - last <= break_ms => (start, last.max(t)),
        _ => (t, t),
    }
}

/// The sums a command at `now` adds to, per period: (name, start, sum so far). A later
/// period starts from nothing; an earlier one (a late command) counts in the latest.
fn in_periods(
    sums: &std::collections::BTreeMap<String, (i64, i64)>,
    zone: &str,
    now: i64,
) -> Vec<(String, i64, i64)> {
    local_periods(zone, now)
        .into_iter()
        .map(|(name, start)| {
            let (start, sum) = match sums.get(name) {
                Some((s, sum)) if *s >= start => (*s, *sum),
                _ => (start, 0),
            };
            (name.to_owned(), start, sum)
        })
        .collect()
}

/// W-11: the start of the local day `t` falls in.
pub(super) fn local_day(zone: &str, t: i64) -> i64 {
    local_periods(zone, t)[0].1
}

fn local_periods(zone: &str, t: i64) -> [(&'static str, i64); 3] {
    let tz = jiff::tz::TimeZone::get(zone).expect("a time zone the configuration checked");
    // The last day of 9999 is past jiff's range: it counts as the day before.
    let t = t.min(jiff::Timestamp::MAX.as_millisecond());
    let at = jiff::Timestamp::from_millisecond(t)
        .expect("E-1 bounds event times")
        .to_zoned(tz.clone());
    let start = |d: jiff::civil::Date| {
        d.to_zoned(tz.clone())
            .and_then(|z| z.start_of_day())
            .expect("a day in range")
            .timestamp()
            .as_millisecond()
    };
    let date = at.date();
    let monday = date
        .checked_sub(jiff::Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
        .expect("a day in range");
    let first = date.first_of_month();
    [
        ("day", start(date)),
        ("week", start(monday)),
        ("month", start(first)),
    ]
}
