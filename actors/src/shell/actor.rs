//! The generic actor shell: one actix actor per entity, created on first use by the router,
//! loaded from the store before its first message, passivated when idle.
//!
//! Passivation is safe against a message in flight: every send through the registry counts
//! itself in the slot (`sent`) while holding the registry's shard lock, and the actor removes
//! its slot only under the shard's write lock and only when it has processed exactly `sent`
//! messages. It hands its state to the store inside that lock, so the next actor for the same
//! entity (created only after the removal) always loads the latest state.

use std::fmt::Display;
use std::hash::Hash;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::fut::{wrap_future, ActorFutureExt};
use actix::prelude::*;
use dashmap::DashMap;

use crate::domain::ggr::GgrTotals;
use crate::domain::wallet::{Recalled, TxKey};
use crate::domain::{EntityKind, HallId, PlayerId, Timestamp};

use crate::shell::ack::AckToken;
use crate::shell::context::EntityContext;
use crate::shell::ports::store::{
    Backoff, EntityKey, Snapshot, Stash, StateStore, StoreError, Stored,
};

/// What a message needs read from the store before it can be handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// A wallet's answers no longer in its memory (RULES.md W-1).
    Txs(PlayerId, Vec<TxKey>),
    /// A hall's published windows no longer in its memory (RULES.md H-2).
    Windows(HallId, Vec<Timestamp>),
}

/// What the store held for a [`Need`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// Per key, the stored answer or tombstone (`None`: never stored).
    Txs(Recalled),
    /// Per window, its stored totals and revision (`None`: never stored).
    Windows(Vec<(Timestamp, Option<(GgrTotals, u32)>)>),
}

/// An entity kind the runtime can host: the glue between a domain state machine and its actor.
pub trait Entity: Sized + Unpin + 'static {
    type Id: Clone + Eq + Hash + Display + Send + Sync + Unpin + 'static;
    type Msg: Send + 'static;
    /// Which kind (logs, metrics, per-kind counters).
    const KIND: EntityKind;
    /// The store key of an entity.
    fn key(id: &Self::Id) -> EntityKey;
    /// Completion of the input a message comes from (failed when the entity cannot load).
    fn ack(msg: &Self::Msg) -> &AckToken;
    /// Builds the entity from its stored state (and movement count), or as new.
    fn restore(id: &Self::Id, stored: Option<Stored>, cx: &dyn EntityContext) -> Self;
    fn handle(&mut self, msg: Self::Msg, cx: &dyn EntityContext);
    /// What a message needs read from the store before it can be handled (a wallet's
    /// answers no longer in memory, RULES.md W-1; a hall's published windows, H-2). The
    /// actor holds its mailbox while it reads, then [`Entity::fill`]s the message and
    /// handles it.
    fn prefetch(&self, _msg: &Self::Msg) -> Option<Need> {
        None
    }
    /// Gives a message what its prefetch read.
    fn fill(_msg: &mut Self::Msg, _found: Found) {}
    /// The entity's current state (None if it has none yet).
    fn snapshot(&self) -> Option<Snapshot>;
    /// The entity's current state for the store, with the money movements recorded since
    /// the previous call (which it hands over: the next call starts a new list).
    fn stash(&mut self, _cx: &dyn EntityContext) -> Option<Stash> {
        self.snapshot().map(Stash::state)
    }
    /// Periodic work (throttled publications, window closing). `all` asks to publish
    /// everything pending (before shutdown or passivation). Whether the state changed (then
    /// the next checkpoint hands it to the store).
    fn tick(&mut self, _cx: &dyn EntityContext, _all: bool) -> bool {
        false
    }
    /// A checkpoint holding the entity's last stash is durable: publish what waited for it
    /// (RULES.md H-2). `ack` completes when the publications are delivered. Whether the
    /// state changed.
    fn release(&mut self, _cx: &dyn EntityContext, _ack: &AckToken) -> bool {
        false
    }
    /// Whether the entity may leave memory when idle (not while publications wait for a
    /// durable checkpoint: nothing would publish them).
    fn may_passivate(&self) -> bool {
        true
    }
}

/// What an actor needs from the runtime hosting it, beyond what its entity may do.
pub trait Host: Send + Sync + 'static {
    /// The entity's view of the runtime.
    fn context(&self) -> &dyn EntityContext;
    /// Where state is loaded from and stashed to.
    fn store(&self) -> &dyn StateStore;
    /// Counts an actor of `kind` passivated.
    fn passivated(&self, kind: EntityKind);
}

/// A live actor's entry in the registry.
pub struct Slot<E: Entity> {
    pub addr: Addr<EntityActor<E>>,
    /// Messages sent to it through the registry.
    pub sent: Arc<AtomicU64>,
    /// `sent` when the previous idle sweep looked at it: unchanged at the next sweep means
    /// the actor was idle in between ([`Registry::idle`]).
    swept: AtomicU64,
}

/// Live actors of one kind, by id (the map derefs to it), and what changed among them: the
/// periodic jobs (checkpoints, the idle sweep, the census) cost what changed since their
/// previous round, not what is live.
///
/// - `unstashed`: every actor whose state changed since its last [`Checkpoint`], listed
///   once, by the actor itself when its first change after a checkpoint happens. A
///   checkpoint takes the list and messages only those.
/// - `changed`: once someone [`Registry::watch`]es, every entity whose state changed (or
///   whose actor passivated) since the previous [`Registry::take_changed`], listed once per
///   round: `round` counts the takes (0: nobody watches), and an actor lists itself when
///   the round it last listed itself in is not the current one.
pub struct Registry<E: Entity> {
    live: DashMap<E::Id, Slot<E>, foldhash::fast::RandomState>,
    unstashed: Mutex<Vec<Addr<EntityActor<E>>>>,
    changed: Mutex<Vec<E::Id>>,
    round: AtomicU64,
}

impl<E: Entity> Default for Registry<E> {
    fn default() -> Self {
        Self {
            live: DashMap::default(),
            unstashed: Mutex::new(Vec::new()),
            changed: Mutex::new(Vec::new()),
            round: AtomicU64::new(0),
        }
    }
}

impl<E: Entity> Deref for Registry<E> {
    type Target = DashMap<E::Id, Slot<E>, foldhash::fast::RandomState>;

    fn deref(&self) -> &Self::Target {
        &self.live
    }
}

impl<E: Entity> Registry<E> {
    /// The actors whose state changed since their last checkpoint (the list starts anew).
    pub fn take_unstashed(&self) -> Vec<Addr<EntityActor<E>>> {
        std::mem::take(&mut *self.unstashed.lock().expect("registry lock"))
    }

    /// Starts listing changed entities for [`Registry::take_changed`]; changes before the
    /// first call are not listed (read the live actors once instead).
    pub fn watch(&self) {
        let _ = self
            .round
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The entities whose state changed, or whose actor passivated, since the previous
    /// call (each once). Read their state after this call: a change after it is listed for
    /// the next one.
    pub fn take_changed(&self) -> Vec<E::Id> {
        let mut changed = self.changed.lock().expect("registry lock");
        self.round.fetch_add(1, Ordering::SeqCst);
        std::mem::take(&mut *changed)
    }

    /// The live actors to ask to passivate: those that received no message since the
    /// previous call (and were live then), and, while more than `max` would stay live (0:
    /// no bound), as many of the others as bring the count to `max`, those that received
    /// the fewest messages since the previous call first. Costs one atomic read per live
    /// actor, no message; the selection only when over the bound.
    pub fn sweep(&self, max: usize) -> Vec<Addr<EntityActor<E>>> {
        let mut idle = Vec::new();
        let mut busy = Vec::new();
        for s in self.live.iter() {
            let sent = s.sent.load(Ordering::Acquire);
            let before = s.swept.swap(sent, Ordering::Relaxed);
            if before == sent {
                idle.push(s.addr.clone());
            } else if max > 0 {
                busy.push((sent.wrapping_sub(before), s.addr.clone()));
            }
        }
        let excess = busy.len().saturating_sub(max);
        if excess > 0 {
            busy.select_nth_unstable_by_key(excess - 1, |b| b.0);
            idle.extend(busy.into_iter().take(excess).map(|b| b.1));
        }
        idle
    }

    /// Lists `id` as changed in the current round, unless it is listed already (`noted`:
    /// the round the actor last listed itself in) or nobody watches.
    fn note_changed(&self, id: &E::Id, noted: &mut u64) {
        let round = self.round.load(Ordering::Acquire);
        if round == 0 || *noted == round {
            return;
        }
        // Under the lock the round cannot move: the id goes into the list of `round`.
        let mut changed = self.changed.lock().expect("registry lock");
        *noted = self.round.load(Ordering::Acquire);
        changed.push(id.clone());
    }
}

/// A message for an entity.
pub struct Deliver<M>(pub M);

impl<M: Send + 'static> Message for Deliver<M> {
    type Result = ();
}

/// An empty message (benchmarks measure the framework's floor with it). It is routed and
/// counted like any message, and does nothing but drop its token.
pub struct Ping(pub AckToken);

impl Message for Ping {
    type Result = ();
}

/// Asks an actor the idle sweep found idle to passivate (it stays if a message reached it
/// since, or if its entity may not leave memory yet).
pub struct TryPassivate;

impl Message for TryPassivate {
    type Result = ();
}

/// Asks an actor to passivate now, idle or not (rebalance, shutdown).
pub struct Passivate;

impl Message for Passivate {
    type Result = ();
}

/// Asks an actor to hand its state to the store if it changed since the last checkpoint.
pub struct Checkpoint;

impl Message for Checkpoint {
    type Result = ();
}

/// A round trip and nothing else: answered once everything sent to the actor before it is
/// handled ([`crate::shell::Runtime::quiesce`] waits on it; unlike [`Inspect`] it clones no
/// state).
pub struct Barrier;

impl Message for Barrier {
    type Result = ();
}

/// Asks an actor for its state.
pub struct Inspect;

impl Message for Inspect {
    type Result = Option<Snapshot>;
}

/// Periodic work; `all` publishes everything pending.
pub struct Tick {
    /// Publish everything pending.
    pub all: bool,
}

impl Message for Tick {
    type Result = ();
}

/// Where an actor's entity stands.
enum Loaded<E> {
    /// The state is being loaded (the mailbox waits).
    Loading,
    /// The entity, ready.
    Ready(E),
    /// Its state cannot be loaded and retrying cannot help: every message it gets fails its
    /// input (which stops the processor before any offset past it is stored).
    Failed(StoreError),
}

pub struct EntityActor<E: Entity> {
    id: E::Id,
    entity: Loaded<E>,
    host: Arc<dyn Host>,
    registry: Arc<Registry<E>>,
    processed: u64,
    /// Changed since its last stash (then listed in the registry's `unstashed`).
    dirty: bool,
    /// The registry's round it last listed itself in as changed (0: never).
    noted: u64,
}

/// The first wait after a failed load; it doubles up to [`LOAD_RETRY_MAX`].
const LOAD_RETRY_FIRST: Duration = Duration::from_millis(10);
/// The longest wait between two loads.
const LOAD_RETRY_MAX: Duration = Duration::from_secs(5);

/// Loads an entity's state, retrying transient failures with backoff until the store
/// answers. A permanent failure is returned at once: retrying cannot heal it.
pub async fn load_state(
    store: &dyn StateStore,
    key: &EntityKey,
) -> Result<Option<Stored>, StoreError> {
    let mut backoff = Backoff::new(LOAD_RETRY_FIRST, LOAD_RETRY_MAX);
    loop {
        match store.load(key).await {
            Ok(s) => return Ok(s),
            Err(e) => match backoff.retry(&e) {
                Some(delay) => {
                    tracing::warn!(entity = ?key, error = %e, "loading state failed; retrying");
                    actix::clock::sleep(delay).await;
                }
                None => return Err(e),
            },
        }
    }
}

impl<E: Entity> EntityActor<E> {
    /// Starts an actor for `id` on `arbiter`, registered in `registry`.
    pub(crate) fn spawn(
        host: Arc<dyn Host>,
        registry: Arc<Registry<E>>,
        arbiter: &ArbiterHandle,
        mailbox_len_max: usize,
        id: &E::Id,
    ) -> Slot<E> {
        let sent = Arc::new(AtomicU64::new(0));
        let id = id.clone();
        let swept = AtomicU64::new(0);
        let addr = EntityActor::<E>::start_in_arbiter(arbiter, move |ctx| {
            ctx.set_mailbox_capacity(mailbox_len_max);
            EntityActor {
                id,
                entity: Loaded::Loading,
                host,
                registry,
                processed: 0,
                dirty: false,
                noted: 0,
            }
        });
        Slot { addr, sent, swept }
    }
}

impl<E: Entity> Actor for EntityActor<E> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let host = self.host.clone();
        let key = E::key(&self.id);
        // Load before the first message: `wait` holds the mailbox until the state is in.
        let load = async move { load_state(host.store(), &key).await };
        ctx.wait(
            wrap_future::<_, Self>(load).map(|loaded, act, _ctx| match loaded {
                Ok(stored) => {
                    let entity = E::restore(&act.id, stored, act.host.context());
                    act.entity = Loaded::Ready(entity);
                }
                Err(e) => {
                    tracing::error!(
                        kind = E::KIND.name(),
                        id = %act.id,
                        error = %e,
                        "the state cannot be loaded and retrying cannot help: every input for this entity fails"
                    );
                    act.entity = Loaded::Failed(e);
                }
            }),
        );
    }
}

/// Reads what a message needs from the store, retrying transient failures like
/// [`load_state`].
async fn recall(store: &dyn StateStore, need: &Need) -> Result<Found, StoreError> {
    let mut backoff = Backoff::new(LOAD_RETRY_FIRST, LOAD_RETRY_MAX);
    loop {
        let read = match need {
            Need::Txs(player, keys) => store.recall(player, keys).await.map(Found::Txs),
            Need::Windows(hall, windows) => store
                .recall_windows(hall, windows)
                .await
                .map(Found::Windows),
        };
        match read {
            Ok(r) => return Ok(r),
            Err(e) => match backoff.retry(&e) {
                Some(delay) => {
                    tracing::warn!(need = ?need, error = %e, "reading what an input needs from the store failed; retrying");
                    actix::clock::sleep(delay).await;
                }
                None => return Err(e),
            },
        }
    }
}

impl<E: Entity> Handler<Deliver<E::Msg>> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, msg: Deliver<E::Msg>, ctx: &mut Self::Context) {
        self.processed += 1;
        self.changed(ctx);
        let needs = match &self.entity {
            Loaded::Ready(entity) => entity.prefetch(&msg.0),
            _ => None,
        };
        if let Some(need) = needs {
            let host = self.host.clone();
            let read = async move { recall(host.store(), &need).await };
            // `wait` holds the mailbox: the next message is handled after this one.
            ctx.wait(
                wrap_future::<_, Self>(read).map(move |read, act, _ctx| {
                    let mut msg = msg.0;
                    match (read, &mut act.entity) {
                        (Ok(recalled), Loaded::Ready(entity)) => {
                            E::fill(&mut msg, recalled);
                            entity.handle(msg, act.host.context());
                        }
                        (Err(e), _) => {
                            tracing::error!(
                                kind = E::KIND.name(),
                                id = %act.id,
                                error = %e,
                                "reading what an input needs failed and retrying cannot help: the input fails"
                            );
                            E::ack(&msg).fail();
                        }
                        (Ok(_), _) => E::ack(&msg).fail(),
                    }
                }),
            );
            return;
        }
        match &mut self.entity {
            Loaded::Ready(entity) => entity.handle(msg.0, self.host.context()),
            Loaded::Failed(_) => E::ack(&msg.0).fail(),
            Loaded::Loading => unreachable!("state is loaded before the first message"),
        }
    }
}

impl<E: Entity> Handler<Ping> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, msg: Ping, _ctx: &mut Self::Context) {
        self.processed += 1;
        drop(msg);
    }
}

impl<E: Entity> EntityActor<E> {
    /// Notes a change of state: listed for the next checkpoint (once until it) and for the
    /// registry's watcher.
    fn changed(&mut self, ctx: &Context<Self>) {
        if !self.dirty {
            self.dirty = true;
            let mut unstashed = self.registry.unstashed.lock().expect("registry lock");
            unstashed.push(ctx.address());
        }
        self.registry.note_changed(&self.id, &mut self.noted);
    }

    /// Removes the actor's slot and hands its state to the store, if every message counted
    /// for it has been processed; then stops the actor. Unless `forced`, an entity whose
    /// publications wait for a durable checkpoint stays.
    fn passivate(&mut self, ctx: &mut Context<Self>, forced: bool) {
        let ticked = match &mut self.entity {
            Loaded::Ready(entity) => entity.tick(self.host.context(), true),
            _ => return,
        };
        if ticked {
            // Listed for the checkpoint in case the actor stays.
            self.changed(ctx);
        }
        let (host, registry, processed) = (&self.host, &self.registry, self.processed);
        let Loaded::Ready(entity) = &mut self.entity else {
            return;
        };
        let cx = host.context();
        if !forced && !entity.may_passivate() {
            return;
        }
        let me = ctx.address();
        let removed = registry.remove_if(&self.id, |_, slot| {
            let idle = slot.addr == me && slot.sent.load(Ordering::Acquire) == processed;
            if idle {
                // Taken only once passivation is certain: the stash hands over the
                // entity's recorded movements.
                if let Some(s) = entity.stash(cx) {
                    host.store().stash(s);
                }
            }
            idle
        });
        if removed.is_some() {
            host.passivated(E::KIND);
            registry.note_changed(&self.id, &mut self.noted);
            ctx.stop();
        }
    }
}

impl<E: Entity> Handler<TryPassivate> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, _msg: TryPassivate, ctx: &mut Self::Context) {
        self.passivate(ctx, false);
    }
}

impl<E: Entity> Handler<Passivate> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, _msg: Passivate, ctx: &mut Self::Context) {
        self.passivate(ctx, true);
    }
}

impl<E: Entity> Handler<Checkpoint> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, _msg: Checkpoint, _ctx: &mut Self::Context) {
        if std::mem::take(&mut self.dirty) {
            if let Loaded::Ready(entity) = &mut self.entity {
                if let Some(s) = entity.stash(self.host.context()) {
                    self.host.store().stash(s);
                }
            }
        }
    }
}

impl<E: Entity> Handler<Barrier> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, _msg: Barrier, _ctx: &mut Self::Context) {}
}

impl<E: Entity> Handler<Inspect> for EntityActor<E> {
    type Result = Option<Snapshot>;

    fn handle(&mut self, _msg: Inspect, _ctx: &mut Self::Context) -> Option<Snapshot> {
        match &self.entity {
            Loaded::Ready(e) => e.snapshot(),
            _ => None,
        }
    }
}

impl<E: Entity> Handler<Tick> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, msg: Tick, ctx: &mut Self::Context) {
        if let Loaded::Ready(e) = &mut self.entity {
            if e.tick(self.host.context(), msg.all) {
                self.changed(ctx);
            }
        }
    }
}

/// A checkpoint is durable: publish what waited for it (RULES.md H-2). The token completes
/// when the publications are delivered.
pub struct Release(pub AckToken);

impl Message for Release {
    type Result = ();
}

impl<E: Entity> Handler<Release> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, msg: Release, ctx: &mut Self::Context) {
        if let Loaded::Ready(e) = &mut self.entity {
            if e.release(self.host.context(), &msg.0) {
                self.changed(ctx);
            }
        }
    }
}

/// Runs a function on an actor's entity between two of its messages (the runtime's operator
/// calls, e.g. `Runtime::schedule_level_change`). Counted like a delivery, so passivation
/// waits for it. The function returns its result and whether it changed the entity's state
/// (then the next checkpoint hands the state to the store). An entity whose state cannot be
/// loaded answers with the store's error instead.
pub(crate) struct Exec<E: Entity, R> {
    pub(crate) f: ExecFn<E, R>,
}

/// The function an [`Exec`] runs: its result, and whether it changed the state.
pub(crate) type ExecFn<E, R> = Box<dyn FnOnce(&mut E) -> (R, bool) + Send>;

impl<E: Entity, R: Send + 'static> Message for Exec<E, R> {
    type Result = Result<R, StoreError>;
}

impl<E: Entity, R: Send + 'static> Handler<Exec<E, R>> for EntityActor<E> {
    type Result = MessageResult<Exec<E, R>>;

    fn handle(&mut self, msg: Exec<E, R>, ctx: &mut Self::Context) -> Self::Result {
        self.processed += 1;
        let entity = match &mut self.entity {
            Loaded::Ready(e) => e,
            Loaded::Failed(e) => return MessageResult(Err(e.clone())),
            Loaded::Loading => unreachable!("state is loaded before the first message"),
        };
        let (result, changed) = (msg.f)(entity);
        if changed {
            self.changed(ctx);
        }
        MessageResult(Ok(result))
    }
}
