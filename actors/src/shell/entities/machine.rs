//! A machine's actor state: its state machine, the effects it routes (GGR to its hall,
//! contributions and claims to its pools, alerts to the sink) and its ledger.

use crate::domain::jackpot::{PoolCommand, PoolMeta};
use crate::domain::machine::{
    LogEntry, MachineCommand, MachineEffect, MachineEnv, MachineState, PlayerCardIn, TicketFact,
    WalletTransferFact,
};
use crate::domain::time::booked_time;
use crate::domain::voucher::VoucherMeta;
use crate::domain::wallet::WalletMeta;
use crate::domain::{Applied, MachineId, SourceKey};

use crate::domain::EntityKind;
use crate::shell::ack::AckToken;
use crate::shell::actor::Entity;
use crate::shell::context::{Counter, EntityContext};
use crate::shell::ledger::{machine_movement, GameCount, Ledger};
use crate::shell::messages::{
    HallMsg, MachineMsg, PlayerFact, PoolMsg, Remote, VoucherMsg, WalletMsg,
};
use crate::shell::ports::ledger::Movement;
use crate::shell::ports::sink::Output;
use crate::shell::ports::store::{EntityKey, Snapshot, Stash, Stored};

pub struct MachineEntity {
    id: MachineId,
    state: Option<MachineState>,
    ledger: Option<Ledger>,
    /// Games ended and not yet in the ledger (RULES.md H-4).
    games: GameCount,
    /// Event log entries (RULES.md M-9) made since the last stash.
    log: Vec<LogEntry>,
}

thread_local! {
    static FX: std::cell::Cell<Vec<MachineEffect>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Entity for MachineEntity {
    type Id = MachineId;
    type Msg = MachineMsg;
    const KIND: EntityKind = EntityKind::Machine;

    fn key(id: &MachineId) -> EntityKey {
        EntityKey::Machine(id.clone())
    }

    fn ack(msg: &MachineMsg) -> &AckToken {
        msg.ack()
    }

    fn restore(id: &MachineId, stored: Option<Stored>, cx: &dyn EntityContext) -> Self {
        let ledger = Ledger::new(cx.keeps_ledger(), stored.as_ref());
        let state = match stored.map(|s| s.snapshot) {
            Some(Snapshot::Machine(s)) => Some(s),
            _ => None,
        };
        Self {
            id: id.clone(),
            state,
            ledger,
            games: GameCount::default(),
            log: Vec::new(),
        }
    }

    fn handle(&mut self, msg: MachineMsg, cx: &dyn EntityContext) {
        let mut fx = super::take_scratch(&FX);
        match msg {
            MachineMsg::Event {
                hall,
                meta,
                cmd,
                currency,
                ack,
            } => {
                let id = &self.id;
                let state = self.state.get_or_insert_with(|| {
                    MachineState::new(id.clone(), cx.machine_profile(&hall))
                });
                let credits_before = state.credits;
                let promo_before = state.meters.restricted_played;
                let profile_of = |h: &crate::domain::HallId| cx.machine_profile(h);
                let env = MachineEnv {
                    skew: cx.settings().skew,
                    profile_of: &profile_of,
                    hold_of: &|h| cx.settings().theoretical_hold_ppm_of(id, h),
                    loyalty_micro_points: cx.settings().loyalty_micro_points,
                };
                match state.apply(&hall, &meta, &cmd, currency, &env, &mut fx) {
                    Ok(Applied::Done) => {
                        if let (Some(l), Some(kind)) = (&mut self.ledger, machine_movement(&cmd)) {
                            let amount = state.credits - credits_before;
                            // Only a handpay reset may move no credits (a jackpot's, or none
                            // pending: RULES.md M-10).
                            debug_assert!(
                                amount != 0 || matches!(cmd, MachineCommand::HandpayReset { .. }),
                                "{cmd:?} moved no credits on {id}"
                            );
                            if amount != 0 {
                                // At the event's booked time (RULES.md E-3), as its hall's
                                // window counts it: a gaming day sums either alike.
                                let (at, _) = booked_time(env.skew, meta.time, meta.receive_time);
                                l.push(kind, 0, amount, state.credits, meta.event_id, 1, at);
                                // M-13: what of a bet restricted promotional credits paid.
                                let promo = state.meters.restricted_played - promo_before;
                                if promo != 0 {
                                    let (kind, credits) = (Movement::PromoPlayed, state.credits);
                                    l.push(kind, 0, promo, credits, meta.event_id, 1, at);
                                }
                            }
                        }
                        if let (Some(l), MachineCommand::GameEnd) = (&mut self.ledger, &cmd) {
                            // Counted in the minute its hall's window counts it (H-4).
                            let (at, _) = booked_time(env.skew, meta.time, meta.receive_time);
                            self.games.add(l, at, meta.event_id, state.credits);
                        }
                    }
                    Ok(Applied::Duplicate) => cx.count(Counter::Duplicate),
                    Err(e) => cx.refuse(id.to_string(), &e, meta.event_id, &ack),
                }
                if cfg!(debug_assertions) {
                    state.assert_invariants();
                }
                // Halls and pools deduplicate by the machine's effect number, not by the
                // event's (epoch, seq): a late gap-fill carries a lower seq.
                let effect_seq = state.effect_seq;
                // What the machine tells a player's wallet (RULES.md W-9, W-11, M-12).
                let player_msg = |hall, time, fact| WalletMsg::Player {
                    meta: WalletMeta {
                        event_id: meta.event_id,
                        time,
                        hall,
                    },
                    machine: id.clone(),
                    seq: effect_seq,
                    fact,
                    ack: ack.clone(),
                };
                let mut alerts = 0;
                for effect in fx.drain(..) {
                    match effect {
                        MachineEffect::Ggr(d) => {
                            let hall = d.hall.clone();
                            cx.forward(Remote::Hall(hall, HallMsg::Delta(d, ack.clone())));
                        }
                        MachineEffect::Log(entry) => self.log.push(*entry),
                        MachineEffect::Voucher(t) => {
                            let TicketFact {
                                validation,
                                fact,
                                hall,
                                at,
                            } = *t;
                            let meta = VoucherMeta {
                                event_id: meta.event_id,
                                time: at,
                                hall,
                            };
                            let ack = ack.clone();
                            let msg = VoucherMsg::Fact { meta, fact, ack };
                            cx.forward(Remote::Voucher(validation, msg));
                        }
                        MachineEffect::Transfer(t) => {
                            // RULES.md W-10: the wallet books what the machine moved.
                            let WalletTransferFact {
                                player,
                                fact,
                                hall,
                                at,
                            } = *t;
                            let meta = WalletMeta {
                                event_id: meta.event_id,
                                time: at,
                                hall,
                            };
                            let ack = ack.clone();
                            let msg = WalletMsg::Transfer { meta, fact, ack };
                            cx.forward(Remote::Wallet(player, msg));
                        }
                        MachineEffect::CardIn(c) => {
                            // RULES.md W-9: the wallet knows the player's self-exclusion.
                            let PlayerCardIn { player, hall, at } = *c;
                            let msg = player_msg(hall, at, PlayerFact::CardIn);
                            cx.forward(Remote::Wallet(player, msg));
                        }
                        MachineEffect::Cash(c) => {
                            // RULES.md W-11: the carded-in player's cash, to the wallet.
                            let fact = PlayerFact::Cash(c.amount, c.dir);
                            let msg = player_msg(c.hall.clone(), c.at, fact);
                            cx.forward(Remote::Wallet(c.player.clone(), msg));
                        }
                        MachineEffect::Rated(session) => {
                            // RULES.md M-12: the player's points, then the player-tracking
                            // topic.
                            if session.points > 0 {
                                let fact = PlayerFact::Points(session.points);
                                let msg = player_msg(session.hall.clone(), session.end, fact);
                                cx.forward(Remote::Wallet(session.player.clone(), msg));
                            }
                            let out = Output::RatedSession {
                                machine: id.clone(),
                                currency: state.profile.currency,
                                session,
                                cause: meta.event_id,
                            };
                            cx.emit(out, &ack);
                        }
                        MachineEffect::HandpaidWin(amount, at) => {
                            if let Some(l) = &mut self.ledger {
                                // Paid by hand: the meter moves, the credits do not.
                                l.push(
                                    Movement::HandpaidWin,
                                    0,
                                    amount,
                                    state.credits,
                                    meta.event_id,
                                    1,
                                    at,
                                );
                            }
                        }
                        MachineEffect::Alert(alert) => {
                            let out = Output::Alert {
                                alert,
                                cause: meta.event_id,
                                index: alerts,
                            };
                            alerts += 1;
                            cx.emit(out, &ack);
                        }
                        pooled => {
                            if let Some((pool, cmd)) = PoolCommand::of_effect(&pooled, id) {
                                let msg = PoolMsg {
                                    meta: PoolMeta {
                                        source: SourceKey::Machine(id.clone()),
                                        seq: effect_seq,
                                        cause: meta.event_id,
                                    },
                                    cmd,
                                    ack: ack.clone(),
                                    rest: Vec::new(),
                                };
                                cx.forward(Remote::Pool(pool.clone(), msg));
                            }
                        }
                    }
                }
            }
            MachineMsg::Award { hit, ack } => {
                // A machine that has never sent an event cannot have hit; its profile comes
                // from the hall it is first seen in, so an award must follow an event.
                let Some(state) = self.state.as_mut() else {
                    panic!("jackpot award for machine {} which has no state", self.id);
                };
                // Booked where its hall's window counts it (RULES.md H-1).
                let (_, at) = state.award_origin(hit.cause);
                match state.apply_award(
                    &hit.pool,
                    hit.level,
                    hit.hit_number,
                    hit.amount,
                    hit.cause,
                    &mut fx,
                ) {
                    Ok(Applied::Done) => {
                        if let Some(l) = &mut self.ledger {
                            // Paid by hand: the meter moves, the credits do not.
                            l.push(
                                Movement::JackpotPaid,
                                hit.level,
                                hit.amount.minor(),
                                state.credits,
                                hit.cause,
                                1,
                                at,
                            );
                        }
                    }
                    Ok(Applied::Duplicate) => {}
                    Err(e) => cx.refuse(self.id.to_string(), &e, hit.cause, &ack),
                }
                if cfg!(debug_assertions) {
                    state.assert_invariants();
                }
                // The award in its hall's jackpots (RULES.md H-1).
                for effect in fx.drain(..) {
                    if let MachineEffect::Ggr(d) = effect {
                        let hall = d.hall.clone();
                        cx.forward(Remote::Hall(hall, HallMsg::Delta(d, ack.clone())));
                    }
                }
            }
        }
        super::put_scratch(&FX, fx);
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.state.clone().map(Snapshot::Machine)
    }

    fn stash(&mut self, _cx: &dyn EntityContext) -> Option<Stash> {
        let state = self.state.as_ref()?;
        if let Some(l) = &mut self.ledger {
            self.games.enter(l, state.credits);
        }
        let snapshot = Snapshot::Machine(state.clone());
        let mut stash = Ledger::stash(&mut self.ledger, snapshot);
        stash.log = std::mem::take(&mut self.log);
        Some(stash)
    }
}
