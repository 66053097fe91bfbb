//! The M rules: a machine's sequence marks, facts, sessions and halls.

use std::collections::BTreeMap;

use super::entities::{Machine, Marks, Paid};
use super::state::Model;
use super::tickets::Fact;
use super::types::{Hit, MoveRow, Outcome, SessionRow, Totals, EPOCHS_KEPT};
use super::validate::{MachineEvent, MachineWhat, SNAPSHOT_METERS};

/// What the sequence check decided.
enum Seq {
    Apply,
    Repeat,
    Stale,
}

/// M-2, M-13: the credits a cash-out may take: all but the restricted promotional credits
/// still on the machine.
fn cashable(m: &Machine) -> i64 {
    let restricted = m.meters["restricted_in"] - m.meters["restricted_played"];
    m.credits - restricted.max(0)
}

impl Model {
    /// M-1: decides whether (epoch, seq) is new, and records it.
    fn sequence(&mut self, id: &str, epoch: u64, seq: u64) -> Seq {
        let m = self.marks.entry(id.to_owned()).or_default();
        let newest = m.keys().next_back().copied();
        if !m.contains_key(&epoch) {
            // Keep the EPOCHS_KEPT highest: an epoch below all of them when they are full
            // cannot be told from a repeat.
            if m.len() >= EPOCHS_KEPT && epoch < *m.keys().next().expect("full") {
                let _ = m;
                self.alert("sequence_stale");
                return Seq::Stale;
            }
            let mut marks = Marks::default();
            if seq > 1 {
                // Numbers below the first seen may still arrive (M-1).
                marks.high = seq - 1;
            }
            m.insert(epoch, marks);
            if m.len() > EPOCHS_KEPT {
                let lowest = *m.keys().next().expect("non-empty");
                m.remove(&lowest);
            }
            if let Some(old) = newest {
                if epoch > old {
                    self.alert("sequence_reset");
                }
            }
            let m = self.marks.get_mut(id).expect("machine exists");
            m.get_mut(&epoch).expect("inserted").see(seq);
            return Seq::Apply;
        }
        let marks = m.get_mut(&epoch).expect("known epoch");
        if seq > marks.high {
            let gap = seq > marks.high + 1;
            marks.see(seq);
            if gap {
                self.alert("sequence_gap");
            }
            Seq::Apply
        } else if marks.is_hole(seq) {
            marks.see(seq);
            Seq::Apply
        } else if seq <= marks.floor && !marks.seen.contains(&seq) && seq > 0 {
            // A hole that was forgotten (M-1).
            self.alert("sequence_stale");
            Seq::Stale
        } else {
            Seq::Repeat
        }
    }

    pub(super) fn apply_machine(&mut self, ev: MachineEvent, kafka_time: Option<i64>) -> Outcome {
        if !self.machines.contains_key(&ev.machine) {
            let pools = self.pools_of(&ev.hall);
            self.machines
                .insert(ev.machine.clone(), Machine::new(&ev.hall, pools));
        }
        match self.sequence(&ev.machine, ev.epoch, ev.seq) {
            Seq::Repeat => return Outcome::Repeat,
            Seq::Stale => return Outcome::Refused("sequence_stale"),
            Seq::Apply => {}
        }
        let booked = self.booked_time(ev.time, ev.receive.or(kafka_time));
        // E-4: amounts in another currency are not counted.
        let cur = match &ev.what {
            MachineWhat::Bet(_, c)
            | MachineWhat::Win(_, c)
            | MachineWhat::CashIn(_, _, c, _)
            | MachineWhat::CashOut(_, _, c, _)
            | MachineWhat::Transfer(_, _, _, _, c, _) => Some(c.clone()),
            MachineWhat::JackpotHit(_, _, Some((_, c))) => Some(c.clone()),
            MachineWhat::MeterSnapshot(_, c) | MachineWhat::HandpayPending(_, _, c) => {
                Some(c.clone())
            }
            _ => None,
        };
        if let Some(c) = cur {
            if c != self.cfg.currency {
                self.alert("wrong_currency");
                return Outcome::Refused("wrong_currency");
            }
        }
        // M-5: the newest event decides where the machine stands, and the event that moves
        // it already plays for the new hall's pools.
        let moved = {
            let m = &self.machines[&ev.machine];
            m.hall != ev.hall && m.last_booked.is_none_or(|t| booked >= t)
        };
        let before = self.machines[&ev.machine].clone();
        if moved {
            let pools = self.pools_of(&ev.hall);
            let m = self.machines.get_mut(&ev.machine).expect("exists");
            m.hall = ev.hall.clone();
            m.pools = pools;
        }
        // M-8: a snapshot taken before the newest event applied (a late gap-fill, an older
        // epoch) is not compared.
        let late = {
            let marks = &self.marks[&ev.machine];
            let (newest, m) = marks.iter().next_back().expect("just recorded");
            *newest != ev.epoch || m.high != ev.seq
        };
        let outcome = self.machine_command(&ev, booked, late);
        if outcome != Outcome::Applied && moved {
            // Not applied: it moved nothing either.
            let m = self.machines.get_mut(&ev.machine).expect("exists");
            m.hall = before.hall;
            m.pools = before.pools;
        }
        if outcome == Outcome::Applied {
            if moved {
                self.alert("machine_moved");
            }
            let m = self.machines.get_mut(&ev.machine).expect("exists");
            m.last_booked = Some(m.last_booked.map_or(booked, |t| t.max(booked)));
            // V-2, V-5: a ticket with its validation number, once the machine counted it
            // (never for a repeat or a refused event), is a fact for its voucher, at the
            // machine's booked time and in the hall the event names.
            let fact = match &ev.what {
                MachineWhat::CashOut("tickets_out", a, _, Some(v)) => Some((v, Fact::Printed(*a))),
                MachineWhat::CashIn("tickets_in", a, _, Some(v)) => Some((v, Fact::Credited(*a))),
                _ => None,
            };
            if let Some((number, fact)) = fact {
                self.voucher_fact(number, &ev.machine, &ev.hall, booked, &ev.id, fact);
            }
            // W-10: a transfer the machine counted is its wallet's fact, at the booked time.
            if let MachineWhat::Transfer(transfer, player, to_machine, a, _, restricted) = &ev.what
            {
                let credit = (*to_machine, *restricted);
                self.transfer_fact(player, transfer, &ev.id, credit, *a, booked);
            }
        }
        outcome
    }

    /// W-11: cash at a machine with a player carded in is the player's.
    fn machine_cash(
        &mut self,
        ev: &MachineEvent,
        m: &Machine,
        booked: i64,
        a: i64,
        dir: &'static str,
    ) {
        if let Some(player) = &m.session {
            let mv = MoveRow {
                event_id: ev.id.clone(),
                amount: a,
                time: booked,
                dir,
                machine: Some(ev.machine.clone()),
            };
            self.patron_cash(player, mv);
        }
    }

    /// M-12: the carded-in player's session on machine `id` ends at `end`, rated: its coin
    /// in times the theoretical hold, rounded down.
    fn end_session(&mut self, id: &str, hall: &str, end: i64, ended_by: &'static str) {
        let m = self.machines.get_mut(id).expect("exists");
        let (Some(player), Some((start, coin_in, coin_out, games))) =
            (m.session.clone(), m.rating.take())
        else {
            return;
        };
        // Rounded down: a product of whole numbers, divided.
        let share = |amount: i64, per_million: i64| {
            i64::try_from(i128::from(amount) * i128::from(per_million) / 1_000_000)
                .expect("a share that fits")
        };
        // The machine's own hold, else the hall's of the ending event, else the network's.
        let hold = match self.cfg.machine_holds_ppm.get(id) {
            Some(h) => *h,
            None => match self.cfg.hall_holds_ppm.get(hall) {
                Some(h) => *h,
                None => self.cfg.theoretical_hold_ppm,
            },
        };
        let theoretical_win = share(coin_in, hold);
        let points = share(theoretical_win, self.cfg.loyalty_micro_points);
        if points > 0 {
            // The player's state keeps the points (a player without a wallet gets one).
            self.wallets.entry(player.clone()).or_default().view.points += points;
        }
        self.sessions.push(SessionRow {
            machine: id.to_owned(),
            player,
            hall: hall.to_owned(),
            start,
            end,
            ended_by,
            coin_in,
            coin_out,
            games,
            theoretical_win,
            points,
        });
    }

    fn machine_command(&mut self, ev: &MachineEvent, booked: i64, late: bool) -> Outcome {
        let id = ev.machine.as_str();
        let hall = ev.hall.as_str();
        let m = self.machines.get(id).expect("exists").clone();
        let meter = |name: &str| m.meters[name];
        // E-5: nothing is counted that would overflow a total.
        let fits = |name: &str, a: i64| meter(name).checked_add(a).is_some();
        match &ev.what {
            MachineWhat::Bet(a, _) => {
                let a = *a;
                if !fits("coin_in", a) || m.credits.checked_sub(a).is_none() {
                    self.alert("overflow");
                    return Outcome::Refused("overflow");
                }
                if m.credits < a {
                    self.alert("credit_variance");
                }
                // M-13: the restricted promotional credits on the machine are played first.
                let restricted = m.meters["restricted_in"] - m.meters["restricted_played"];
                let promo = a.min(restricted).max(0);
                let m = self.machines.get_mut(id).expect("exists");
                m.credits -= a;
                *m.meters.get_mut("coin_in").expect("meter") += a;
                *m.meters.get_mut("restricted_played").expect("meter") += promo;
                // M-12: the carded-in player's session counts the bet.
                if let Some(r) = &mut m.rating {
                    r.1 += a;
                }
                if !m.game_open {
                    m.game_open = true;
                    m.game_won = false;
                    m.game_bet = 0;
                }
                m.game_bet += a;
                let eligible = m.online && m.tilt.is_none();
                let pools = m.pools.clone();
                self.book(
                    hall,
                    booked,
                    Totals {
                        bets: a,
                        promo,
                        ..Totals::default()
                    },
                );
                for p in pools {
                    self.contribute(&p, id, hall, a, eligible, booked);
                }
            }
            MachineWhat::Win(a, _) => {
                let a = *a;
                if !fits("coin_out", a) || m.credits.checked_add(a).is_none() {
                    self.alert("overflow");
                    return Outcome::Refused("overflow");
                }
                if !m.game_open {
                    self.alert("win_outside_game");
                }
                if self.cfg.handpay_threshold > 0 && a >= self.cfg.handpay_threshold {
                    self.alert("win_above_handpay_threshold");
                }
                let m = self.machines.get_mut(id).expect("exists");
                m.credits += a;
                *m.meters.get_mut("coin_out").expect("meter") += a;
                if let Some(r) = &mut m.rating {
                    r.2 += a;
                }
                if m.game_open {
                    m.game_won = true;
                }
                self.book(
                    hall,
                    booked,
                    Totals {
                        wins: a,
                        ..Totals::default()
                    },
                );
            }
            MachineWhat::GameEnd => {
                if !m.game_open {
                    self.alert("game_end_without_bet");
                }
                let m = self.machines.get_mut(id).expect("exists");
                *m.meters.get_mut("games_played").expect("meter") += 1;
                if let Some(r) = &mut m.rating {
                    r.3 += 1;
                }
                if m.game_won {
                    *m.meters.get_mut("games_won").expect("meter") += 1;
                }
                m.game_open = false;
                m.game_won = false;
                m.game_bet = 0;
                self.book(
                    hall,
                    booked,
                    Totals {
                        games: 1,
                        ..Totals::default()
                    },
                );
            }
            MachineWhat::CashIn(name, a, _, _) => {
                let outcome = self.cash_in(id, &m, name, *a);
                // W-11: bills of the carded-in player are the player's cash in.
                if outcome == Outcome::Applied && *name == "bills_in" {
                    self.machine_cash(ev, &m, booked, *a, "in");
                }
                return outcome;
            }
            MachineWhat::CashOut(name, a, _, _) => {
                let outcome = self.cash_out(id, &m, name, *a);
                // ... and a handpay the player's cash out.
                if outcome == Outcome::Applied && *name == "handpaid" {
                    self.machine_cash(ev, &m, booked, *a, "out");
                }
                return outcome;
            }
            // W-10: a transfer is the machine's cashless cash-in or cash-out; W-12: restricted
            // credits from a wallet's bonus count as M-13's restricted credits.
            MachineWhat::Transfer(_, _, true, a, _, restricted) => {
                let meter = if *restricted {
                    "restricted_in"
                } else {
                    "cashless_in"
                };
                return self.cash_in(id, &m, meter, *a);
            }
            MachineWhat::Transfer(_, _, false, a, _, _) => {
                return self.cash_out(id, &m, "cashless_out", *a)
            }
            MachineWhat::CardIn(p) => {
                let again = m.session.as_ref() == Some(p);
                if m.session.is_some() && !again {
                    self.alert("card_session_overlap");
                    self.end_session(id, hall, booked, "card_in");
                }
                let m = self.machines.get_mut(id).expect("exists");
                if !again {
                    m.rating = Some((booked, 0, 0, 0));
                }
                m.session = Some(p.clone());
                // W-9: a card-in of a player self-excluded at the event's (booked) time.
                let excluded = self.wallets.get(p).and_then(|w| w.excluded_until);
                if excluded.is_some_and(|until| booked < until) {
                    self.alert("self_excluded_card_in");
                }
            }
            MachineWhat::CardOut => {
                if m.session.is_none() {
                    self.alert("card_out_without_session");
                }
                self.end_session(id, hall, booked, "card_out");
                self.machines.get_mut(id).expect("exists").session = None;
            }
            MachineWhat::JackpotHit(p, level, paid) => {
                return self.claim(ev, &m, p, *level, paid.as_ref().map(|x| x.0), booked);
            }
            MachineWhat::DoorOpen => {
                let m = self.machines.get_mut(id).expect("exists");
                if !m.door_open {
                    *m.meters.get_mut("doors_opened").expect("meter") += 1;
                    m.door_open = true;
                    self.alert("door_open");
                }
            }
            MachineWhat::DoorClose => self.machines.get_mut(id).expect("exists").door_open = false,
            MachineWhat::Tilt(code) => {
                self.machines.get_mut(id).expect("exists").tilt = Some(*code);
                self.alert("tilt");
            }
            MachineWhat::TiltClear => self.machines.get_mut(id).expect("exists").tilt = None,
            MachineWhat::CommsLost => {
                let m = self.machines.get_mut(id).expect("exists");
                if m.online {
                    m.online = false;
                    self.alert("comms_lost");
                }
                // M-12: silent, the machine rates no more; the player stays carded in.
                self.end_session(id, hall, booked, "comms_lost");
            }
            MachineWhat::CommsRestored | MachineWhat::PowerOn => {
                let m = self.machines.get_mut(id).expect("exists");
                m.online = true;
                // M-12: back, it rates a new session of the player still carded in.
                if m.session.is_some() && m.rating.is_none() {
                    m.rating = Some((booked, 0, 0, 0));
                }
            }
            MachineWhat::PowerOff => {
                // M-6: a machine without power is offline (its contributions are not eligible,
                // it cannot claim), and it is alerted.
                self.alert("power_off");
                self.machines.get_mut(id).expect("exists").online = false;
                self.end_session(id, hall, booked, "power_off");
            }
            MachineWhat::MeterSnapshot(reported, _) => {
                if !late {
                    return self.meter_snapshot(id, reported);
                }
            }
            MachineWhat::HandpayPending(kind, a, _) => {
                self.alert("handpay_pending");
                let m = self.machines.get_mut(id).expect("exists");
                if *kind == "jackpot" && m.game_open {
                    m.game_won = true;
                }
                m.handpays.push_back((kind, *a, hall.to_owned(), booked));
            }
            MachineWhat::HandpayReset(_) => return self.handpay_reset(id),
        }
        Outcome::Applied
    }

    /// Money in at the meter `name` (M-2, M-7, E-5).
    fn cash_in(&mut self, id: &str, m: &Machine, name: &'static str, a: i64) -> Outcome {
        if m.meters[name].checked_add(a).is_none() || m.credits.checked_add(a).is_none() {
            self.alert("overflow");
            return Outcome::Refused("overflow");
        }
        // M-7, M-13: promotional credits are not cash.
        let cash = !matches!(name, "restricted_in" | "nonrestricted_in");
        if cash && self.cfg.large_cash_in > 0 && a >= self.cfg.large_cash_in {
            self.alert("large_cash_in");
        }
        let m = self.machines.get_mut(id).expect("exists");
        *m.meters.get_mut(name).expect("meter") += a;
        m.credits += a;
        Outcome::Applied
    }

    /// Money out at the meter `name`: counted even beyond the credits, with a variance (M-2).
    fn cash_out(&mut self, id: &str, m: &Machine, name: &'static str, a: i64) -> Outcome {
        if m.meters[name].checked_add(a).is_none() || m.credits.checked_sub(a).is_none() {
            self.alert("overflow");
            return Outcome::Refused("overflow");
        }
        if cashable(m) < a {
            self.alert("credit_variance");
        }
        let m = self.machines.get_mut(id).expect("exists");
        *m.meters.get_mut(name).expect("meter") += a;
        m.credits -= a;
        Outcome::Applied
    }

    /// M-10: the oldest handpay pending is paid: cancelled credits leave the credits by hand;
    /// a jackpot is a win paid by hand, in the hall and window where it was pending.
    fn handpay_reset(&mut self, id: &str) -> Outcome {
        let m = self.machines.get(id).expect("exists");
        let Some((kind, a, hall, at)) = m.handpays.front().cloned() else {
            self.alert("handpay_reset_without_pending");
            return Outcome::Applied;
        };
        if kind == "cancelled_credits" {
            if m.meters["handpaid"].checked_add(a).is_none() || m.credits.checked_sub(a).is_none() {
                self.alert("overflow");
                return Outcome::Refused("overflow");
            }
            if cashable(m) < a {
                self.alert("credit_variance");
            }
            let m = self.machines.get_mut(id).expect("exists");
            m.credits -= a;
            *m.meters.get_mut("handpaid").expect("meter") += a;
        } else {
            if m.meters["jackpot_handpaid"].checked_add(a).is_none() {
                self.alert("overflow");
                return Outcome::Refused("overflow");
            }
            let m = self.machines.get_mut(id).expect("exists");
            *m.meters.get_mut("jackpot_handpaid").expect("meter") += a;
            self.book(
                &hall,
                at,
                Totals {
                    wins: a,
                    ..Totals::default()
                },
            );
        }
        self.machines
            .get_mut(id)
            .expect("exists")
            .handpays
            .pop_front();
        Outcome::Applied
    }

    /// M-8: each meter's movement since the previous snapshot, on the machine and here; a
    /// difference is a variance (jackpot excepted); a meter that went down starts over.
    fn meter_snapshot(&mut self, id: &str, reported: &BTreeMap<&'static str, i64>) -> Outcome {
        let m = self.machines.get(id).expect("exists");
        fn own_name(name: &str) -> &str {
            if name == "jackpot" {
                "jackpot_paid"
            } else {
                name
            }
        }
        let own: BTreeMap<&'static str, i64> = SNAPSHOT_METERS
            .iter()
            .map(|n| (*n, m.meters[own_name(n)]))
            .collect();
        let mut variance = m.variance.clone();
        let mut alert = None;
        if let Some((prev_reported, prev_own)) = &m.snapshot {
            if SNAPSHOT_METERS
                .iter()
                .any(|n| reported[n] < prev_reported[n])
            {
                alert = Some("meter_reset");
            } else {
                for n in SNAPSHOT_METERS.iter().filter(|n| **n != "jackpot") {
                    let diff = (reported[n] - prev_reported[n]) - (own[n] - prev_own[n]);
                    if diff != 0 {
                        let Some(sum) = variance.get(n).copied().unwrap_or(0).checked_add(diff)
                        else {
                            self.alert("overflow");
                            return Outcome::Refused("overflow");
                        };
                        variance.insert(n, sum);
                        alert = Some("meter_variance");
                    }
                }
            }
        }
        if let Some(code) = alert {
            self.alert(code);
        }
        let m = self.machines.get_mut(id).expect("exists");
        m.variance = variance;
        m.snapshot = Some((reported.clone(), own));
        Outcome::Applied
    }

    /// P-3: a progressive claim, checked by the machine, then by the pool.
    fn claim(
        &mut self,
        ev: &MachineEvent,
        m: &Machine,
        pool_id: &str,
        level: u8,
        reported: Option<i64>,
        booked: i64,
    ) -> Outcome {
        if !m.pools.iter().any(|p| p == pool_id) {
            self.alert("pool_not_linked");
            return Outcome::Refused("pool_not_linked");
        }
        if !m.game_open || !m.online || m.tilt.is_some() {
            self.alert("jackpot_not_eligible");
            return Outcome::Refused("jackpot_not_eligible");
        }
        let p = self.pools.get_mut(pool_id).expect("configured pool");
        let paid = match p.claim(level, m.game_bet, reported, &mut self.draw) {
            Ok(paid) => paid,
            Err(code) => {
                self.alert(code);
                return Outcome::Refused(code);
            }
        };
        if paid.variance != 0 {
            self.alert("jackpot_variance");
        }
        self.pay_hit(pool_id, level, &ev.machine, &ev.hall, paid, false, booked);
        Outcome::Applied
    }

    /// P-4 and H-1: a hit pays the machine once and counts in its hall's revenue.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn pay_hit(
        &mut self,
        pool_id: &str,
        level: u8,
        machine: &str,
        hall: &str,
        paid: Paid,
        mystery: bool,
        booked: i64,
    ) {
        self.machines
            .get_mut(machine)
            .expect("the winner exists")
            .jackpot_paid(paid.to_machine);
        self.book(
            hall,
            booked,
            Totals {
                jackpots: paid.to_machine,
                ..Totals::default()
            },
        );
        self.hits.push(Hit {
            pool: pool_id.to_owned(),
            level,
            number: paid.number,
            machine: machine.to_owned(),
            amount: paid.to_machine,
            mystery,
        });
    }
}
