//! The special cases mixed into ordinary play, one per `RULES.md` situation worth checking.

use rand::Rng;

use crate::wire::InputPayload;

use super::super::types::AMOUNT_MAX;
use super::{
    cash_in, cash_out, deposit_limit, hall_name, jackpot, kyc, loss_limit, money, rollback,
    self_exclusion, session_limit, wallet, World, CREDIT_LINE, KYC_WITHDRAWAL_MAX, LARGE_CASH_IN,
    SESSION_BREAK_MS,
};

impl World {
    /// One of the cases of `RULES.md`.
    pub(super) fn special(&mut self) {
        let m = self.rng.gen_range(0..self.machines.len());
        let p = self.rng.gen_range(0..self.players.len());
        let player = self.players[p].id.clone();
        match self.rng.gen_range(0..34) {
            0 if !self.sent_wallet.is_empty() => {
                self.case("retry_after_hours");
                self.now += 3 * 3_600_000;
                let back = self.sent_wallet.len().saturating_sub(300);
                let i = self.rng.gen_range(0..=back.min(self.sent_wallet.len() - 1));
                let (prov, payload, _) = self.sent_wallet[i].clone();
                let p = self.player_index(payload.player().unwrap_or_default());
                // Exactly as sent the first time.
                self.send_wallet_as_is(p, &prov, payload);
            }
            1 if !self.sent_wallet.is_empty() => {
                self.case("conflicting_repeat");
                let i = self.rng.gen_range(0..self.sent_wallet.len());
                let (prov, payload, _) = self.sent_wallet[i].clone();
                let p = self.player_index(payload.player().unwrap_or_default());
                let (pl, tx) = tx_of(&payload);
                self.send_wallet(p, &prov, wallet("wallet_bet", &pl, &tx, 4_999, None));
            }
            2 => {
                self.case("late_gap_fill");
                let env = self.machine_event(m, money("bet", 20));
                let after = self.rng.gen_range(1..5);
                self.machines[m].held.push((after, env));
            }
            3 if self.machines[m].v2 => {
                self.case("epoch_reset");
                self.machines[m].epoch += 1;
                self.machines[m].seq = 0;
                self.send_machine(m, cash_in("bill", 1_000));
                self.machines[m].credits += 1_000;
            }
            4 if !self.sent_machine.is_empty() => {
                self.case("duplicate_delivery");
                let i = self.rng.gen_range(0..self.sent_machine.len());
                let mut item = self.sent_machine[i].clone();
                item.kafka_time = self.now;
                self.out.items.push(item);
            }
            5 => {
                self.case("skewed_clock");
                let mut env = self.machine_event(m, cash_in("bill", 2_000));
                self.machines[m].credits += 2_000;
                env.event_time = if self.rng.gen_bool(0.5) {
                    self.now + 2 * 3_600_000
                } else {
                    self.rng.gen_range(0..1_000_000)
                };
                self.deliver_machine(m, env);
            }
            6 => {
                self.case("wrong_currency");
                if self.rng.gen_bool(0.5) {
                    let mut pay = money("bet", 100);
                    if let InputPayload::Bet { currency, .. } = &mut pay {
                        *currency = "USD".to_owned();
                    }
                    self.send_machine(m, pay);
                } else {
                    let tx = self.player_tx(p);
                    let mut pay = wallet("deposit", &player, &tx, 100, None);
                    if let InputPayload::Deposit { currency, .. } = &mut pay {
                        *currency = "USD".to_owned();
                    }
                    self.send_wallet(p, "PSP-1", pay);
                }
            }
            7 => {
                self.case("settled_bet_rollback");
                self.ensure_funds(p);
                let prov = self.provider();
                let b = self.player_tx(p);
                self.send_wallet(p, &prov, wallet("wallet_bet", &player, &b, 50, None));
                let t = self.player_tx(p);
                self.send_wallet(
                    p,
                    &prov,
                    wallet("wallet_win", &player, &t, 80, Some(b.clone())),
                );
                let r = self.player_tx(p);
                self.send_wallet(p, &prov, rollback(&player, &r, &b));
            }
            8 => {
                self.case("rollback_before_bet");
                self.ensure_funds(p);
                let prov = self.provider();
                let b = self.player_tx(p);
                let r = self.player_tx(p);
                self.send_wallet(p, &prov, rollback(&player, &r, &b));
                self.send_wallet(p, &prov, wallet("wallet_bet", &player, &b, 30, None));
            }
            9 => {
                self.case("win_on_rolled_back_bet");
                self.ensure_funds(p);
                let prov = self.provider();
                let b = self.player_tx(p);
                self.send_wallet(p, &prov, wallet("wallet_bet", &player, &b, 40, None));
                let r = self.player_tx(p);
                self.send_wallet(p, &prov, rollback(&player, &r, &b));
                let t = self.player_tx(p);
                self.send_wallet(p, &prov, wallet("wallet_win", &player, &t, 90, Some(b)));
            }
            10 => {
                self.case("win_unknown_bet");
                let prov = self.provider();
                let t = self.player_tx(p);
                let ghost = format!("{t}-ghost");
                self.send_wallet(p, &prov, wallet("wallet_win", &player, &t, 70, Some(ghost)));
            }
            11 => {
                self.case("withdraw_on_credit");
                let t = self.player_tx(p);
                let a = self.players[p].balance.max(0) + CREDIT_LINE / 2;
                self.send_wallet(p, "PSP-1", wallet("withdraw", &player, &t, a, None));
                // Bets may use the credit line, up to it and not beyond (W-3).
                self.case("bet_on_credit");
                let prov = self.provider();
                let t = self.player_tx(p);
                self.send_wallet(p, &prov, wallet("wallet_bet", &player, &t, a, None));
                let t = self.player_tx(p);
                let beyond = CREDIT_LINE + 1;
                self.send_wallet(p, &prov, wallet("wallet_bet", &player, &t, beyond, None));
            }
            12 => {
                self.case("cross_provider_same_tx");
                self.ensure_funds(p);
                let t = self.player_tx(p);
                self.send_wallet(p, "GS-A", wallet("wallet_bet", &player, &t, 10, None));
                self.send_wallet(p, "GS-B", wallet("wallet_bet", &player, &t, 10, None));
            }
            13 => {
                self.case("bet_beyond_credits");
                let c = self.machines[m].credits.max(0);
                self.machines[m].credits = 0;
                self.machines[m].game_open = true;
                self.send_machine(m, money("bet", c + 5_000));
            }
            14 => {
                self.case("cash_out_beyond_credits");
                let c = self.machines[m].credits.max(0);
                self.machines[m].credits = 0;
                self.send_machine(m, cash_out("handpay", c + 700));
            }
            15 => {
                self.case("bonus_win_outside_game");
                if !self.machines[m].game_open {
                    self.machines[m].credits += 300;
                    self.send_machine(m, money("win", 300));
                }
            }
            16 => {
                self.case("game_end_without_bet");
                if !self.machines[m].game_open {
                    self.send_machine(m, InputPayload::GameEnd {});
                }
            }
            17 => {
                self.case("card_session_overlap");
                let a = format!("P-{:05}", self.rng.gen_range(0..self.players.len()));
                let b = format!("P-{:05}", self.players.len() + 7);
                self.send_machine(m, InputPayload::CardIn { player: a });
                self.send_machine(m, InputPayload::CardIn { player: b.clone() });
                self.machines[m].carded = Some(b);
            }
            18 => {
                self.case("card_out_without_session");
                if self.machines[m].carded.is_none() {
                    self.send_machine(m, InputPayload::CardOut {});
                }
            }
            19 => {
                self.case("machine_moved");
                let h = self.rng.gen_range(0..self.halls);
                self.machines[m].hall = hall_name(h);
                self.send_machine(m, cash_in("bill", 1_000));
                self.machines[m].credits += 1_000;
            }
            20 => {
                // A progressive claim during a game, by a machine that may be ineligible.
                self.case("progressive_claim");
                let eligible = !self.machines[m].tilted && !self.machines[m].offline;
                if !eligible {
                    self.case("ineligible_claim");
                }
                if self.machines[m].credits < 100 {
                    self.machines[m].credits += 1_000;
                    self.send_machine(m, cash_in("bill", 1_000));
                }
                self.machines[m].credits -= 100;
                self.machines[m].game_open = true;
                self.send_machine(m, money("bet", 100));
                let (pool, level) = if self.rng.gen_bool(0.8) {
                    ("WAP-1", 1)
                } else {
                    ("LAP-1", 0)
                };
                let amount = if self.machines[m].v2 {
                    if self.rng.gen_bool(0.3) {
                        self.case("claim_amount_variance");
                        Some(12_345)
                    } else {
                        None
                    }
                } else {
                    None
                };
                self.send_machine(m, jackpot(pool, level, amount));
                self.machines[m].game_open = false;
                self.send_machine(m, InputPayload::GameEnd {});
            }
            21 => {
                self.case("ineligible_claim");
                if self.machines[m].game_open {
                    self.machines[m].game_open = false;
                    self.send_machine(m, InputPayload::GameEnd {});
                }
                let (pool, level) = [("WAP-1", 1u8), ("WAP-1", 0), ("WAP-1", 9), ("LAP-1", 0)]
                    [self.rng.gen_range(0..4)];
                self.send_machine(m, jackpot(pool, level, None));
            }
            22 => {
                self.case("amount_at_bounds");
                self.machines[m].credits += AMOUNT_MAX;
                self.send_machine(m, cash_in("cashless", AMOUNT_MAX));
            }
            23 if self.rng.gen_bool(0.25) => {
                // E-1: a time before 1970 or after 9999 is no time a source sends.
                self.case("time_out_of_range");
                let mut env = self.machine_event(m, money("bet", 10));
                self.machines[m].seq -= 1;
                env.event_time = [-1, 253_402_300_800_000, i64::MIN][self.rng.gen_range(0..3)];
                self.push(env);
            }
            23 => {
                self.case("invalid_amount");
                let a = [0, -5, AMOUNT_MAX + 1][self.rng.gen_range(0..3)];
                let env = self.machine_event(m, money("bet", a));
                self.machines[m].seq -= 1;
                self.push(env);
            }
            24 => {
                self.case("malformed");
                let len = self.rng.gen_range(0..40);
                let bytes: Vec<u8> = (0..len).map(|_| self.rng.gen()).collect();
                let key = self.machines[m].id.clone();
                self.push_item(bytes, None, key);
            }
            25 => {
                self.case("invalid_source");
                let mut env = self.machine_event(m, money("bet", 10));
                self.machines[m].seq -= 1;
                env.source.server = Some("GS-A".to_owned());
                self.push(env);
            }
            26 => {
                self.case("unsupported_version");
                let mut env = self.machine_event(m, money("bet", 10));
                self.machines[m].seq -= 1;
                env.schema_version = 3;
                self.push(env);
            }
            27 => {
                self.case("large_cash_in");
                self.machines[m].credits += LARGE_CASH_IN;
                self.send_machine(m, cash_in("bill", LARGE_CASH_IN));
            }
            28 if self.machines[m].v2 => {
                self.case("stale_epoch");
                for _ in 0..5 {
                    self.machines[m].epoch += 1;
                    self.machines[m].seq = 0;
                    self.send_machine(m, cash_in("bill", 500));
                    self.machines[m].credits += 500;
                }
                let mut env = self.machine_event(m, cash_in("bill", 500));
                env.epoch = Some(0);
                self.push(env);
            }
            29 if !self.sent_wallet.is_empty() => {
                // The same command under its key with only the round changed: a conflict in
                // version 2 (the round is content, W-2), a repeat in version 1 (no round).
                let i = self.rng.gen_range(0..self.sent_wallet.len());
                let (prov, mut payload, v2) = self.sent_wallet[i].clone();
                self.case(if v2 {
                    "round_conflict"
                } else {
                    "round_ignored_in_v1"
                });
                let other = match payload.round() {
                    Some(_) if self.rng.gen_bool(0.5) => None,
                    Some(r) => Some(format!("{r}-x")),
                    None => Some("R-other".to_owned()),
                };
                payload.set_round(other);
                let p = self.player_index(payload.player().unwrap_or_default());
                self.send_wallet_as_is(p, &prov, payload);
            }
            30 => {
                // A round that is not a valid id: rejected in version 2 (invalid_id), ignored
                // in version 1.
                self.case("invalid_round");
                let t = self.player_tx(p);
                let mut pay = wallet("deposit", &player, &t, 100, None);
                pay.set_round(Some("round 1".to_owned()));
                if !self.players[p].v2 {
                    self.players[p].balance += 100;
                }
                self.send_wallet_as_is(p, "PSP-1", pay);
            }
            31 => {
                // W-8: a blocked player may not pay in, stake or take out; a win for a bet
                // placed before still counts. Then the KYC provider lifts the block.
                self.case("player_blocked");
                let prov = self.provider();
                self.ensure_funds(p);
                let b = self.player_tx(p);
                self.players[p].balance -= 20;
                self.send_wallet(p, &prov, wallet("wallet_bet", &player, &b, 20, None));
                let t = self.player_tx(p);
                self.send_wallet(p, "KYC-1", kyc(&player, &t, "blocked"));
                let t = self.player_tx(p);
                self.send_wallet(p, "PSP-1", wallet("deposit", &player, &t, 500, None));
                let t = self.player_tx(p);
                self.send_wallet(p, &prov, wallet("wallet_bet", &player, &t, 10, None));
                let t = self.player_tx(p);
                self.send_wallet(p, "PSP-1", wallet("withdraw", &player, &t, 1, None));
                // D-10: at a cash desk too: refused, no drawer moves.
                self.case("cage_cash_player_blocked");
                self.player_at_cage(p, true, 500, false);
                self.player_at_cage(p, false, 1, false);
                self.case("win_while_blocked");
                let t = self.player_tx(p);
                self.players[p].balance += 60;
                self.send_wallet(p, &prov, wallet("wallet_win", &player, &t, 60, Some(b)));
                if self.rng.gen_bool(0.3) {
                    // Not one of the three words: rejected at the wire (malformed).
                    self.case("kyc_invalid_status");
                    let t = self.player_tx(p);
                    self.send_wallet(p, "KYC-1", kyc(&player, &t, "pending"));
                }
                let t = self.player_tx(p);
                let back = if self.players[p].verified {
                    "verified"
                } else {
                    "unverified"
                };
                self.send_wallet(p, "KYC-1", kyc(&player, &t, back));
                if !self.players[p].verified {
                    // Just at the limit is allowed; one more is not (W-8).
                    self.case("kyc_limit_edge");
                    let t = self.player_tx(p);
                    self.players[p].balance += KYC_WITHDRAWAL_MAX + 1;
                    let d = KYC_WITHDRAWAL_MAX + 1;
                    self.send_wallet(p, "PSP-1", wallet("deposit", &player, &t, d, None));
                    let t = self.player_tx(p);
                    self.send_wallet(p, "PSP-1", wallet("withdraw", &player, &t, d, None));
                    let t = self.player_tx(p);
                    self.players[p].balance -= KYC_WITHDRAWAL_MAX;
                    let w = KYC_WITHDRAWAL_MAX;
                    self.send_wallet(p, "PSP-1", wallet("withdraw", &player, &t, w, None));
                }
            }
            32 => {
                // W-9: a limit lowered (at once), a deposit over it refused and one within it
                // taken, a limit raised (after the cooling-off), a self-exclusion that refuses
                // deposits and bets but not withdrawals and cannot be cut short.
                let period = ["day", "week", "month"][self.rng.gen_range(0..3)];
                self.case("deposit_limit");
                let t = self.player_tx(p);
                self.send_wallet(p, "RG-1", deposit_limit(&player, &t, period, Some(3_000)));
                for a in [2_000, 1_500, 500] {
                    let t = self.player_tx(p);
                    self.send_wallet(p, "PSP-1", wallet("deposit", &player, &t, a, None));
                }
                // D-10: cash at a desk counts against the limit like any deposit.
                self.case("cage_deposit_over_limit");
                self.player_at_cage(p, true, 1_000, false);
                self.players[p].balance += 2_500;
                self.case("limit_raise_waits");
                let t = self.player_tx(p);
                let (raise, remove) = (Some(50_000), self.rng.gen_bool(0.3));
                let to = if remove { None } else { raise };
                self.send_wallet(p, "RG-1", deposit_limit(&player, &t, period, to));
                let t = self.player_tx(p);
                self.send_wallet(p, "PSP-1", wallet("deposit", &player, &t, 1_000, None));
                if self.rng.gen_bool(0.2) {
                    self.case("limit_invalid_period");
                    let t = self.player_tx(p);
                    self.send_wallet(p, "RG-1", deposit_limit(&player, &t, "year", Some(1)));
                }
                if self.rng.gen_bool(0.5) {
                    self.case("self_excluded");
                    let until = self.now + 600_000;
                    let t = self.player_tx(p);
                    self.send_wallet(p, "RG-1", self_exclusion(&player, &t, until));
                    // The player cards in at a machine while excluded: an alert from the
                    // wallet, nothing refused at the machine.
                    self.case("self_excluded_card_in");
                    self.machines[m].carded = Some(player.clone());
                    self.send_machine(
                        m,
                        InputPayload::CardIn {
                            player: player.clone(),
                        },
                    );
                    let t = self.player_tx(p);
                    self.send_wallet(p, "PSP-1", wallet("deposit", &player, &t, 100, None));
                    let t = self.player_tx(p);
                    let prov = self.provider();
                    self.send_wallet(p, &prov, wallet("wallet_bet", &player, &t, 10, None));
                    let t = self.player_tx(p);
                    self.players[p].balance -= 1;
                    self.send_wallet(p, "PSP-1", wallet("withdraw", &player, &t, 1, None));
                    // D-10: at a cash desk, the deposit is refused and the withdrawal paid.
                    self.case("cage_cash_self_excluded");
                    self.player_at_cage(p, true, 100, false);
                    self.player_at_cage(p, false, 1, true);
                    self.case("self_exclusion_active");
                    let t = self.player_tx(p);
                    self.send_wallet(p, "RG-1", self_exclusion(&player, &t, until - 1));
                    let t = self.player_tx(p);
                    self.send_wallet(p, "RG-1", self_exclusion(&player, &t, until + 60_000));
                }
            }
            _ => {
                self.case("mystery_play");
                if self.machines[m].credits < 1_000 {
                    self.machines[m].credits += 10_000;
                    self.send_machine(m, cash_in("bill", 10_000));
                }
                for _ in 0..3 {
                    self.machines[m].credits -= 200;
                    self.send_machine(m, money("bet", 200));
                    self.send_machine(m, InputPayload::GameEnd {});
                }
                self.machines[m].game_open = false;
            }
        }
    }

    /// RULES.md W-9's loss and session limits for a player, from their own random draws.
    pub(super) fn limit_flow(&mut self) {
        let p = self.limits_rng.gen_range(0..self.players.len());
        let player = self.players[p].id.clone();
        match self.limits_rng.gen_range(0..2) {
            0 => {
                // W-9: a loss limit: bets count against it less what comes back; a bet past
                // it is refused whatever the funds; a win (or a refund) makes room again; a
                // raise waits out the cooling-off. What the player lost before counts.
                let period = ["day", "week", "month"][self.limits_rng.gen_range(0..3)];
                self.case("loss_limit");
                let t = self.player_tx(p);
                self.players[p].balance += 4_000;
                self.send_wallet(p, "PSP-1", wallet("deposit", &player, &t, 4_000, None));
                let t = self.player_tx(p);
                self.send_wallet(p, "RG-1", loss_limit(&player, &t, period, Some(2_000)));
                let prov = self.providers[self.limits_rng.gen_range(0..2)].clone();
                let mut first = None;
                for _ in 0..5 {
                    let t = self.player_tx(p);
                    first.get_or_insert_with(|| t.clone());
                    self.send_wallet(p, &prov, wallet("wallet_bet", &player, &t, 600, None));
                }
                self.players[p].balance -= 3_000;
                let t = self.player_tx(p);
                let win = wallet("wallet_win", &player, &t, 1_200, first);
                self.send_wallet(p, &prov, win);
                self.players[p].balance += 1_200;
                let t = self.player_tx(p);
                self.send_wallet(p, &prov, wallet("wallet_bet", &player, &t, 600, None));
                self.players[p].balance -= 600;
                if self.limits_rng.gen_bool(0.5) {
                    self.case("loss_limit_raise_waits");
                    let t = self.player_tx(p);
                    self.send_wallet(p, "RG-1", loss_limit(&player, &t, period, None));
                    let t = self.player_tx(p);
                    self.send_wallet(p, &prov, wallet("wallet_bet", &player, &t, 1_500, None));
                }
            }
            _ => {
                // W-9: a session limit of a minute: bets within it taken, one a minute into
                // the session refused, one after a break longer than the configured one taken
                // (a new session); a removal waits out the cooling-off.
                self.case("session_limit");
                let prov = self.providers[self.limits_rng.gen_range(0..2)].clone();
                let t = self.player_tx(p);
                self.send_wallet(p, "RG-1", session_limit(&player, &t, Some(1)));
                self.ensure_funds(p);
                // The game server's clock runs ahead for these bets (a wallet command is
                // booked at its time as sent, E-3): the stream's own time does not jump.
                let base = self.now;
                let ahead = [0, 30_000, 61_000, 61_000 + SESSION_BREAK_MS + 1];
                for (i, step) in ahead.into_iter().enumerate() {
                    if i == 3 {
                        self.case("session_break");
                    }
                    self.now = base + step;
                    let t = self.player_tx(p);
                    self.send_wallet(p, &prov, wallet("wallet_bet", &player, &t, 10, None));
                    self.players[p].balance -= 10;
                }
                self.now = base;
                let t = self.player_tx(p);
                self.send_wallet(p, "RG-1", session_limit(&player, &t, None));
                if self.limits_rng.gen_bool(0.2) {
                    self.case("session_limit_invalid");
                    let t = self.player_tx(p);
                    self.send_wallet(p, "RG-1", session_limit(&player, &t, Some(1_441)));
                }
            }
        }
    }

    fn player_index(&self, id: &str) -> usize {
        self.players.iter().position(|p| p.id == id).unwrap_or(0)
    }

    pub(super) fn ensure_funds(&mut self, p: usize) {
        if self.players[p].balance < 500 {
            let player = self.players[p].id.clone();
            let tx = self.player_tx(p);
            self.players[p].balance += 1_000;
            self.send_wallet(p, "PSP-1", wallet("deposit", &player, &tx, 1_000, None));
        }
    }
}

fn tx_of(p: &InputPayload) -> (String, String) {
    match p {
        InputPayload::Deposit { player, tx, .. }
        | InputPayload::Withdraw { player, tx, .. }
        | InputPayload::WalletBet { player, tx, .. }
        | InputPayload::WalletWin { player, tx, .. }
        | InputPayload::Rollback { player, tx, .. }
        | InputPayload::KycStatus { player, tx, .. }
        | InputPayload::DepositLimit { player, tx, .. }
        | InputPayload::LossLimit { player, tx, .. }
        | InputPayload::SessionLimit { player, tx, .. }
        | InputPayload::SelfExclusion { player, tx, .. }
        | InputPayload::BonusAward { player, tx, .. } => (player.clone(), tx.clone()),
        _ => (String::new(), String::new()),
    }
}
