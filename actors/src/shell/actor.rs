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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::fut::{wrap_future, ActorFutureExt};
use actix::prelude::*;
use dashmap::DashMap;

use super::ports::{EntityKey, Snapshot, Stash, Stored};
use super::runtime::Runtime;

/// An entity kind the runtime can host: the glue between a domain state machine and its actor.
pub trait Entity: Sized + Unpin + 'static {
    /// The entity's id.
    type Id: Clone + Eq + Hash + Display + Send + Sync + Unpin + 'static;
    /// The messages it handles.
    type Msg: Send + 'static;
    /// A short name for logs and metrics (`machine`, `wallet`, `pool`, `hall`).
    const KIND: &'static str;
    /// The store key of an entity.
    fn key(id: &Self::Id) -> EntityKey;
    /// The registry of live actors of this kind.
    fn registry(rt: &Runtime) -> &Registry<Self>;
    /// Builds the entity from its stored state (and movement count), or as new.
    fn restore(id: &Self::Id, stored: Option<Stored>, rt: &Runtime) -> Self;
    /// Handles one message.
    fn handle(&mut self, msg: Self::Msg, rt: &Arc<Runtime>);
    /// The entity's current state (None if it has none yet).
    fn snapshot(&self) -> Option<Snapshot>;
    /// The entity's current state for the store, with the money movements recorded since
    /// the previous call (which it hands over: the next call starts a new list).
    fn stash(&mut self) -> Option<Stash> {
        self.snapshot().map(Stash::state)
    }
    /// Periodic work (throttled publications, window closing). `all` asks to publish
    /// everything pending (before shutdown or passivation).
    fn tick(&mut self, _rt: &Arc<Runtime>, _all: bool) {}
}

/// A live actor's entry in the registry.
pub struct Slot<E: Entity> {
    /// The actor's address.
    pub addr: Addr<EntityActor<E>>,
    /// Messages sent to it through the registry.
    pub sent: Arc<AtomicU64>,
}

/// Live actors of one kind, by id.
pub type Registry<E> = DashMap<<E as Entity>::Id, Slot<E>, foldhash::fast::RandomState>;

/// A message for an entity.
pub struct Deliver<M>(pub M);

impl<M: Send + 'static> Message for Deliver<M> {
    type Result = ();
}

/// An empty message (benchmarks measure the framework's floor with it). It is routed and
/// counted like any message, and does nothing but drop its token.
pub struct Ping(pub super::ack::AckToken);

impl Message for Ping {
    type Result = ();
}

/// Asks an actor to passivate if it has been idle since the previous request.
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

/// The actor around one entity.
pub struct EntityActor<E: Entity> {
    id: E::Id,
    entity: Option<E>,
    rt: Arc<Runtime>,
    processed: u64,
    touched: bool,
    dirty: bool,
}

impl<E: Entity> EntityActor<E> {
    /// Starts an actor for `id` on one of the runtime's arbiters (chosen by the id's hash).
    pub(crate) fn spawn(rt: &Arc<Runtime>, id: &E::Id) -> Slot<E> {
        let sent = Arc::new(AtomicU64::new(0));
        let arbiter = rt.arbiter_for(id);
        let (rt2, id2) = (rt.clone(), id.clone());
        let capacity = rt.config.mailbox_len_max;
        let addr = EntityActor::<E>::start_in_arbiter(&arbiter, move |ctx| {
            ctx.set_mailbox_capacity(capacity);
            EntityActor {
                id: id2,
                entity: None,
                rt: rt2,
                processed: 0,
                touched: true,
                dirty: false,
            }
        });
        Slot { addr, sent }
    }
}

impl<E: Entity> Actor for EntityActor<E> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let store = self.rt.store.clone();
        let key = E::key(&self.id);
        // Load before the first message: `wait` holds the mailbox until the state is in.
        let load = async move {
            let mut delay = Duration::from_millis(10);
            loop {
                match store.load(&key).await {
                    Ok(s) => return s,
                    Err(e) => {
                        tracing::warn!(entity = ?key, error = %e, "loading state failed; retrying");
                        actix::clock::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                }
            }
        };
        ctx.wait(wrap_future::<_, Self>(load).map(|snap, act, _ctx| {
            act.entity = Some(E::restore(&act.id, snap, &act.rt));
        }));
    }
}

impl<E: Entity> Handler<Deliver<E::Msg>> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, msg: Deliver<E::Msg>, _ctx: &mut Self::Context) {
        self.processed += 1;
        self.touched = true;
        self.dirty = true;
        let entity = self
            .entity
            .as_mut()
            .expect("state is loaded before the first message");
        entity.handle(msg.0, &self.rt);
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
    /// Removes the actor's slot and hands its state to the store, if every message counted
    /// for it has been processed; then stops the actor.
    fn passivate(&mut self, ctx: &mut Context<Self>) {
        let Some(entity) = self.entity.as_mut() else {
            return;
        };
        entity.tick(&self.rt, true);
        let processed = self.processed;
        let me = ctx.address();
        let store = &self.rt.store;
        let removed = E::registry(&self.rt).remove_if(&self.id, |_, slot| {
            let idle = slot.addr == me && slot.sent.load(Ordering::Acquire) == processed;
            if idle {
                // Taken only once passivation is certain: the stash hands over the
                // entity's recorded movements.
                if let Some(s) = entity.stash() {
                    store.stash(s);
                }
            }
            idle
        });
        if removed.is_some() {
            self.rt.passivated(E::KIND);
            ctx.stop();
        }
    }
}

impl<E: Entity> Handler<TryPassivate> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, _msg: TryPassivate, ctx: &mut Self::Context) {
        if !std::mem::take(&mut self.touched) {
            self.passivate(ctx);
        }
    }
}

impl<E: Entity> Handler<Passivate> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, _msg: Passivate, ctx: &mut Self::Context) {
        self.passivate(ctx);
    }
}

impl<E: Entity> Handler<Checkpoint> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, _msg: Checkpoint, _ctx: &mut Self::Context) {
        if std::mem::take(&mut self.dirty) {
            if let Some(s) = self.entity.as_mut().and_then(Entity::stash) {
                self.rt.store.stash(s);
            }
        }
    }
}

impl<E: Entity> Handler<Inspect> for EntityActor<E> {
    type Result = Option<Snapshot>;

    fn handle(&mut self, _msg: Inspect, _ctx: &mut Self::Context) -> Option<Snapshot> {
        self.entity.as_ref().and_then(Entity::snapshot)
    }
}

impl<E: Entity> Handler<Tick> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, msg: Tick, _ctx: &mut Self::Context) {
        if let Some(e) = self.entity.as_mut() {
            e.tick(&self.rt, msg.all);
        }
    }
}

/// Runs a function on an actor's entity between two of its messages (the runtime's operator
/// calls, e.g. [`Runtime::schedule_level_change`]). Counted like a delivery, so passivation
/// waits for it. The function returns its result and whether it changed the entity's state
/// (then the next checkpoint hands the state to the store).
pub(crate) struct Exec<E: Entity, R> {
    pub(crate) f: ExecFn<E, R>,
}

/// The function an [`Exec`] runs: its result, and whether it changed the state.
pub(crate) type ExecFn<E, R> = Box<dyn FnOnce(&mut E, &Arc<Runtime>) -> (R, bool) + Send>;

impl<E: Entity, R: Send + 'static> Message for Exec<E, R> {
    type Result = R;
}

impl<E: Entity, R: Send + 'static> Handler<Exec<E, R>> for EntityActor<E> {
    type Result = MessageResult<Exec<E, R>>;

    fn handle(&mut self, msg: Exec<E, R>, _ctx: &mut Self::Context) -> Self::Result {
        self.processed += 1;
        self.touched = true;
        let entity = self
            .entity
            .as_mut()
            .expect("state is loaded before the first message");
        let (result, changed) = (msg.f)(entity, &self.rt);
        if changed {
            self.dirty = true;
        }
        MessageResult(result)
    }
}
