//! The four entity kinds hosted by the runtime. Each feeds its domain state machine and
//! routes the effects; no business rule lives here.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::domain::ggr::{HallState, WindowClosed};
use crate::domain::jackpot::{
    HitPointSource, JackpotHit, LevelConfig, PoolCommand, PoolMeta, PoolState,
};
use crate::domain::jackpot::{LevelState, MICRO};
use crate::domain::machine::{
    Applied, CashInKind, CashOutKind, EventMeta, GgrDelta, MachineCommand, MachineEffect,
    MachineState,
};
use crate::domain::wallet::{WalletCommand, WalletEffect, WalletMeta, WalletState};
use crate::domain::{
    Currency, DomainError, EventId, HallId, MachineId, PlayerId, PoolId, SourceKey, Timestamp,
};

use super::ack::AckToken;
use super::actor::{Entity, Registry};
use super::ports::{EntityKey, LedgerEntry, LevelView, Movement, Output, Snapshot, Stash, Stored};
use super::runtime::{Remote, Runtime};

/// The money movements an entity recorded since its last stash, numbered on from the count
/// stored with its state. Present only when the store keeps a ledger.
struct Ledger {
    last: u64,
    entries: Vec<LedgerEntry>,
}

impl Ledger {
    fn new(rt: &Runtime, stored: Option<&Stored>) -> Option<Self> {
        rt.store.keeps_ledger().then(|| Ledger {
            last: stored.map_or(0, |s| s.movements),
            entries: Vec::new(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: Movement,
        level: u8,
        amount: i64,
        balance: i64,
        cause: EventId,
        causes: u32,
        time: Timestamp,
    ) {
        self.last += 1;
        self.entries.push(LedgerEntry {
            n: self.last,
            kind,
            level,
            amount,
            balance,
            cause,
            causes,
            time,
        });
    }

    /// The stash of `snapshot`, handing over the movements recorded since the last one.
    fn take(&mut self, snapshot: Snapshot) -> Stash {
        Stash {
            snapshot,
            movements: self.last,
            ledger: std::mem::take(&mut self.entries),
        }
    }

    fn stash(ledger: &mut Option<Ledger>, snapshot: Snapshot) -> Stash {
        match ledger {
            Some(l) => l.take(snapshot),
            None => Stash::state(snapshot),
        }
    }
}

/// Processing time, for ledger entries of pools (a pool command carries no event time).
fn wall_clock() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    )
}

/// The ledger movement of a machine command that moves credits.
fn machine_movement(cmd: &MachineCommand) -> Option<Movement> {
    Some(match cmd {
        MachineCommand::Bet(_) => Movement::Bet,
        MachineCommand::Win(_) => Movement::Win,
        MachineCommand::CashIn(CashInKind::Bill, _) => Movement::BillIn,
        MachineCommand::CashIn(CashInKind::Ticket, _) => Movement::TicketIn,
        MachineCommand::CashIn(CashInKind::Cashless, _) => Movement::CashlessIn,
        MachineCommand::CashOut(CashOutKind::Ticket, _) => Movement::TicketOut,
        MachineCommand::CashOut(CashOutKind::Cashless, _) => Movement::CashlessOut,
        MachineCommand::CashOut(CashOutKind::Handpay, _) => Movement::Handpay,
        _ => return None,
    })
}

/// The ledger movement of a wallet change (the names are the domain's `WalletOp::name`).
fn wallet_movement(kind: &str) -> Movement {
    match kind {
        "deposit" => Movement::Deposit,
        "withdrawal" => Movement::Withdrawal,
        "bet" => Movement::Bet,
        "win" => Movement::Win,
        "rollback" => Movement::Refund,
        other => panic!("wallet change of unknown kind {other:?}"),
    }
}

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
    ledger: Option<Ledger>,
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

    fn restore(id: &MachineId, stored: Option<Stored>, rt: &Runtime) -> Self {
        let ledger = Ledger::new(rt, stored.as_ref());
        let state = match stored.map(|s| s.snapshot) {
            Some(Snapshot::Machine(s)) => Some(s),
            _ => None,
        };
        Self {
            id: id.clone(),
            state,
            fx: Vec::with_capacity(4),
            ledger,
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
                let credits_before = state.credits;
                match state.apply(&meta, &cmd, currency, &mut self.fx) {
                    Ok(Applied::Done) => {
                        if let (Some(l), Some(kind)) = (&mut self.ledger, machine_movement(&cmd)) {
                            let amount = state.credits - credits_before;
                            debug_assert_ne!(amount, 0, "{cmd:?} moved no credits on {id}");
                            l.push(kind, 0, amount, state.credits, meta.event_id, 1, meta.time);
                        }
                    }
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
                                state.last_event_time,
                            );
                        }
                    }
                    Ok(Applied::Duplicate) => {}
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

    fn stash(&mut self) -> Option<Stash> {
        let snapshot = self.state.clone().map(Snapshot::Machine)?;
        Some(Ledger::stash(&mut self.ledger, snapshot))
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
    ledger: Option<Ledger>,
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

    fn restore(id: &PlayerId, stored: Option<Stored>, rt: &Runtime) -> Self {
        let ledger = Ledger::new(rt, stored.as_ref());
        let state = match stored.map(|s| s.snapshot) {
            Some(Snapshot::Wallet(s)) => Some(s),
            _ => None,
        };
        Self {
            id: id.clone(),
            state,
            fx: Vec::with_capacity(2),
            ledger,
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
                } => {
                    if let Some(l) = &mut self.ledger {
                        l.push(
                            wallet_movement(kind),
                            0,
                            delta,
                            balance,
                            meta.event_id,
                            1,
                            meta.time,
                        );
                    }
                    rt.sink.emit(
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
                    )
                }
            }
        }
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.state.clone().map(Snapshot::Wallet)
    }

    fn stash(&mut self) -> Option<Stash> {
        let snapshot = self.state.clone().map(Snapshot::Wallet)?;
        Some(Ledger::stash(&mut self.ledger, snapshot))
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
    ledger: Option<PoolLedger>,
}

/// A pool's money movements. Contributions come with every bet of every linked machine, so
/// they are summed per level (one entry per level per checkpoint, or up to the level's next
/// hit) instead of written one by one; seeds and hits get an entry each.
struct PoolLedger {
    ledger: Ledger,
    /// Per level, before the current command: contributed (micro), seeded, paid.
    before: Vec<(i128, i64, i64)>,
    /// Per level, contributions not yet entered: micro-units, count, last cause.
    acc: Vec<(i64, u32, EventId)>,
}

/// A level's holdings (level, reserve, remainder) in micro-units, as a ledger balance.
fn held_micro(l: &LevelState) -> i64 {
    let held = (l.level as i128 + l.reserve as i128) * MICRO as i128 + l.frac as i128;
    i64::try_from(held).unwrap_or_else(|_| {
        tracing::error!(held = %held, "pool level holdings beyond the ledger's range");
        i64::MAX
    })
}

impl PoolLedger {
    fn new(ledger: Ledger, state: &PoolState, created: bool) -> Self {
        let mut me = Self {
            ledger,
            before: Vec::with_capacity(state.levels.len()),
            acc: vec![(0, 0, EventId(0)); state.levels.len()],
        };
        if created {
            // The operator funds every level's first seed when the pool is created.
            let now = wall_clock();
            for (i, l) in state.levels.iter().enumerate() {
                let amount = l.seeded.saturating_mul(MICRO);
                me.ledger.push(
                    Movement::Seed,
                    i as u8,
                    amount,
                    held_micro(l),
                    EventId(0),
                    0,
                    now,
                );
            }
        }
        me
    }

    fn before(&mut self, state: &PoolState) {
        self.before.clear();
        self.before.extend(
            state
                .levels
                .iter()
                .map(|l| (l.contributed_micro, l.seeded, l.paid)),
        );
    }

    /// Enters the contributions summed for `level`, whose holdings were `balance` after them.
    fn enter_contributions(&mut self, level: usize, balance: i64, time: Timestamp) {
        let (micro, count, cause) = std::mem::replace(&mut self.acc[level], (0, 0, EventId(0)));
        if count > 0 {
            self.ledger.push(
                Movement::Contribution,
                level as u8,
                micro,
                balance,
                cause,
                count,
                time,
            );
        }
    }

    /// Records what the last command changed, by comparing the levels with `before`.
    fn after(&mut self, state: &PoolState, cause: EventId) {
        if self.acc.len() < state.levels.len() {
            self.acc.resize(state.levels.len(), (0, 0, EventId(0)));
        }
        for (i, l) in state.levels.iter().enumerate() {
            let (c0, s0, p0) = self.before.get(i).copied().unwrap_or((0, 0, 0));
            let contributed = i64::try_from(l.contributed_micro - c0)
                .expect("one contribution is at most 10^18 micro-units");
            let seeded = l.seeded - s0;
            let paid = l.paid - p0;
            let held = held_micro(l);
            // Holdings just after this command's contribution, before any hit and re-seed.
            let after_contribution = held + paid * MICRO - seeded * MICRO;
            if contributed != 0 {
                if self.acc[i].0.checked_add(contributed).is_none() {
                    let now = wall_clock();
                    self.enter_contributions(i, after_contribution - contributed, now);
                }
                let a = &mut self.acc[i];
                a.0 += contributed;
                a.1 += 1;
                a.2 = cause;
            }
            if paid != 0 || seeded != 0 {
                let now = wall_clock();
                self.enter_contributions(i, after_contribution, now);
                let after_hit = after_contribution - paid * MICRO;
                if paid != 0 {
                    self.ledger.push(
                        Movement::Hit,
                        i as u8,
                        -paid * MICRO,
                        after_hit,
                        cause,
                        1,
                        now,
                    );
                }
                if seeded != 0 {
                    self.ledger
                        .push(Movement::Seed, i as u8, seeded * MICRO, held, cause, 1, now);
                }
            }
        }
    }

    fn stash(&mut self, state: &PoolState) -> Stash {
        let now = wall_clock();
        for (i, l) in state.levels.iter().enumerate() {
            if i < self.acc.len() {
                self.enter_contributions(i, held_micro(l), now);
            }
        }
        self.ledger.take(Snapshot::Pool(state.clone()))
    }
}

impl PoolEntity {
    /// An operator's change of a level's configuration, scheduled for the level's next reset
    /// ([`PoolState::schedule_change`]); returns the pool's state before and after.
    pub(crate) fn schedule_change(
        &mut self,
        level: u8,
        config: LevelConfig,
    ) -> Result<PoolChange, DomainError> {
        let before = self.state.clone();
        self.state.schedule_change(level, config)?;
        if cfg!(debug_assertions) {
            self.state.assert_invariants();
        }
        self.dirty = true;
        Ok(PoolChange {
            before,
            after: self.state.clone(),
        })
    }

    /// The pool's state.
    pub(crate) fn state(&self) -> &PoolState {
        &self.state
    }
}

/// A pool's state before and after an operator's change.
#[derive(Clone, Debug)]
pub struct PoolChange {
    /// Before the change.
    pub before: PoolState,
    /// After it (the change waits in the level's `pending` until its next reset).
    pub after: PoolState,
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

    fn restore(id: &PoolId, stored: Option<Stored>, rt: &Runtime) -> Self {
        let mut rng = rt.hit_points.for_pool(id);
        let ledger = Ledger::new(rt, stored.as_ref());
        let mut created = false;
        let state = match stored.map(|s| s.snapshot) {
            Some(Snapshot::Pool(s)) => s,
            _ => {
                created = true;
                let config = rt
                    .pool_config(id)
                    .unwrap_or_else(|| panic!("pool {id} is not configured"));
                PoolState::new(id.clone(), config, rng.as_mut())
                    .unwrap_or_else(|e| panic!("pool {id}: {e}"))
            }
        };
        let ledger = ledger.map(|l| PoolLedger::new(l, &state, created));
        Self {
            state,
            rng,
            hits: Vec::new(),
            dirty: true,
            ledger,
        }
    }

    fn handle(&mut self, msg: PoolMsg, rt: &Arc<Runtime>) {
        self.hits.clear();
        if let Some(l) = &mut self.ledger {
            l.before(&self.state);
        }
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
        // Whatever the outcome: the comparison with the levels before finds what moved.
        if let Some(l) = &mut self.ledger {
            l.after(&self.state, msg.meta.cause);
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

    fn stash(&mut self) -> Option<Stash> {
        Some(match &mut self.ledger {
            Some(l) => l.stash(&self.state),
            None => Stash::state(Snapshot::Pool(self.state.clone())),
        })
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

    fn restore(id: &HallId, stored: Option<Stored>, _rt: &Runtime) -> Self {
        let state = match stored.map(|s| s.snapshot) {
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
