//! Bonus flows (RULES.md W-12) mixed into generated streams: the promotions system awards
//! bonus money (wagering 0, small multiples that ordinary play meets, large ones it does
//! not; expiring within the stream or long after), the player stakes it with wins naming
//! the bets and rollbacks; awards refused (a blocked or self-excluded player) or rejected
//! (an expiry at or before the command's time, a wagering multiple out of range); a bonus
//! spent before the next award; restricted transfers to machines held from the bonus and
//! acknowledged as restricted or (mismatched) cashable credits, beyond the hold, below it,
//! cancelled, lapsed, before their request, without any; credit types no rule knows, a
//! restricted transfer from a machine, and version 1 events whose credit type is ignored;
//! and awards to players pitboss knows nothing of, or made known in each way (`known.rs`).
//!
//! Like the rest of the generator it knows nothing of the outcomes (the model counts those,
//! `Model::bonus_events`); its own random draws, so that adding it left the rest of every
//! seed's draws as they were.

use rand::Rng;

use crate::wire::{InputEnvelope, InputPayload};

use super::{kyc, rollback, self_exclusion, wallet, World, CURRENCY, TRANSFER_HOLD_MS};

/// The promotions system that awards bonuses.
pub(super) const PROMOS: &str = "PROMO-1";
/// The cashless host of restricted transfers.
const HOST: &str = "AFT-2";
/// A week: a bonus that outlives any stream.
const WEEK_MS: i64 = 7 * 86_400_000;

/// An award.
pub(super) fn award(
    player: &str,
    tx: &str,
    amount: i64,
    wagering: i64,
    expires_at: i64,
) -> InputPayload {
    InputPayload::BonusAward {
        player: player.to_owned(),
        tx: tx.to_owned(),
        amount,
        currency: CURRENCY.to_owned(),
        wagering,
        expires_at,
    }
}

/// A transfer request with a credit type.
fn request(player: &str, id: &str, machine: &str, amount: i64, ct: Option<&str>) -> InputPayload {
    InputPayload::TransferRequest {
        player: player.to_owned(),
        tx: id.to_owned(),
        machine: machine.to_owned(),
        amount,
        currency: CURRENCY.to_owned(),
        credit_type: ct.map(str::to_owned),
    }
}

/// A machine's cashless transfer with a credit type.
fn fact(id: &str, player: &str, direction: &str, amount: i64, ct: Option<&str>) -> InputPayload {
    InputPayload::CashlessTransfer {
        transfer: id.to_owned(),
        player: player.to_owned(),
        direction: direction.to_owned(),
        amount,
        currency: CURRENCY.to_owned(),
        credit_type: ct.map(str::to_owned),
    }
}

fn cancel(player: &str, tx: String, transfer: &str) -> InputPayload {
    InputPayload::TransferCancel {
        player: player.to_owned(),
        tx,
        transfer: transfer.to_owned(),
    }
}

impl World {
    /// One bonus flow for a random player; with `machines` false only those without a machine's fact (the
    /// arms before the first restricted transfer): a stream without transfers (W-10) keeps
    /// every wallet's order the input's through several partitions.
    pub(super) fn bonus_flow(&mut self, machines: bool) {
        let p = self.bonus_rng.gen_range(0..self.players.len());
        let player = self.players[p].id.clone();
        let arms = if machines { 26 } else { 13 };
        match self.bonus_rng.gen_range(0..arms) {
            0..=5 => self.bonus_play(p),
            6 => self.fresh_bonus_wallet(),
            7 | 8 => {
                // A bonus expiring within the stream, and the player's next command after
                // its expiry: the bonus is gone before it.
                self.case("bonus_expiry_in_stream");
                let tx = self.player_tx(p);
                let amount = self.bonus_amount();
                let at = self.now + self.bonus_rng.gen_range(500..3_000);
                self.bonus_cmd(p, PROMOS, award(&player, &tx, amount, 5, at), None);
                if self.bonus_rng.gen_bool(0.5) {
                    self.bonus_bets(p, 2);
                }
                self.case("bonus_expired_before_command");
                self.now = at + self.bonus_rng.gen_range(0..2_000);
                self.bonus_bets(p, 1);
            }
            9 => {
                // W-8: no promotion reaches a blocked player; the block is lifted again.
                self.case("bonus_player_blocked");
                let tx = self.player_tx(p);
                self.bonus_cmd(p, "KYC-1", kyc(&player, &tx, "blocked"), None);
                let tx = self.player_tx(p);
                let at = self.now + WEEK_MS;
                self.bonus_cmd(p, PROMOS, award(&player, &tx, 500, 1, at), None);
                let tx = self.player_tx(p);
                let back = if self.players[p].verified {
                    "verified"
                } else {
                    "unverified"
                };
                self.bonus_cmd(p, "KYC-1", kyc(&player, &tx, back), None);
            }
            10 => {
                // W-9: nor a self-excluded one (a second's exclusion).
                self.case("bonus_self_excluded");
                let tx = self.player_tx(p);
                let until = self.now + 1_000;
                self.bonus_cmd(p, "RG-1", self_exclusion(&player, &tx, until), None);
                let tx = self.player_tx(p);
                let at = self.now + WEEK_MS;
                self.bonus_cmd(p, PROMOS, award(&player, &tx, 500, 1, at), None);
            }
            11 => {
                // E-1: an expiry at or before the command's time, or a wagering multiple out
                // of 0..=100: not an event.
                let tx = self.player_tx(p);
                let payload = match self.bonus_rng.gen_range(0..3) {
                    0 => {
                        self.case("bonus_expiry_malformed");
                        award(
                            &player,
                            &tx,
                            500,
                            1,
                            self.now - self.bonus_rng.gen_range(0..2),
                        )
                    }
                    1 => {
                        self.case("bonus_wagering_malformed");
                        award(&player, &tx, 500, 101, self.now + WEEK_MS)
                    }
                    _ => {
                        self.case("bonus_wagering_malformed");
                        award(&player, &tx, 500, -1, self.now + WEEK_MS)
                    }
                };
                self.bonus_cmd(p, PROMOS, payload, None);
            }
            12 => {
                // A bonus spent before the next award: the award clears what was left to
                // wager. The player's cash goes first (a withdrawal of it, if allowed), then
                // bets the size of the bonus.
                self.case("bonus_award_after_spent");
                let tx = self.player_tx(p);
                self.bonus_cmd(
                    p,
                    PROMOS,
                    award(&player, &tx, 300, 50, self.now + WEEK_MS),
                    None,
                );
                let cash = self.players[p].balance;
                if cash > 0 && cash <= super::KYC_WITHDRAWAL_MAX {
                    let tx = self.player_tx(p);
                    self.players[p].balance = 0;
                    self.bonus_cmd(
                        p,
                        "PSP-1",
                        wallet("withdraw", &player, &tx, cash, None),
                        None,
                    );
                }
                let prov = self.provider();
                for _ in 0..3 {
                    let tx = self.player_tx(p);
                    self.send_wallet(p, &prov, wallet("wallet_bet", &player, &tx, 100, None));
                }
                let tx = self.player_tx(p);
                self.bonus_cmd(
                    p,
                    PROMOS,
                    award(&player, &tx, 200, 2, self.now + WEEK_MS),
                    None,
                );
            }
            13..=15 => self.restricted_transfer(p),
            16 => {
                // A restricted hold, acknowledged as cashable credits: the hold stays (then
                // cancelled back to the bonus, or left to lapse) and the balance pays.
                self.case("restricted_hold_cashable_ack");
                self.ensure_bonus(p);
                self.ensure_funds(p);
                let (m, id) = (self.v2_machine(true), self.transfers.next_id());
                let machine = self.machines[m].id.clone();
                let amount = self.bonus_rng.gen_range(1..=3) * 100;
                let r = request(&player, &id, &machine, amount, Some("restricted"));
                self.bonus_cmd(p, HOST, r, Some(true));
                self.bonus_fact(m, p, &id, "to_machine", amount, None);
                if self.bonus_rng.gen_bool(0.5) {
                    let tx = self.player_tx(p);
                    self.bonus_cmd(p, HOST, cancel(&player, tx, &id), None);
                }
            }
            17 => {
                // A cashable hold, acknowledged as restricted credits: the bonus pays (what
                // it can), the hold stays.
                self.case("cashable_hold_restricted_ack");
                self.ensure_bonus(p);
                self.ensure_funds(p);
                let (m, id) = (self.v2_machine(true), self.transfers.next_id());
                let machine = self.machines[m].id.clone();
                let amount = self.bonus_rng.gen_range(1..=3) * 100;
                let r = request(&player, &id, &machine, amount, Some("cashable"));
                self.bonus_cmd(p, HOST, r, Some(true));
                self.bonus_fact(m, p, &id, "to_machine", amount, Some("restricted"));
            }
            18 => {
                // A restricted hold cancelled (back to the bonus; again: not held), or sent a
                // hold's time ago and lapsed at the next thing the wallet applies.
                self.ensure_bonus(p);
                let (m, id) = (self.v2_machine(true), self.transfers.next_id());
                let machine = self.machines[m].id.clone();
                let amount = self.bonus_rng.gen_range(1..=3) * 100;
                let r = request(&player, &id, &machine, amount, Some("restricted"));
                if self.bonus_rng.gen_bool(0.5) {
                    self.case("restricted_transfer_cancelled");
                    self.bonus_cmd(p, HOST, r, Some(true));
                    for _ in 0..2 {
                        let tx = self.player_tx(p);
                        self.bonus_cmd(p, HOST, cancel(&player, tx, &id), None);
                    }
                } else {
                    self.case("restricted_hold_lapsed");
                    let at = self.now - TRANSFER_HOLD_MS - 1_000;
                    let mut env = self.wallet_envelope(p, HOST, r, at);
                    force_version(&mut env, true);
                    self.push(env);
                    self.bonus_bets(p, 1);
                }
            }
            19 => {
                // Restricted credits taken before the request (the request holds and the
                // acknowledgement takes the hold), or with no request at all (after the wait
                // the bonus pays what it can, the rest is unbacked).
                self.ensure_bonus(p);
                let (m, id) = (self.v2_machine(true), self.transfers.next_id());
                let machine = self.machines[m].id.clone();
                let amount = self.bonus_rng.gen_range(1..=3) * 100;
                if self.bonus_rng.gen_bool(0.5) {
                    self.case("restricted_ack_before_request");
                    self.bonus_fact(m, p, &id, "to_machine", amount, Some("restricted"));
                    let r = request(&player, &id, &machine, amount, Some("restricted"));
                    self.bonus_cmd(p, HOST, r, Some(true));
                } else {
                    self.case("restricted_ack_without_request");
                    let took = if self.bonus_rng.gen_bool(0.5) {
                        amount
                    } else {
                        50_000
                    };
                    self.bonus_fact(m, p, &id, "to_machine", took, Some("restricted"));
                }
            }
            20 => {
                // E-1: credit types no rule knows, and restricted credits from a machine.
                let (m, id) = (self.v2_machine(true), self.transfers.next_id());
                let machine = self.machines[m].id.clone();
                match self.bonus_rng.gen_range(0..3) {
                    0 => {
                        self.case("transfer_credit_type_malformed");
                        let r = request(&player, &id, &machine, 100, Some("nonrestricted"));
                        self.bonus_cmd(p, HOST, r, Some(true));
                    }
                    1 => {
                        self.case("transfer_credit_type_malformed");
                        let f = fact(&id, &player, "to_machine", 100, Some("freeplay"));
                        let env = self.machine_event(m, f);
                        self.deliver_machine(m, env);
                    }
                    _ => {
                        self.case("restricted_from_machine");
                        let f = fact(&id, &player, "from_machine", 100, Some("restricted"));
                        let env = self.machine_event(m, f);
                        self.deliver_machine(m, env);
                    }
                }
            }
            21 => {
                // E-2: version 1 has no credit type: a request and an acknowledgement that
                // name `restricted` anyway are cashable.
                self.case("credit_type_ignored_in_v1");
                self.ensure_funds(p);
                let (m, id) = (self.v2_machine(false), self.transfers.next_id());
                let machine = self.machines[m].id.clone();
                let amount = self.bonus_rng.gen_range(1..=3) * 100;
                let r = request(&player, &id, &machine, amount, Some("restricted"));
                self.players[p].balance -= amount;
                self.bonus_cmd(p, HOST, r, Some(false));
                self.bonus_fact(m, p, &id, "to_machine", amount, Some("restricted"));
            }
            _ => {
                // An award on top of a bonus still there: the amounts add, the later expiry
                // stands.
                self.case("bonus_award_on_top");
                self.ensure_bonus(p);
                let tx = self.player_tx(p);
                let amount = self.bonus_amount();
                let at = self.bonus_expiry();
                self.bonus_cmd(p, PROMOS, award(&player, &tx, amount, 2, at), None);
            }
        }
    }

    /// An award, then play on it: bets (drawn from the cash and the bonus), wins naming
    /// them (split like the bet), rollbacks; the rest left open for ordinary play.
    fn bonus_play(&mut self, p: usize) {
        let player = self.players[p].id.clone();
        self.case("bonus_award");
        let wagering = [0, 1, 1, 2, 3, 5, 10, 35][self.bonus_rng.gen_range(0..8)];
        if wagering == 0 {
            self.case("bonus_wagering_zero");
        }
        let amount = self.bonus_amount();
        let at = self.bonus_expiry();
        let tx = self.player_tx(p);
        self.bonus_cmd(p, PROMOS, award(&player, &tx, amount, wagering, at), None);
        let n = self.bonus_rng.gen_range(2..8);
        self.bonus_bets(p, n);
    }

    /// `n` bets of the player, each won (naming it), rolled back or left open.
    fn bonus_bets(&mut self, p: usize, n: usize) {
        let player = self.players[p].id.clone();
        let prov = self.providers[self.bonus_rng.gen_range(0..2)].clone();
        for _ in 0..n {
            let a = [50, 100, 200, 300, 500][self.bonus_rng.gen_range(0..5)];
            let tx = self.player_tx(p);
            self.players[p].balance -= a;
            self.send_wallet(p, &prov, wallet("wallet_bet", &player, &tx, a, None));
            match self.bonus_rng.gen_range(0..10) {
                0..=4 => {
                    // An amount that seldom divides evenly: the bonus part rounds down.
                    self.case("bonus_win_named");
                    let win = a * self.bonus_rng.gen_range(1..4) + self.bonus_rng.gen_range(0..7);
                    self.players[p].balance += win;
                    let t = self.player_tx(p);
                    let w = wallet("wallet_win", &player, &t, win, Some(tx.clone()));
                    self.send_wallet(p, &prov, w);
                    self.players[p].settled_bets.push((prov.clone(), tx));
                }
                5 | 6 => {
                    self.case("bonus_bet_rolled_back");
                    self.players[p].balance += a;
                    let t = self.player_tx(p);
                    self.send_wallet(p, &prov, rollback(&player, &t, &tx));
                }
                _ => self.players[p].open_bets.push((prov.clone(), tx, a)),
            }
        }
    }

    /// A restricted transfer held from the bonus and taken by its machine: as held, less
    /// (the rest back to the bonus), more (the bonus pays) or far more (unbacked); now and
    /// then the host retries its request.
    fn restricted_transfer(&mut self, p: usize) {
        let player = self.players[p].id.clone();
        self.ensure_bonus(p);
        let (m, id) = (self.v2_machine(true), self.transfers.next_id());
        let machine = self.machines[m].id.clone();
        let amount = self.bonus_rng.gen_range(1..=4) * 100;
        let r = request(&player, &id, &machine, amount, Some("restricted"));
        self.bonus_cmd(p, HOST, r.clone(), Some(true));
        if self.bonus_rng.gen_bool(0.2) {
            self.case("restricted_transfer_retry");
            self.bonus_cmd(p, HOST, r, Some(true));
        }
        let took = match self.bonus_rng.gen_range(0..5) {
            0 => {
                self.case("restricted_transfer_less");
                amount - 50
            }
            1 => {
                self.case("restricted_transfer_more");
                amount + 50
            }
            2 => {
                self.case("restricted_transfer_unbacked");
                amount + 100_000
            }
            _ => {
                self.case("restricted_transfer_paid");
                amount
            }
        };
        self.bonus_fact(m, p, &id, "to_machine", took, Some("restricted"));
    }

    /// An award now and then, so that a flow on restricted credits has a bonus to hold.
    fn ensure_bonus(&mut self, p: usize) {
        if self.bonus_rng.gen_bool(0.6) {
            let player = self.players[p].id.clone();
            let tx = self.player_tx(p);
            let at = self.bonus_expiry();
            self.bonus_cmd(p, PROMOS, award(&player, &tx, 1_000, 5, at), None);
        }
    }

    /// An expiry: within minutes, within hours (past the stream's jumps of hours, RULES.md
    /// W-2's retries), or a week. An award on top of a bonus keeps the later of the two, so
    /// most of a player's bonuses last as long as the longest award.
    fn bonus_expiry(&mut self) -> i64 {
        match self.bonus_rng.gen_range(0..10) {
            0..=2 => {
                self.case("bonus_expiry_in_stream");
                self.now + self.bonus_rng.gen_range(5_000..120_000)
            }
            3..=8 => self.now + self.bonus_rng.gen_range(3_600_000..4 * 3_600_000),
            _ => self.now + WEEK_MS,
        }
    }

    /// A wallet of its own (nobody else's commands reach it): a bonus that expires while
    /// it is staked, a restricted hold held past the expiry (it comes back and is gone
    /// too), a win of a bet made of bonus named after it (its bonus part is gone at once).
    fn fresh_bonus_wallet(&mut self) {
        self.bonus_serial += 1;
        let player = format!("P-B{:04}", self.bonus_serial);
        let v2 = self.bonus_rng.gen_bool(0.5);
        let at = self.now + self.bonus_rng.gen_range(1_000..5_000);
        let prov = self.providers[self.bonus_rng.gen_range(0..2)].clone();
        let tx = |n: u32| format!("TB-{n}");
        self.case("bonus_fresh_wallet");
        // Known to pitboss (W-12's `player_unknown`) by the KYC provider's word alone: the
        // bet below draws on the bonus, there is no cash.
        self.own("KYC-1", kyc(&player, &tx(0), "verified"), v2);
        self.own(PROMOS, award(&player, &tx(1), 500, 3, at), v2);
        self.own(&prov, wallet("wallet_bet", &player, &tx(2), 200, None), v2);
        if self.bonus_rng.gen_bool(0.5) {
            let (m, id) = (self.v2_machine(true), self.transfers.next_id());
            let machine = self.machines[m].id.clone();
            let r = request(&player, &id, &machine, 100, Some("restricted"));
            self.own(HOST, r, true);
        }
        self.now = at + self.bonus_rng.gen_range(0..1_000);
        let w = wallet("wallet_win", &player, &tx(3), 150, Some(tx(2)));
        self.own(&prov, w, v2);
        self.now += TRANSFER_HOLD_MS + 1;
        let d = wallet("deposit", &player, &tx(4), 100, None);
        self.own("PSP-1", d, v2);
    }

    /// A command for a wallet of its own, in version 2 (`true`) or 1.
    pub(super) fn own(&mut self, provider: &str, payload: InputPayload, v2: bool) {
        let id = self.next_id();
        let mut env = InputEnvelope {
            event_id: id,
            schema_version: 2,
            source: crate::wire::Source {
                hall: "ONLINE-1".to_owned(),
                machine: None,
                server: Some(provider.to_owned()),
            },
            epoch: None,
            seq: 0,
            event_time: self.now,
            receive_time: None,
            payload,
        };
        force_version(&mut env, v2);
        self.push(env);
    }

    fn bonus_amount(&mut self) -> i64 {
        [150, 300, 500, 1_000, 2_000][self.bonus_rng.gen_range(0..5)]
    }

    /// A machine of version 2 (`true`) or 1, at random; any machine if there is none.
    fn v2_machine(&mut self, v2: bool) -> usize {
        let of: Vec<usize> = (0..self.machines.len())
            .filter(|m| self.machines[*m].v2 == v2)
            .collect();
        if of.is_empty() {
            self.bonus_rng.gen_range(0..self.machines.len())
        } else {
            of[self.bonus_rng.gen_range(0..of.len())]
        }
    }

    /// A wallet command sent now in the player's version, or in the one given; kept for
    /// the ordinary retries and conflicts.
    fn bonus_cmd(&mut self, p: usize, provider: &str, payload: InputPayload, v2: Option<bool>) {
        let mut env = self.wallet_envelope(p, provider, payload.clone(), self.now);
        if let Some(v2) = v2 {
            force_version(&mut env, v2);
        } else {
            self.sent_wallet
                .push((provider.to_owned(), payload, self.players[p].v2));
        }
        self.push(env);
    }

    /// The machine's word on a transfer, with the generator's rough books moved (restricted
    /// credits on a version 2 machine are promotional credits, M-13).
    fn bonus_fact(
        &mut self,
        m: usize,
        p: usize,
        id: &str,
        direction: &str,
        amount: i64,
        ct: Option<&str>,
    ) {
        let player = self.players[p].id.clone();
        let v2 = self.machines[m].v2;
        let restricted = v2 && ct == Some("restricted");
        if restricted {
            self.machines[m].restricted += amount;
        } else {
            self.machines[m].credits += amount;
        }
        self.send_machine(m, fact(id, &player, direction, amount, ct));
        if !v2 && ct == Some("restricted") {
            // Version 1 ignores the credit type: the machine's own meter counts it cashable.
            self.machines[m].meters.cashless_in += amount;
        }
    }
}

/// Sends a wallet command in version 2 (`true`, with a receive time) or 1.
fn force_version(env: &mut InputEnvelope, v2: bool) {
    env.schema_version = if v2 { 2 } else { 1 };
    env.receive_time = v2.then_some(env.event_time + 2);
}
