//! The runtime: arbiters (threads) the actors are spread over, the registries that route a
//! message to its entity's actor (creating it on first use), and the periodic work
//! (passivation sweeps, throttled jackpot levels, GGR window closing).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use actix::dev::SendError;
use actix::prelude::*;

use crate::domain::jackpot::{HitPointSource, PoolConfig};
use crate::domain::machine::MachineProfile;
use crate::domain::{EntityKind, HallId, MachineId, PlayerId, PoolId, Timestamp};

use crate::shell::ack::AckToken;
use crate::shell::actor::{
    Barrier, Checkpoint, Deliver, Entity, EntityActor, Exec, Host, Inspect, Passivate, Ping,
    Registry, Release, Slot, Tick, TryPassivate,
};
use crate::shell::config::{Directory, EntitySettings, PoolSpec, RuntimeConfig};
use crate::shell::context::{Counter, EntityContext};
use crate::shell::entities::{
    DeskEntity, HallEntity, MachineEntity, PoolEntity, VoucherEntity, WalletEntity,
};
use crate::shell::input::Input;
use crate::shell::messages::{DeskMsg, EffectRouter, MachineMsg, Remote, VoucherMsg, WalletMsg};
use crate::shell::ports::clock::Clock;
use crate::shell::ports::random::HitPointFactory;
use crate::shell::ports::sink::{EventSink, Output};
use crate::shell::ports::store::{Snapshot, StateStore, StoreError};

/// The pools and their hall links; changes only when an operator creates a pool.
struct PoolTable {
    specs: Vec<PoolSpec>,
    directory: Directory,
}

/// Counters the runtime keeps (exported as metrics by the root crate).
#[derive(Default, Debug)]
pub struct RuntimeStats {
    /// Actors started, by kind (indexed by [`EntityKind::index`]).
    pub started: [AtomicU64; EntityKind::COUNT],
    /// Actors passivated, by kind.
    pub passivated: [AtomicU64; EntityKind::COUNT],
    /// Repeated inputs recognised and skipped.
    pub duplicates: AtomicU64,
    /// Inputs refused by the core.
    pub refused: AtomicU64,
}

/// An entity kind this runtime hosts: where its live actors are registered.
pub trait Hosted: Entity {
    /// The registry of live actors of this kind.
    fn registry(rt: &Runtime) -> &Arc<Registry<Self>>;
}

impl Hosted for MachineEntity {
    fn registry(rt: &Runtime) -> &Arc<Registry<Self>> {
        &rt.machines
    }
}

impl Hosted for WalletEntity {
    fn registry(rt: &Runtime) -> &Arc<Registry<Self>> {
        &rt.wallets
    }
}

impl Hosted for VoucherEntity {
    fn registry(rt: &Runtime) -> &Arc<Registry<Self>> {
        &rt.vouchers
    }
}

impl Hosted for DeskEntity {
    fn registry(rt: &Runtime) -> &Arc<Registry<Self>> {
        &rt.desks
    }
}

impl Hosted for PoolEntity {
    fn registry(rt: &Runtime) -> &Arc<Registry<Self>> {
        &rt.pools
    }
}

impl Hosted for HallEntity {
    fn registry(rt: &Runtime) -> &Arc<Registry<Self>> {
        &rt.halls
    }
}

/// The actor runtime. Create it inside a running actix `System`.
pub struct Runtime {
    pub config: RuntimeConfig,
    /// Where outputs go.
    pub sink: Arc<dyn EventSink>,
    /// Where state is kept.
    pub store: Arc<dyn StateStore>,
    pub stats: RuntimeStats,
    /// The runtime itself, for actors started from a `&self` call (an entity's forward).
    me: Weak<Runtime>,
    settings: EntitySettings,
    hit_points: Arc<dyn HitPointFactory>,
    clock: Arc<dyn Clock>,
    router: std::sync::OnceLock<Arc<dyn EffectRouter>>,
    /// The pools (configured at start, then created by operators) and the hall links.
    pool_table: RwLock<PoolTable>,
    arbiters: Vec<Arbiter>,
    hasher: std::collections::hash_map::RandomState,
    machines: Arc<Registry<MachineEntity>>,
    wallets: Arc<Registry<WalletEntity>>,
    pools: Arc<Registry<PoolEntity>>,
    halls: Arc<Registry<HallEntity>>,
    vouchers: Arc<Registry<VoucherEntity>>,
    desks: Arc<Registry<DeskEntity>>,
    /// Publications wait for a durable checkpoint (RULES.md H-2).
    after_checkpoint: std::sync::atomic::AtomicBool,
    /// RULES.md W-10: wallets holding money for a transfer, by the time the hold lapses
    /// after, for the sweep ([`Runtime::take_lapsed_holds`]).
    holds: std::sync::Mutex<std::collections::BTreeSet<(i64, PlayerId)>>,
}

impl Runtime {
    /// Starts the arbiters and returns the runtime. `clock` gives processing time (pool
    /// ledger entries); `hit_points` the randomness of mystery jackpots.
    pub fn start(
        config: RuntimeConfig,
        sink: Arc<dyn EventSink>,
        store: Arc<dyn StateStore>,
        hit_points: Arc<dyn HitPointFactory>,
        clock: Arc<dyn Clock>,
    ) -> Arc<Runtime> {
        let arbiters = (0..config.arbiters.max(1))
            .map(|_| Arbiter::new())
            .collect();
        let pool_table = RwLock::new(PoolTable {
            specs: config.pools.clone(),
            directory: Directory::new(&config),
        });
        Arc::new_cyclic(|me| Runtime {
            settings: EntitySettings::from(&config),
            config,
            sink,
            store,
            stats: RuntimeStats::default(),
            me: me.clone(),
            hit_points,
            clock,
            router: std::sync::OnceLock::new(),
            pool_table,
            arbiters,
            hasher: Default::default(),
            machines: Arc::default(),
            wallets: Arc::default(),
            pools: Arc::default(),
            halls: Arc::default(),
            vouchers: Arc::default(),
            desks: Arc::default(),
            after_checkpoint: std::sync::atomic::AtomicBool::new(false),
            holds: Default::default(),
        })
    }

    /// RULES.md W-10: notes that `player`'s wallet holds money until `until` (the census
    /// notes the holds of the stored wallets at start; a wallet notes its own as it holds).
    pub fn note_hold(&self, player: &PlayerId, until: Timestamp) {
        self.holds
            .lock()
            .expect("holds lock")
            .insert((until.0, player.clone()));
    }

    /// RULES.md W-10, the sweep: the wallets with a hold whose time is before `now_ms`, each
    /// with that time (removed: a wallet that still holds something after its lapse notes
    /// it again).
    pub fn take_lapsed_holds(&self, now_ms: i64) -> Vec<(PlayerId, Timestamp)> {
        let mut holds = self.holds.lock().expect("holds lock");
        let mut due = Vec::new();
        while let Some((until, _)) = holds.first() {
            if *until >= now_ms {
                break;
            }
            let (until, player) = holds.pop_first().expect("just seen");
            due.push((player, Timestamp(until)));
        }
        due
    }

    /// Makes publications (GGR windows) wait for a durable checkpoint holding them, published
    /// by [`Runtime::release`] (RULES.md H-2). Set it before the first input, with a durable
    /// store whose every successful flush is followed by `release`.
    pub fn publish_after_checkpoint(&self) {
        self.after_checkpoint.store(true, Ordering::Relaxed);
    }

    /// A flush made every stash so far durable: halls publish what their stashed outboxes
    /// hold. `ack` completes when every publication is delivered.
    pub fn release(&self, ack: &AckToken) {
        for s in self.halls.iter() {
            s.addr.do_send(Release(ack.clone()));
        }
    }

    fn arbiter_for<K: Hash>(&self, id: &K) -> ArbiterHandle {
        let i = self.hasher.hash_one(id) as usize % self.arbiters.len();
        self.arbiters[i].handle()
    }

    /// The profile of a machine standing in `hall`.
    pub fn machine_profile(&self, hall: &HallId) -> MachineProfile {
        self.pool_table
            .read()
            .expect("pool table lock")
            .directory
            .machine_profile(hall)
    }

    /// A pool's specification (configured at start or created since), if it exists.
    pub fn pool_spec(&self, id: &PoolId) -> Option<PoolSpec> {
        let table = self.pool_table.read().expect("pool table lock");
        table.specs.iter().find(|s| &s.id == id).cloned()
    }

    /// Every pool: those configured at start, then those created since, in that order.
    pub fn pool_specs(&self) -> Vec<PoolSpec> {
        self.pool_table
            .read()
            .expect("pool table lock")
            .specs
            .clone()
    }

    /// Runs `f` on the entity's actor (starting it if needed) between two of its messages.
    async fn exec<E: Hosted, R: Send + 'static>(
        self: &Arc<Self>,
        id: &E::Id,
        f: impl FnOnce(&mut E) -> (R, bool) + Send + 'static,
    ) -> Result<R, StoreError> {
        let registry = E::registry(self);
        let addr = loop {
            if let Some(slot) = registry.get(id) {
                // Counted while the shard is locked: the actor cannot passivate before it.
                slot.sent.fetch_add(1, Ordering::Relaxed);
                break slot.addr.clone();
            }
            registry
                .entry(id.clone())
                .or_insert_with(|| self.spawn::<E>(id));
        };
        match addr.send(Exec { f: Box::new(f) }).await {
            Ok(r) => r,
            Err(_) => panic!(
                "{} actor {id} stopped with a message counted for it",
                E::KIND
            ),
        }
    }

    /// Installs the effect router (once, before any input).
    pub fn set_router(&self, router: Arc<dyn EffectRouter>) -> Result<(), &'static str> {
        self.router
            .set(router)
            .map_err(|_| "the effect router is already set")
    }

    /// Delivers a message between entities: through the router if one is set and the target
    /// is remote, else to the local actor.
    pub fn forward(&self, msg: Remote) {
        let msg = match self.router.get() {
            Some(r) => match r.route(msg) {
                None => return,
                Some(local) => local,
            },
            None => msg,
        };
        match msg {
            Remote::Pool(id, m) => self.tell::<PoolEntity>(&id, m),
            Remote::Hall(id, m) => self.tell::<HallEntity>(&id, m),
            Remote::Machine(id, m) => self.tell::<MachineEntity>(&id, m),
            Remote::Voucher(id, m) => self.tell::<VoucherEntity>(&id, m),
            Remote::Wallet(id, m) => self.tell::<WalletEntity>(&id, m),
            Remote::Desk(id, m) => self.tell::<DeskEntity>(&id, m),
        }
    }

    /// Sends a message to an entity's actor (starting it if needed), ignoring the mailbox
    /// bound. For messages between actors, whose volume the ingest side already bounds.
    pub fn tell<E: Hosted>(&self, id: &E::Id, msg: E::Msg) {
        let registry = E::registry(self);
        loop {
            if let Some(slot) = registry.get(id) {
                slot.sent.fetch_add(1, Ordering::Relaxed);
                slot.addr.do_send(Deliver(msg));
                return;
            }
            registry
                .entry(id.clone())
                .or_insert_with(|| self.spawn::<E>(id));
        }
    }

    /// Sends a message to an entity's actor (starting it if needed), waiting while its
    /// mailbox is full. The ingest side's path: this is where backpressure starts.
    pub async fn send<E: Hosted>(self: &Arc<Self>, id: &E::Id, msg: E::Msg) {
        self.send_counted::<E, _>(id, Deliver(msg)).await
    }

    /// Sends an empty message through the same path as [`Runtime::send`] (benchmarks).
    pub async fn ping<E: Hosted>(self: &Arc<Self>, id: &E::Id, ack: AckToken) {
        self.send_counted::<E, _>(id, Ping(ack)).await
    }

    async fn send_counted<E, M>(self: &Arc<Self>, id: &E::Id, msg: M)
    where
        E: Hosted,
        M: Message<Result = ()> + Send + 'static,
        EntityActor<E>: Handler<M>,
        <EntityActor<E> as Actor>::Context: actix::dev::ToEnvelope<EntityActor<E>, M>,
    {
        let registry = E::registry(self);
        let mut msg = msg;
        let addr = loop {
            if let Some(slot) = registry.get(id) {
                // Counted before sending and while the shard is locked: the actor cannot
                // passivate until it has processed this message.
                slot.sent.fetch_add(1, Ordering::Relaxed);
                match slot.addr.try_send(msg) {
                    Ok(()) => return,
                    Err(SendError::Full(m)) => {
                        msg = m;
                        break slot.addr.clone();
                    }
                    Err(SendError::Closed(m)) => {
                        // Cannot happen while the slot is registered; recover anyway.
                        slot.sent.fetch_sub(1, Ordering::Relaxed);
                        msg = m;
                        let stale = slot.addr.clone();
                        drop(slot);
                        registry.remove_if(id, |_, s| s.addr == stale);
                        continue;
                    }
                }
            }
            registry
                .entry(id.clone())
                .or_insert_with(|| self.spawn::<E>(id));
        };
        // Mailbox full: wait for room. The count taken above keeps the actor alive.
        if addr.send(msg).await.is_err() {
            panic!(
                "{} actor {id} stopped with a message counted for it",
                E::KIND
            );
        }
    }

    fn spawn<E: Hosted>(&self, id: &E::Id) -> Slot<E> {
        self.stats.started[E::KIND.index()].fetch_add(1, Ordering::Relaxed);
        let host: Arc<dyn Host> = self
            .me
            .upgrade()
            .expect("a runtime that starts actors is alive");
        EntityActor::<E>::spawn(
            host,
            E::registry(self).clone(),
            &self.arbiter_for(id),
            self.config.mailbox_len_max,
            id,
        )
    }

    /// Routes a validated input event to its entity.
    pub async fn dispatch(self: &Arc<Self>, input: Input, ack: AckToken) {
        match input {
            Input::Machine {
                machine,
                hall,
                meta,
                cmd,
                currency,
            } => {
                let msg = MachineMsg::Event {
                    hall,
                    meta,
                    cmd,
                    currency,
                    ack,
                };
                self.send::<MachineEntity>(&machine, msg).await
            }
            Input::Wallet {
                player,
                meta,
                cmd,
                currency,
            } => {
                let msg = WalletMsg::Command {
                    meta,
                    cmd,
                    currency,
                    recalled: Vec::new(),
                    ack,
                };
                if self.router.get().is_some() {
                    // Several instances: the wallet lives with its partition of the internal
                    // transfers topic, where its machines' transfers go too (RULES.md W-10),
                    // so that it applies both in one order, the same on every replay.
                    self.forward(Remote::Wallet(player, msg));
                } else {
                    self.send::<WalletEntity>(&player, msg).await
                }
            }
            Input::Voucher {
                validation,
                meta,
                cmd,
                currency,
            } => {
                let msg = VoucherMsg::Command {
                    meta,
                    cmd,
                    currency,
                    ack,
                };
                if self.router.get().is_some() {
                    // Several instances: the voucher lives with its partition of the internal
                    // topic (its machines' ticket facts go there too), not with the input's.
                    self.forward(Remote::Voucher(validation, msg));
                } else {
                    self.send::<VoucherEntity>(&validation, msg).await
                }
            }
            Input::Desk {
                desk,
                meta,
                cmd,
                currency,
            } => {
                let msg = DeskMsg::Command {
                    meta,
                    cmd,
                    currency,
                    ack,
                };
                if self.router.get().is_some() {
                    // Several instances: the desk lives with its partition of the internal
                    // desk topic (its vouchers' cash operations go there too, RULES.md D-3).
                    self.forward(Remote::Desk(desk, msg));
                } else {
                    self.send::<DeskEntity>(&desk, msg).await
                }
            }
        }
    }

    /// Asks every actor idle since the previous sweep to passivate, and, where more than
    /// `live-actors-max` of a kind would stay live, the least used of the others too. Only
    /// those are messaged: a sweep costs one atomic read per live actor and one message per
    /// actor asked.
    pub fn sweep_idle(&self) {
        fn sweep<E: Entity>(r: &Registry<E>, max: usize) {
            for a in r.sweep(max) {
                a.do_send(TryPassivate);
            }
        }
        let max = self.config.live_actors_max;
        sweep(&self.machines, max);
        sweep(&self.wallets, max);
        sweep(&self.pools, max);
        sweep(&self.halls, max);
        sweep(&self.vouchers, max);
        sweep(&self.desks, max);
    }

    /// Passivates the given entities now, idle or not (their state goes to the store), and
    /// waits until each is gone. For a rebalance: call it once nothing is in flight for them.
    pub async fn passivate_now<E: Hosted>(self: &Arc<Self>, ids: &[E::Id]) {
        for id in ids {
            loop {
                let addr = match E::registry(self).get(id) {
                    Some(slot) => slot.addr.clone(),
                    None => break,
                };
                // Ends with the actor gone unless a message was still queued; then retry.
                let _ = addr.send(Passivate).await;
                if E::registry(self).get(id).is_none() {
                    break;
                }
                actix::clock::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
    }

    /// Periodic publication: pools publish changed levels; halls close due windows (`all`:
    /// every open window, before a shutdown or a final report).
    pub fn tick(&self, all: bool) {
        for s in self.pools.iter() {
            s.addr.do_send(Tick { all });
        }
        for s in self.halls.iter() {
            s.addr.do_send(Tick { all });
        }
    }

    /// These halls, where live, close every open window now (into their outboxes, with
    /// publish-after-checkpoint): before a hand-over, so that the windows are published
    /// after the next durable checkpoint by this instance instead of waiting in the store for
    /// the partition's next owner.
    pub fn close_windows_of(&self, halls: &[HallId]) {
        for id in halls {
            if let Some(s) = self.halls.get(id) {
                s.addr.do_send(Tick { all: true });
            }
        }
    }

    /// Every live actor whose state changed since the last checkpoint hands it to the store;
    /// resolves when all have. Only those actors are messaged (they list themselves when
    /// they change), so a checkpoint costs what changed, not what is live. Upstream kinds
    /// (machines, wallets) go last, so a store that writes in stash order persists an
    /// effect's target no later than its source.
    pub async fn checkpoint(&self) {
        async fn each<E: Entity>(r: &Registry<E>) {
            let addrs = r.take_unstashed();
            // An actor passivated since it listed itself has stashed already: its send fails.
            let replies = futures_join(addrs.iter().map(|a| a.send(Checkpoint)).collect()).await;
            drop(replies);
        }
        each(&self.halls).await;
        each(&self.pools).await;
        each(&self.desks).await;
        each(&self.vouchers).await;
        each(&self.wallets).await;
        each(&self.machines).await;
    }

    /// Waits until every actor has handled everything sent to it so far (a [`Barrier`]
    /// round trip through each of them, three times: effects of a round reach downstream
    /// actors before the next). It clones no state: with many live actors it runs at every
    /// shutdown and backup.
    pub async fn quiesce(&self) {
        async fn barrier<E: Entity>(r: &Registry<E>) {
            let addrs: Vec<_> = r.iter().map(|s| s.addr.clone()).collect();
            drop(futures_join(addrs.iter().map(|a| a.send(Barrier)).collect()).await);
        }
        for _ in 0..3 {
            barrier(&self.machines).await;
            barrier(&self.wallets).await;
            barrier(&self.pools).await;
            barrier(&self.halls).await;
            barrier(&self.vouchers).await;
            barrier(&self.desks).await;
        }
    }

    async fn inspect_live(&self) -> Vec<Snapshot> {
        async fn inspect<E: Entity>(r: &Registry<E>, out: &mut Vec<Snapshot>) {
            let addrs: Vec<_> = r.iter().map(|s| s.addr.clone()).collect();
            let replies = futures_join(addrs.iter().map(|a| a.send(Inspect)).collect()).await;
            out.extend(replies.into_iter().flatten().flatten());
        }
        let mut out = Vec::new();
        inspect(&self.machines, &mut out).await;
        inspect(&self.wallets, &mut out).await;
        inspect(&self.pools, &mut out).await;
        inspect(&self.halls, &mut out).await;
        inspect(&self.vouchers, &mut out).await;
        inspect(&self.desks, &mut out).await;
        out
    }

    /// The state of every entity: live actors' state, and the stored state of passivated
    /// ones. Call it on a quiet runtime (no input in flight) for a consistent picture.
    pub async fn collect(&self) -> Result<Vec<Snapshot>, StoreError> {
        let live = self.inspect_live().await;
        let mut by_key: HashMap<_, _> = self
            .store
            .all()
            .await?
            .into_iter()
            .map(|s| (s.key(), s))
            .collect();
        for s in live {
            by_key.insert(s.key(), s);
        }
        Ok(by_key.into_values().collect())
    }

    /// State of one entity, if it has any (live actor first, then the store).
    pub async fn inspect<E: Hosted>(&self, id: &E::Id) -> Result<Option<Snapshot>, StoreError> {
        if let Some(live) = self.ask_live::<E>(id).await {
            return Ok(live);
        }
        Ok(self.store.load(&E::key(id)).await?.map(|s| s.snapshot))
    }

    /// A live actor's answer to [`Inspect`] (`None`: no live actor, or it stopped).
    async fn ask_live<E: Hosted>(&self, id: &E::Id) -> Option<Option<Snapshot>> {
        let addr = E::registry(self).get(id).map(|s| s.addr.clone())?;
        addr.send(Inspect).await.ok()
    }

    /// Starts listing the entities of kind `E` that change, for [`Runtime::take_changed`].
    pub fn watch<E: Hosted>(&self) {
        E::registry(self).watch();
    }

    /// The entities of kind `E` whose state changed, or whose actor passivated, since the
    /// previous call (after [`Runtime::watch`]); read their state after this call.
    pub fn take_changed<E: Hosted>(&self) -> Vec<E::Id> {
        E::registry(self).take_changed()
    }

    /// State of one entity if its actor is live (`None` if not live or without state); never
    /// starts an actor nor reads the store.
    pub async fn inspect_live_one<E: Hosted>(&self, id: &E::Id) -> Option<Snapshot> {
        self.ask_live::<E>(id).await.flatten()
    }

    /// Live actors by kind (indexed by [`EntityKind::index`]).
    pub fn live_actors(&self) -> [usize; EntityKind::COUNT] {
        [
            self.machines.len(),
            self.wallets.len(),
            self.pools.len(),
            self.halls.len(),
            self.vouchers.len(),
            self.desks.len(),
        ]
    }

    /// Messages sent so far through the registries to the live actors, by kind (indexed by
    /// [`EntityKind::index`]): inputs, messages between actors and pings. An actor's count
    /// leaves with it when it passivates (benchmarks read it on a runtime that does not).
    pub fn messages_sent(&self) -> [u64; EntityKind::COUNT] {
        fn sum<E: Entity>(r: &Registry<E>) -> u64 {
            r.iter().map(|s| s.sent.load(Ordering::Relaxed)).sum()
        }
        [
            sum(&self.machines),
            sum(&self.wallets),
            sum(&self.pools),
            sum(&self.halls),
            sum(&self.vouchers),
            sum(&self.desks),
        ]
    }

    /// Stops the arbiters (their actors stop with them).
    pub fn stop(&self) {
        for a in &self.arbiters {
            a.stop();
        }
    }

    /// The ids of the live machines (for read APIs and tests).
    pub fn live_machine_ids(&self) -> Vec<MachineId> {
        self.machines.iter().map(|s| s.key().clone()).collect()
    }

    /// The ids of the live entities of kind `E` (the census's first round).
    pub fn live_ids<E: Hosted>(&self) -> Vec<E::Id> {
        E::registry(self).iter().map(|s| s.key().clone()).collect()
    }

    /// The ids of the live halls (for read APIs).
    pub fn live_hall_ids(&self) -> Vec<HallId> {
        self.halls.iter().map(|s| s.key().clone()).collect()
    }
}

/// Awaits requests that were all sent when they were created (actix's `Addr::send` enqueues
/// at once), so awaiting them in order still lets every actor work in parallel.
async fn futures_join<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut out = Vec::with_capacity(futs.len());
    for f in futs {
        out.push(f.await);
    }
    out
}

impl EntityContext for Runtime {
    fn forward(&self, msg: Remote) {
        Runtime::forward(self, msg)
    }

    fn emit(&self, output: Output, ack: &AckToken) {
        self.sink.emit(output, ack)
    }

    fn count(&self, counter: Counter) {
        let c = match counter {
            Counter::Duplicate => &self.stats.duplicates,
            Counter::Refused => &self.stats.refused,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    fn machine_profile(&self, hall: &HallId) -> MachineProfile {
        Runtime::machine_profile(self, hall)
    }

    fn pool_config(&self, pool: &PoolId) -> Option<PoolConfig> {
        self.pool_spec(pool).map(|s| s.config)
    }

    fn hit_points(&self, pool: &PoolId) -> Box<dyn HitPointSource> {
        self.hit_points.for_pool(pool)
    }

    fn settings(&self) -> &EntitySettings {
        &self.settings
    }

    fn voucher_policy(&self) -> &crate::domain::voucher::VoucherPolicy {
        &self.config.vouchers
    }

    fn calendar(&self) -> &dyn crate::domain::limits::Calendar {
        self.config.calendar.as_ref()
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn keeps_ledger(&self) -> bool {
        self.store.keeps_ledger()
    }

    fn publishes_after_checkpoint(&self) -> bool {
        self.after_checkpoint.load(Ordering::Relaxed)
    }

    fn hold_until(&self, player: &PlayerId, until: Timestamp) {
        self.note_hold(player, until);
    }
}

impl Host for Runtime {
    fn context(&self) -> &dyn EntityContext {
        self
    }

    fn store(&self) -> &dyn StateStore {
        &*self.store
    }

    fn passivated(&self, kind: EntityKind) {
        self.stats.passivated[kind.index()].fetch_add(1, Ordering::Relaxed);
    }
}

pub mod admin;
#[cfg(test)]
mod tests;
