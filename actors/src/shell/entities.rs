//! The four entity kinds hosted by the runtime. Each feeds its domain state machine and
//! routes the effects; no business rule lives here.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::domain::ggr::{HallState, WindowClosed};
use crate::domain::jackpot::{HitPointSource, JackpotHit, PoolCommand, PoolMeta, PoolState};
use crate::domain::machine::{
    Applied, EventMeta, GgrDelta, MachineCommand, MachineEffect, MachineState,
};
use crate::domain::wallet::{WalletCommand, WalletEffect, WalletMeta, WalletState};
use crate::domain::{
    Currency, DomainError, EventId, HallId, MachineId, PlayerId, PoolId, SourceKey,
};

use super::ack::AckToken;
use super::actor::{Entity, Registry};
use super::ports::{EntityKey, LevelView, Output, Snapshot};
use super::runtime::{Remote, Runtime};

fn refuse(rt: &Runtime, entity: String, err: &DomainError, cause: EventId, ack: &AckToken) {
    rt.stats.refused.fetch_add(1, Ordering::Relaxed);
    rt.sink.emit(
        Output::Refused {
            entity,
            reason: err.to_string(),
            cause,
        },
        ack,
    );
}

/// Messages for a machine.
pub enum MachineMsg {
    /// An input event.
    Event {
        /// The hall named by the event's source.
        hall: HallId,
        /// Envelope facts.
        meta: EventMeta,
        /// The command.
        cmd: MachineCommand,
        /// The amount's currency, if any.
        currency: Option<Currency>,
        /// Completion of the input event.
        ack: AckToken,
    },
    /// A jackpot award from a pool.
    Award {
        /// The hit.
        hit: JackpotHit,
        /// Completion of the input event that caused it.
        ack: AckToken,
    },
}

/// A machine's actor state.
pub struct MachineEntity {
    id: MachineId,
    state: Option<MachineState>,
    fx: Vec<MachineEffect>,
}

impl Entity for MachineEntity {
    type Id = MachineId;
    type Msg = MachineMsg;
    const KIND: &'static str = "machine";

    fn key(id: &MachineId) -> EntityKey {
        EntityKey::Machine(id.clone())
    }

    fn registry(rt: &Runtime) -> &Registry<Self> {
        &rt.machines
    }

    fn restore(id: &MachineId, snapshot: Option<Snapshot>, _rt: &Runtime) -> Self {
        let state = match snapshot {
            Some(Snapshot::Machine(s)) => Some(s),
            _ => None,
        };
        Self {
            id: id.clone(),
            state,
            fx: Vec::with_capacity(4),
        }
    }

    fn handle(&mut self, msg: MachineMsg, rt: &Arc<Runtime>) {
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
                    MachineState::new(id.clone(), rt.machine_profile(&hall))
                });
                if state.profile.hall != hall {
                    let err = DomainError::Session(format!(
                        "machine {id} belongs to hall {}, but the event names hall {hall}",
                        state.profile.hall
                    ));
                    refuse(rt, id.to_string(), &err, meta.event_id, &ack);
                    return;
                }
                self.fx.clear();
                match state.apply(&meta, &cmd, currency, &mut self.fx) {
                    Ok(Applied::Done) => {}
                    Ok(Applied::Duplicate) => {
                        rt.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => refuse(rt, id.to_string(), &e, meta.event_id, &ack),
                }
                if cfg!(debug_assertions) {
                    state.assert_invariants();
                }
                let mut alerts = 0;
                for effect in self.fx.drain(..) {
                    match effect {
                        MachineEffect::Ggr(d) => {
                            let hall = d.hall.clone();
                            rt.forward(Remote::Hall(hall, HallMsg::Delta(d, ack.clone())));
                        }
                        MachineEffect::Contribute { pool, bet } => {
                            let msg = PoolMsg {
                                meta: PoolMeta {
                                    source: SourceKey::Machine(id.clone()),
                                    seq: meta.seq,
                                    cause: meta.event_id,
                                },
                                cmd: PoolCommand::Contribute {
                                    machine: id.clone(),
                                    bet,
                                },
                                ack: ack.clone(),
                            };
                            rt.forward(Remote::Pool(pool, msg));
                        }
                        MachineEffect::ClaimHit { pool, level } => {
                            let msg = PoolMsg {
                                meta: PoolMeta {
                                    source: SourceKey::Machine(id.clone()),
                                    seq: meta.seq,
                                    cause: meta.event_id,
                                },
                                cmd: PoolCommand::Claim {
                                    machine: id.clone(),
                                    level,
                                },
                                ack: ack.clone(),
                            };
                            rt.forward(Remote::Pool(pool, msg));
                        }
                        MachineEffect::Alert(alert) => {
                            let out = Output::Alert {
                                alert,
                                cause: meta.event_id,
                                index: alerts,
                            };
                            alerts += 1;
                            rt.sink.emit(out, &ack);
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
                match state.apply_award(&hit.pool, hit.level, hit.hit_number, hit.amount) {
                    Ok(_) => {}
                    Err(e) => refuse(rt, self.id.to_string(), &e, hit.cause, &ack),
                }
                if cfg!(debug_assertions) {
                    state.assert_invariants();
                }
            }
        }
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.state.clone().map(Snapshot::Machine)
    }
}

/// A wallet command.
pub struct WalletMsg {
    /// Envelope facts.
    pub meta: WalletMeta,
    /// The command.
    pub cmd: WalletCommand,
    /// The amount's currency.
    pub currency: Currency,
    /// Completion of the input event.
    pub ack: AckToken,
}

/// A wallet's actor state.
pub struct WalletEntity {
    id: PlayerId,
    state: Option<WalletState>,
    fx: Vec<WalletEffect>,
}

impl Entity for WalletEntity {
    type Id = PlayerId;
    type Msg = WalletMsg;
    const KIND: &'static str = "wallet";

    fn key(id: &PlayerId) -> EntityKey {
        EntityKey::Wallet(id.clone())
    }

    fn registry(rt: &Runtime) -> &Registry<Self> {
        &rt.wallets
    }

    fn restore(id: &PlayerId, snapshot: Option<Snapshot>, _rt: &Runtime) -> Self {
        let state = match snapshot {
            Some(Snapshot::Wallet(s)) => Some(s),
            _ => None,
        };
        Self {
            id: id.clone(),
            state,
            fx: Vec::with_capacity(2),
        }
    }

    fn handle(&mut self, msg: WalletMsg, rt: &Arc<Runtime>) {
        let WalletMsg {
            meta,
            cmd,
            currency,
            ack,
        } = msg;
        let id = &self.id;
        let state = self.state.get_or_insert_with(|| {
            WalletState::new(
                id.clone(),
                currency,
                rt.config.wallet_credit_line_minor,
                rt.config.wallet_window_len,
            )
        });
        self.fx.clear();
        match state.apply(&meta, &cmd, currency, &mut self.fx) {
            Ok(reply) if reply.repeat => {
                rt.stats.duplicates.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(e) => refuse(rt, id.to_string(), &e, meta.event_id, &ack),
        }
        if cfg!(debug_assertions) {
            state.assert_invariants();
        }
        let currency = state.currency;
        for effect in self.fx.drain(..) {
            match effect {
                WalletEffect::Ggr(d) => {
                    let hall = d.hall.clone();
                    rt.forward(Remote::Hall(hall, HallMsg::Delta(d, ack.clone())));
                }
                WalletEffect::Changed {
                    tx,
                    kind,
                    delta,
                    balance,
                } => rt.sink.emit(
                    Output::Wallet {
                        player: id.clone(),
                        tx,
                        kind,
                        delta,
                        balance,
                        currency,
                        cause: meta.event_id,
                    },
                    &ack,
                ),
            }
        }
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.state.clone().map(Snapshot::Wallet)
    }
}

/// A contribution or a claim for a pool.
pub struct PoolMsg {
    /// Who sent it, for deduplication.
    pub meta: PoolMeta,
    /// The command.
    pub cmd: PoolCommand,
    /// Completion of the input event.
    pub ack: AckToken,
}

/// A pool's actor state.
pub struct PoolEntity {
    state: PoolState,
    rng: Box<dyn HitPointSource>,
    hits: Vec<JackpotHit>,
    dirty: bool,
}

impl Entity for PoolEntity {
    type Id = PoolId;
    type Msg = PoolMsg;
    const KIND: &'static str = "pool";

    fn key(id: &PoolId) -> EntityKey {
        EntityKey::Pool(id.clone())
    }

    fn registry(rt: &Runtime) -> &Registry<Self> {
        &rt.pools
    }

    fn restore(id: &PoolId, snapshot: Option<Snapshot>, rt: &Runtime) -> Self {
        let mut rng = rt.hit_points.for_pool(id);
        let state = match snapshot {
            Some(Snapshot::Pool(s)) => s,
            _ => {
                let config = rt
                    .pool_configs
                    .get(id)
                    .unwrap_or_else(|| panic!("pool {id} is not configured"))
                    .clone();
                PoolState::new(id.clone(), config, rng.as_mut())
                    .unwrap_or_else(|e| panic!("pool {id}: {e}"))
            }
        };
        Self {
            state,
            rng,
            hits: Vec::new(),
            dirty: true,
        }
    }

    fn handle(&mut self, msg: PoolMsg, rt: &Arc<Runtime>) {
        self.hits.clear();
        match self
            .state
            .apply(&msg.meta, &msg.cmd, self.rng.as_mut(), &mut self.hits)
        {
            Ok(Applied::Done) => self.dirty = true,
            Ok(Applied::Duplicate) => {}
            Err(e) => {
                let entity = match &msg.cmd {
                    PoolCommand::Contribute { machine, .. }
                    | PoolCommand::Claim { machine, .. } => machine.to_string(),
                };
                refuse(rt, entity, &e, msg.meta.cause, &msg.ack);
            }
        }
        if cfg!(debug_assertions) {
            self.state.assert_invariants();
        }
        for hit in self.hits.drain(..) {
            rt.sink.emit(
                Output::JackpotHit {
                    hit: hit.clone(),
                    currency: self.state.currency,
                },
                &msg.ack,
            );
            let machine = hit.machine.clone();
            rt.forward(Remote::Machine(
                machine,
                MachineMsg::Award {
                    hit,
                    ack: msg.ack.clone(),
                },
            ));
        }
    }

    fn tick(&mut self, rt: &Arc<Runtime>, _all: bool) {
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        let levels = self
            .state
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| LevelView {
                level: i as u8,
                name: l.config.name.clone(),
                amount: l.level,
                hits: l.hits,
            })
            .collect();
        rt.sink.emit(
            Output::JackpotLevels {
                pool: self.state.id.clone(),
                currency: self.state.currency,
                levels,
            },
            &AckToken::none(),
        );
    }

    fn snapshot(&self) -> Option<Snapshot> {
        Some(Snapshot::Pool(self.state.clone()))
    }
}

/// Messages for a hall's GGR aggregator.
pub enum HallMsg {
    /// A GGR delta from a machine or wallet.
    Delta(GgrDelta, AckToken),
}

/// A hall's actor state.
pub struct HallEntity {
    state: HallState,
    closed: Vec<WindowClosed>,
}

impl Entity for HallEntity {
    type Id = HallId;
    type Msg = HallMsg;
    const KIND: &'static str = "hall";

    fn key(id: &HallId) -> EntityKey {
        EntityKey::Hall(id.clone())
    }

    fn registry(rt: &Runtime) -> &Registry<Self> {
        &rt.halls
    }

    fn restore(id: &HallId, snapshot: Option<Snapshot>, _rt: &Runtime) -> Self {
        let state = match snapshot {
            Some(Snapshot::Hall(s)) => s,
            _ => HallState::new(id.clone()),
        };
        Self {
            state,
            closed: Vec::new(),
        }
    }

    fn handle(&mut self, msg: HallMsg, rt: &Arc<Runtime>) {
        let HallMsg::Delta(d, ack) = msg;
        if let Err(e) = self.state.apply(&d) {
            // Only an overflow of an all-time total gets here: the delta was accepted by its
            // machine or wallet, so it cannot be refused now. Fail the input: its offset
            // will not be stored and the processor stops loudly.
            tracing::error!(hall = %self.state.id, source = %d.source, error = %e, "GGR delta cannot be applied");
            ack.fail();
        }
        let _ = rt;
    }

    fn tick(&mut self, rt: &Arc<Runtime>, all: bool) {
        self.state.close_windows(
            rt.config.ggr_grace_windows,
            all,
            rt.config.ggr_windows_max,
            &mut self.closed,
        );
        for window in self.closed.drain(..) {
            rt.sink.emit(
                Output::Ggr {
                    window,
                    currency: rt.config.currency,
                },
                &AckToken::none(),
            );
        }
    }

    fn snapshot(&self) -> Option<Snapshot> {
        Some(Snapshot::Hall(self.state.clone()))
    }
}
