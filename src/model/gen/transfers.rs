//! Cashless transfer flows (RULES.md W-10) mixed into generated streams: a cashless host's
//! `transfer_request` holding money in a player's wallet and the machine's `cashless_transfer`
//! taking it, retried, cancelled (twice), lapsed before the machine answers, acknowledged
//! with another amount, beyond the wallet's funds, twice, before the request, without any
//! request; credits sent from a machine to a wallet (beyond its credits too); requests
//! refused for funds, a blocked or a self-excluded player; and facts that are no event (an
//! unknown direction) or in another currency.
//!
//! Like the rest of the generator it knows nothing of the outcomes; it draws from its own
//! random source so that adding it left the rest of every seed's stream as it was (but for
//! the flows between steps and the balances and credits they move).

use rand::Rng;

use crate::wire::InputPayload;

use super::{kyc, self_exclusion, World, CURRENCY, TRANSFER_HOLD_MS};

/// The cashless host that sends the wallet's side of every transfer.
const HOST: &str = "AFT-1";

fn request(player: &str, transfer: &str, machine: &str, amount: i64) -> InputPayload {
    InputPayload::TransferRequest {
        player: player.to_owned(),
        tx: transfer.to_owned(),
        machine: machine.to_owned(),
        amount,
        currency: CURRENCY.to_owned(),
        credit_type: None,
    }
}

fn cancel(player: &str, tx: String, transfer: &str) -> InputPayload {
    InputPayload::TransferCancel {
        player: player.to_owned(),
        tx,
        transfer: transfer.to_owned(),
    }
}

fn fact(transfer: &str, player: &str, direction: &str, amount: i64) -> InputPayload {
    InputPayload::CashlessTransfer {
        transfer: transfer.to_owned(),
        player: player.to_owned(),
        direction: direction.to_owned(),
        amount,
        currency: CURRENCY.to_owned(),
        credit_type: None,
    }
}

impl World {
    /// One transfer flow between a random player's wallet and a random machine.
    pub(super) fn transfer_flow(&mut self) {
        let p = self.transfers.rng.gen_range(0..self.players.len());
        let m = self.transfers.rng.gen_range(0..self.machines.len());
        let player = self.players[p].id.clone();
        let machine = self.machines[m].id.clone();
        let id = self.transfers.next_id();
        let amount = self.transfers.rng.gen_range(1..=4) * 100;
        match self.transfers.rng.gen_range(0..20) {
            0..=5 => {
                // The ordinary flow: held, then taken by its machine; now and then the host
                // retries its request (a repeat), or cancels after the machine took it.
                self.case("transfer_paid");
                self.ensure_funds(p);
                self.xfer_wallet(p, request(&player, &id, &machine, amount));
                if self.transfers.rng.gen_bool(0.3) {
                    self.case("transfer_retry");
                    self.xfer_wallet(p, request(&player, &id, &machine, amount));
                }
                self.xfer_machine(m, p, &id, "to_machine", amount);
                if self.transfers.rng.gen_bool(0.2) {
                    self.case("transfer_cancel_after_ack");
                    let tx = self.player_tx(p);
                    self.xfer_wallet(p, cancel(&player, tx, &id));
                }
            }
            6 => {
                // The machine took another amount than held: less (the rest goes back), a
                // little more (the balance pays), or far more (unbacked).
                self.case("transfer_amount_variance");
                self.ensure_funds(p);
                self.xfer_wallet(p, request(&player, &id, &machine, amount));
                let took = match self.transfers.rng.gen_range(0..3) {
                    0 => amount - 50,
                    1 => amount + 50,
                    _ => {
                        self.case("transfer_unbacked");
                        amount + 100_000
                    }
                };
                self.xfer_machine(m, p, &id, "to_machine", took);
            }
            7 => {
                // Cancelled: the money goes back; a second cancel finds nothing held.
                self.case("transfer_cancelled");
                self.ensure_funds(p);
                self.xfer_wallet(p, request(&player, &id, &machine, amount));
                let tx = self.player_tx(p);
                self.xfer_wallet(p, cancel(&player, tx, &id));
                self.case("transfer_not_held");
                let tx = self.player_tx(p);
                self.xfer_wallet(p, cancel(&player, tx, &id));
            }
            8 => {
                // A request sent a hold's time ago: the next thing the wallet applies lapses
                // it; then the machine takes it anyway, or the host cancels too late.
                self.case("transfer_hold_lapsed");
                self.ensure_funds(p);
                let at = self.now - TRANSFER_HOLD_MS - 1_000;
                let env =
                    self.wallet_envelope(p, HOST, request(&player, &id, &machine, amount), at);
                self.push(env);
                if self.transfers.rng.gen_bool(0.5) {
                    self.case("transfer_ack_after_lapse");
                    self.xfer_machine(m, p, &id, "to_machine", amount);
                } else {
                    let tx = self.player_tx(p);
                    self.xfer_wallet(p, cancel(&player, tx, &id));
                }
            }
            9 => {
                // A machine's acknowledgement nobody asked for: the balance pays it, or
                // cannot.
                self.case("transfer_without_hold");
                let took = if self.transfers.rng.gen_bool(0.5) {
                    amount
                } else {
                    200_000
                };
                self.xfer_machine(m, p, &id, "to_machine", took);
            }
            10 => {
                // The same transfer taken by a second event of the machine.
                self.case("transfer_acknowledged_twice");
                self.ensure_funds(p);
                self.xfer_wallet(p, request(&player, &id, &machine, amount));
                self.xfer_machine(m, p, &id, "to_machine", amount);
                self.xfer_machine(m, p, &id, "to_machine", amount);
            }
            11 => {
                // The machine's acknowledgement read before the request: the request holds
                // nothing, and there is nothing to cancel.
                self.case("transfer_ack_before_request");
                self.ensure_funds(p);
                self.xfer_machine(m, p, &id, "to_machine", amount);
                self.xfer_wallet(p, request(&player, &id, &machine, amount));
                let tx = self.player_tx(p);
                self.xfer_wallet(p, cancel(&player, tx, &id));
            }
            12..=14 => {
                // The machine sends its credits to the wallet; with none, beyond them.
                let credits = self.machines[m].credits;
                let sent = if credits > 0 {
                    self.case("transfer_from_machine");
                    credits.min(5_000)
                } else {
                    self.case("transfer_from_machine_beyond_credits");
                    amount
                };
                self.xfer_machine(m, p, &id, "from_machine", sent);
                if self.transfers.rng.gen_bool(0.1) {
                    self.case("transfer_from_machine_twice");
                    self.xfer_machine(m, p, &id, "from_machine", sent);
                }
            }
            15 => {
                self.case("transfer_insufficient_funds");
                let a = self.players[p].balance.max(0) + 100_000;
                self.xfer_wallet(p, request(&player, &id, &machine, a));
            }
            16 => {
                // W-8: a blocked player's money is not held; the block is lifted again.
                self.case("transfer_player_blocked");
                let tx = self.player_tx(p);
                self.xfer_wallet_as(p, "KYC-1", kyc(&player, &tx, "blocked"));
                self.xfer_wallet(p, request(&player, &id, &machine, amount));
                let tx = self.player_tx(p);
                let back = if self.players[p].verified {
                    "verified"
                } else {
                    "unverified"
                };
                self.xfer_wallet_as(p, "KYC-1", kyc(&player, &tx, back));
            }
            17 => {
                // W-9: a self-excluded player's money is not held (a second's exclusion).
                self.case("transfer_self_excluded");
                let tx = self.player_tx(p);
                let until = self.now + 1_000;
                self.xfer_wallet_as(p, "RG-1", self_exclusion(&player, &tx, until));
                self.xfer_wallet(p, request(&player, &id, &machine, amount));
            }
            18 => {
                // Not an event: a direction that is neither (rejected, malformed).
                self.case("transfer_invalid_direction");
                self.send_machine(m, fact(&id, &player, "sideways", amount));
            }
            _ => {
                // Another currency: the machine counts nothing, the wallet hears nothing.
                self.case("transfer_wrong_currency");
                let mut f = fact(&id, &player, "to_machine", amount);
                if let InputPayload::CashlessTransfer { currency, .. } = &mut f {
                    *currency = "USD".to_owned();
                }
                self.send_machine(m, f);
            }
        }
    }

    /// A command of the cashless host.
    fn xfer_wallet(&mut self, p: usize, payload: InputPayload) {
        self.xfer_wallet_as(p, HOST, payload);
    }

    /// A command for the player's wallet, sent now and not kept for the ordinary retries
    /// (the flows make their own).
    fn xfer_wallet_as(&mut self, p: usize, provider: &str, payload: InputPayload) {
        if let InputPayload::TransferRequest { amount, .. } = &payload {
            // Roughly: most holds are taken by their machines.
            self.players[p].balance -= amount;
        }
        let env = self.wallet_envelope(p, provider, payload, self.now);
        self.push(env);
    }

    /// The machine's word on a transfer, with the generator's rough books moved.
    fn xfer_machine(&mut self, m: usize, p: usize, id: &str, direction: &str, amount: i64) {
        let player = self.players[p].id.clone();
        if direction == "to_machine" {
            self.machines[m].credits += amount;
        } else {
            self.machines[m].credits -= amount;
            self.players[p].balance += amount;
        }
        self.send_machine(m, fact(id, &player, direction, amount));
    }
}
