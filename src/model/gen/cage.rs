//! Wallet cash at the cage (RULES.md D-10) mixed into generated streams: players of the
//! cage flows' own deposit and withdraw at the listed cash desks ([`super::CASH_DESKS`])
//! while a shift is open, between shifts (unshifted), dated inside a shift the desk closed
//! (a revision), at a shift's opening and closing instants, and read before the
//! `shift_open` of the shift that takes them; withdrawals beyond the balance
//! (`insufficient_funds`) and, by a player not verified, beyond the KYC limit
//! (`kyc_required`); the same deposit or withdrawal again (a retry under its tx, or the very
//! message delivered again: it books nothing the second time) and its tx with another
//! amount (`tx_conflict`); deposits and withdrawals at a desk that sells tickets but is not
//! listed ([`super::UNLISTED_CAGE`]: no drawer moves) and at a listed desk that never opens
//! a shift. The special cases' blocked, limited and self-excluded players (`cases.rs`)
//! also try the cage ([`World::player_at_cage`]).
//!
//! Like the rest of the generator it knows nothing of the outcomes: it keeps its players'
//! balances (only it sends for them) and notes the cash it expects a desk's drawer to take
//! in the desk's book, so that the desk flows count a shift as expected. Its own random
//! draws (`Desks::cash_rng`), so that adding it left the other draws of every seed as they
//! were.

use rand::Rng;

use crate::wire::{InputEnvelope, InputPayload, Source};

use super::desk_books::{Open, Patron, RUSH};
use super::desks::open;
use super::{hall_name, kyc, wallet, World, CASH_DESKS, KYC_WITHDRAWAL_MAX, UNLISTED_CAGE};

/// The cage flows' own players: the even ones verified (RULES.md W-8), the odd ones not.
const PATRONS: usize = 4;

/// The listed desk that never opens a shift (its wallet cash is all unshifted, D-3).
const EXPRESS: &str = CASH_DESKS[3];

impl World {
    /// The cage flows' players, made (and the even ones verified) at the first flow.
    fn patrons(&mut self) {
        while self.desks.patrons.len() < PATRONS {
            let n = self.desks.patrons.len();
            let patron = Patron {
                id: format!("P-C{:03}", n + 1),
                v2: self.desks.cash_rng.gen_bool(0.5),
                verified: n.is_multiple_of(2),
                balance: 0,
            };
            if patron.verified {
                let tx = self.desks.cash_tx();
                let env = self.cash_envelope(
                    "KYC-1",
                    "ONLINE-1",
                    patron.v2,
                    self.now,
                    kyc(&patron.id, &tx, "verified"),
                );
                self.push(env);
            }
            self.desks.patrons.push(patron);
        }
    }

    /// A message from `server` in `hall` dated `time`, in version 2 (`true`) or 1.
    fn cash_envelope(
        &mut self,
        server: &str,
        hall: &str,
        v2: bool,
        time: i64,
        payload: InputPayload,
    ) -> InputEnvelope {
        InputEnvelope {
            event_id: self.next_id(),
            schema_version: if v2 { 2 } else { 1 },
            source: Source {
                hall: hall.to_owned(),
                machine: None,
                server: Some(server.to_owned()),
            },
            epoch: None,
            seq: 0,
            event_time: time,
            receive_time: v2.then_some(self.now + 2),
            payload,
        }
    }

    /// The hall of `desk`: its book's, else the hall its name says (a cage's), else the
    /// first.
    fn desk_hall(&self, desk: &str) -> String {
        if let Some(b) = self.desks.books.get(desk) {
            return b.hall.clone();
        }
        if desk == RUSH {
            return hall_name(self.halls - 1);
        }
        match desk.strip_prefix("CAGE-").map(str::parse::<usize>) {
            Some(Ok(h)) => hall_name(h),
            _ => hall_name(0),
        }
    }

    /// A listed cage (RULES.md D-10) with its book: the first hall's, or the third's.
    fn listed_cage(&mut self) -> String {
        let h = if self.halls > 2 && self.desks.cash_rng.gen_bool(0.5) {
            2
        } else {
            0
        };
        self.cage_book(h)
    }

    /// A wallet command sent from `desk` (its hall the desk's) dated `time`, kept for
    /// repeats; the cash it moves, when the generator expects the wallet to apply it at a
    /// listed desk, noted in the desk's book (`expected`: + in, - out).
    fn send_at_desk(
        &mut self,
        desk: &str,
        v2: bool,
        time: i64,
        payload: InputPayload,
        expected: Option<i64>,
    ) {
        if let Some(delta) = expected.filter(|_| CASH_DESKS.contains(&desk)) {
            self.desks.note_cash(desk, time, delta);
        }
        let hall = self.desk_hall(desk);
        let env = self.cash_envelope(desk, &hall, v2, time, payload);
        self.desks.cash_sent.push(env.clone());
        self.push(env);
    }

    /// Patron `p` deposits `amount` at `desk`, dated `time`.
    fn patron_deposit(&mut self, p: usize, desk: &str, time: i64, amount: i64) {
        let tx = self.desks.cash_tx();
        let pat = &mut self.desks.patrons[p];
        pat.balance += amount;
        let (id, v2) = (pat.id.clone(), pat.v2);
        let d = wallet("deposit", &id, &tx, amount, None);
        self.send_at_desk(desk, v2, time, d, Some(amount));
    }

    /// Patron `p` withdraws `amount` at `desk`, dated `time`; `applied`: the generator
    /// expects the wallet to pay it.
    fn patron_withdrawal(&mut self, p: usize, desk: &str, time: i64, amount: i64, applied: bool) {
        let tx = self.desks.cash_tx();
        let pat = &mut self.desks.patrons[p];
        if applied {
            pat.balance -= amount;
        }
        let (id, v2) = (pat.id.clone(), pat.v2);
        let w = wallet("withdraw", &id, &tx, amount, None);
        self.send_at_desk(desk, v2, time, w, applied.then_some(-amount));
    }

    /// What a patron deposits: mostly small sums, now and then one near the AML floors.
    fn cage_amount(&mut self) -> i64 {
        if self.desks.cash_rng.gen_range(0..10) == 0 {
            self.desks.cash_rng.gen_range(50..150) * 100
        } else {
            self.desks.cash_rng.gen_range(1..50) * 100
        }
    }

    /// What patron `p` may withdraw and be paid: part of the balance, within the KYC limit
    /// for a player not verified; `None` when the balance is too small.
    fn cage_payout(&mut self, p: usize) -> Option<i64> {
        let pat = &self.desks.patrons[p];
        let most = if pat.verified {
            pat.balance
        } else {
            pat.balance.min(KYC_WITHDRAWAL_MAX)
        };
        (most >= 100).then(|| self.desks.cash_rng.gen_range(1..=most / 100) * 100)
    }

    /// Names the case of cash at a listed `desk` dated `time`: in the shift the generator
    /// believes open, or unshifted.
    fn cage_where(&mut self, desk: &str, time: i64) {
        let in_shift = self.desks.books[desk]
            .open
            .as_ref()
            .is_some_and(|o| o.opened_at <= time);
        self.case(if in_shift {
            "cage_cash_in_shift"
        } else {
            "cage_cash_unshifted"
        });
    }

    /// One flow of wallet cash at the cage.
    pub(super) fn cage_cash_flow(&mut self) {
        self.patrons();
        let p = self.desks.cash_rng.gen_range(0..PATRONS);
        match self.desks.cash_rng.gen_range(0..100) {
            0..=29 => self.cage_deposit(p),
            30..=47 => self.cage_withdrawal(p),
            48..=54 => self.cage_cash_revision(p),
            55..=61 => self.cage_cash_read_before_open(p),
            62..=67 => self.cage_cash_repeat(),
            68..=70 => self.cage_cash_conflict(),
            71..=76 => self.cage_cash_unlisted(p),
            77..=81 => self.cage_cash_without_shifts(p),
            82..=86 => self.cage_withdrawal_beyond_funds(),
            87..=91 => self.cage_withdrawal_beyond_kyc(),
            _ => self.cage_cash_at_shift_edge(p),
        }
    }

    /// RULES.md D-10: a deposit at a listed cage now, in its shift or between shifts.
    fn cage_deposit(&mut self, p: usize) {
        self.case("cage_deposit");
        let desk = self.listed_cage();
        let (now, amount) = (self.now, self.cage_amount());
        self.cage_where(&desk, now);
        self.patron_deposit(p, &desk, now, amount);
    }

    /// RULES.md D-10: a withdrawal at a listed cage now (a deposit first when the player has
    /// too little).
    fn cage_withdrawal(&mut self, p: usize) {
        let Some(amount) = self.cage_payout(p) else {
            return self.cage_deposit(p);
        };
        self.case("cage_withdrawal");
        let desk = self.listed_cage();
        let now = self.now;
        self.cage_where(&desk, now);
        self.patron_withdrawal(p, &desk, now, amount, true);
    }

    /// RULES.md D-10, D-5: a deposit or withdrawal dated inside a shift a listed desk (a
    /// cage, or the desk of quick shifts) closed, read after its close: the shift is revised.
    fn cage_cash_revision(&mut self, p: usize) {
        let closed: Vec<(String, i64, i64)> = CASH_DESKS
            .iter()
            .filter_map(|d| self.desks.books.get(*d).map(|b| (*d, b)))
            .flat_map(|(d, b)| {
                let n = b.shifts.len();
                b.shifts[n.saturating_sub(3)..]
                    .iter()
                    .filter(|(o, c)| c > o)
                    .map(move |(o, c)| (d.to_owned(), *o, *c))
            })
            .collect();
        if closed.is_empty() {
            return self.cage_deposit(p);
        }
        let (desk, opened, closed_at) =
            closed[self.desks.cash_rng.gen_range(0..closed.len())].clone();
        self.case("cage_cash_revision");
        if desk == RUSH {
            self.case("cage_cash_revises_rush_shift");
        }
        let at = self.desks.cash_rng.gen_range(opened..closed_at);
        match self.cage_payout(p) {
            Some(amount) if self.desks.cash_rng.gen_bool(0.4) => {
                self.case("cage_withdrawal_revision");
                self.patron_withdrawal(p, &desk, at, amount, true);
            }
            _ => {
                let amount = self.cage_amount();
                self.patron_deposit(p, &desk, at, amount);
            }
        }
    }

    /// RULES.md D-10, D-3: deposits and a withdrawal at a listed cage with no shift open,
    /// read before the `shift_open` of the shift that takes them (dated at or after its
    /// opening), one dated before it (it stays unshifted); then the opening.
    fn cage_cash_read_before_open(&mut self, p: usize) {
        // A listed cage the generator believes closed (they are open most of the time).
        let mut closed = vec![self.cage_book(0)];
        if self.halls > 2 {
            closed.push(self.cage_book(2));
        }
        closed.retain(|d| self.desks.books[d].open.is_none());
        if closed.is_empty() {
            return self.cage_deposit(p);
        }
        let desk = closed.swap_remove(self.desks.cash_rng.gen_range(0..closed.len()));
        self.case("cage_cash_read_before_open");
        let now = self.now;
        let before = now - self.desks.cash_rng.gen_range(1..30);
        let amount = self.cage_amount();
        self.patron_deposit(p, &desk, before, amount);
        let at = now + self.desks.cash_rng.gen_range(0..30);
        let amount = self.cage_amount();
        self.patron_deposit(p, &desk, at, amount);
        if let Some(amount) = self.cage_payout(p) {
            self.case("cage_withdrawal_read_before_open");
            let at = now + self.desks.cash_rng.gen_range(0..30);
            self.patron_withdrawal(p, &desk, at, amount, true);
        }
        self.cage_open(&desk);
    }

    /// A shift opens now at `desk` (RULES.md D-1), from the cage flows' own draws; the
    /// desk's book takes the cash it noted with no shift open, dated at or after now (D-3).
    fn cage_open(&mut self, desk: &str) {
        let float = [0, 20_000, 50_000][self.desks.cash_rng.gen_range(0..3)];
        let now = self.now;
        if let Some(b) = self.desks.books.get_mut(desk) {
            let taken: i64 = b
                .loose
                .iter()
                .filter(|(t, _)| *t >= now)
                .map(|(_, d)| d)
                .sum();
            b.loose.retain(|(t, _)| *t < now);
            b.open = Some(Open {
                opened_at: now,
                cash: float + taken,
            });
        }
        let tx = self.desks.tx();
        let hall = self.desk_hall(desk);
        let v2 = self.desks.cash_rng.gen_bool(0.7);
        let env = self.cash_envelope(desk, &hall, v2, now, open(tx, "Ana", float));
        self.push(env);
    }

    /// One of the 16 newest wallet commands sent at a desk, counted as `case` (none before
    /// the first).
    fn recent_cage_cash(&mut self, case: &'static str) -> Option<InputEnvelope> {
        let n = self.desks.cash_sent.len();
        if n == 0 {
            return None;
        }
        self.case(case);
        let i = self.desks.cash_rng.gen_range(n.saturating_sub(16)..n);
        Some(self.desks.cash_sent[i].clone())
    }

    /// RULES.md W-2, D-10: a recent wallet command at a desk again: a retry under its tx
    /// with a new event id, or the very message delivered again. Nothing is applied, so no
    /// desk books it.
    fn cage_cash_repeat(&mut self) {
        let Some(mut env) = self.recent_cage_cash("cage_cash_repeat") else {
            return;
        };
        if self.desks.cash_rng.gen_bool(0.6) {
            env.event_id = self.next_id();
            env.event_time = env.event_time.max(self.now);
            env.receive_time = env.receive_time.map(|_| self.now + 2);
        } else {
            self.case("cage_cash_redelivered");
        }
        self.push(env);
    }

    /// RULES.md W-2, D-10: a recent wallet command at a desk's key with another amount:
    /// refused `tx_conflict`, no desk books it.
    fn cage_cash_conflict(&mut self) {
        let Some(mut env) = self.recent_cage_cash("cage_cash_conflict") else {
            return;
        };
        env.event_id = self.next_id();
        env.event_time = env.event_time.max(self.now);
        env.receive_time = env.receive_time.map(|_| self.now + 2);
        if let InputPayload::Deposit { amount, .. } | InputPayload::Withdraw { amount, .. } =
            &mut env.payload
        {
            *amount += 100;
        }
        self.push(env);
    }

    /// RULES.md D-10: a deposit, and now and then a withdrawal, at the desk that sells
    /// tickets but is not listed: the wallet applies them, no drawer moves.
    fn cage_cash_unlisted(&mut self, p: usize) {
        self.case("cage_cash_unlisted_desk");
        let (now, amount) = (self.now, self.cage_amount());
        self.patron_deposit(p, UNLISTED_CAGE, now, amount);
        if self.desks.cash_rng.gen_bool(0.5) {
            if let Some(amount) = self.cage_payout(p) {
                self.patron_withdrawal(p, UNLISTED_CAGE, now, amount, true);
            }
        }
    }

    /// RULES.md D-10, D-3: a deposit or a withdrawal at the listed desk that never opens a
    /// shift: unshifted and alerted, every one.
    fn cage_cash_without_shifts(&mut self, p: usize) {
        self.case("cage_cash_desk_without_shifts");
        let now = self.now;
        match self.cage_payout(p) {
            Some(amount) if self.desks.cash_rng.gen_bool(0.4) => {
                self.patron_withdrawal(p, EXPRESS, now, amount, true);
            }
            _ => {
                let amount = self.cage_amount();
                self.patron_deposit(p, EXPRESS, now, amount);
            }
        }
    }

    /// RULES.md W-3, D-10: a verified player asks a listed cage for more than the balance:
    /// refused `insufficient_funds`, the desk pays nothing.
    fn cage_withdrawal_beyond_funds(&mut self) {
        self.case("cage_withdrawal_insufficient_funds");
        let p = 2 * self.desks.cash_rng.gen_range(0..PATRONS / 2);
        let desk = self.listed_cage();
        let beyond = self.desks.patrons[p].balance + self.desks.cash_rng.gen_range(1..50) * 100;
        let now = self.now;
        self.patron_withdrawal(p, &desk, now, beyond, false);
    }

    /// RULES.md W-8, D-10: a player not verified asks a listed cage for more than the KYC
    /// limit: refused `kyc_required` (whatever the balance), the desk pays nothing.
    fn cage_withdrawal_beyond_kyc(&mut self) {
        self.case("cage_withdrawal_kyc_required");
        let p = 2 * self.desks.cash_rng.gen_range(0..PATRONS / 2) + 1;
        let desk = self.listed_cage();
        let beyond = KYC_WITHDRAWAL_MAX + self.desks.cash_rng.gen_range(1..20) * 100;
        let now = self.now;
        self.patron_withdrawal(p, &desk, now, beyond, false);
    }

    /// RULES.md D-3, D-10: a deposit dated at the opening instant of the shift a listed cage
    /// has open (covered), or at the closing instant of its latest closed shift (not
    /// closed after it: unshifted).
    fn cage_cash_at_shift_edge(&mut self, p: usize) {
        let desk = self.listed_cage();
        let book = &self.desks.books[&desk];
        let edge = match (&book.open, book.shifts.last()) {
            (Some(o), _) => Some(("cage_cash_at_open", o.opened_at)),
            (None, Some((_, closed))) => Some(("cage_cash_at_close", *closed)),
            (None, None) => None,
        };
        let Some((case, at)) = edge else {
            return self.cage_deposit(p);
        };
        self.case(case);
        let amount = self.cage_amount();
        self.patron_deposit(p, &desk, at, amount);
    }

    /// A main player's deposit (`cash_in`) or withdrawal of `amount` at a listed cage now,
    /// for the special cases' blocked, limited and self-excluded players (RULES.md D-10
    /// with W-8, W-9): `applied`, the generator expects the wallet to apply it. The
    /// player's own books are left as they were (the main stream's draws depend on them).
    pub(super) fn player_at_cage(&mut self, p: usize, cash_in: bool, amount: i64, applied: bool) {
        let desk = self.listed_cage();
        let player = self.players[p].id.clone();
        let tx = self.player_tx(p);
        let (kind, delta) = if cash_in {
            ("deposit", amount)
        } else {
            ("withdraw", -amount)
        };
        let v2 = self.players[p].v2;
        let now = self.now;
        let payload = wallet(kind, &player, &tx, amount, None);
        self.send_at_desk(&desk, v2, now, payload, applied.then_some(delta));
    }
}
