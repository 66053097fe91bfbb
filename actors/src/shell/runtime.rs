//! The runtime: arbiters (threads) the actors are spread over, the registries that route a
//! message to its entity's actor (creating it on first use), and the periodic work
//! (passivation sweeps, throttled jackpot levels, GGR window closing).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use actix::dev::SendError;
use actix::prelude::*;

use crate::domain::jackpot::{HitPointSource, LevelConfig, PoolConfig, PoolState};
use crate::domain::machine::MachineProfile;
use crate::domain::{Currency, DomainError, HallId, MachineId, PoolId};

use super::ack::AckToken;
use super::actor::{
    Deliver, Entity, EntityActor, Exec, Inspect, Ping, Registry, Tick, TryPassivate,
};
use super::entities::{
    HallEntity, HallMsg, MachineEntity, MachineMsg, PoolChange, PoolEntity, PoolMsg, WalletEntity,
    WalletMsg,
};
use super::input::Input;
use super::ports::{EventSink, Snapshot, StateStore, StoreError};

/// A jackpot pool and the halls whose machines play for it.
#[derive(Clone, Debug)]
pub struct PoolSpec {
    /// The pool.
    pub id: PoolId,
    /// Its configuration.
    pub config: PoolConfig,
    /// Halls linked to it; `None` links every hall (a wide-area pool).
    pub halls: Option<Vec<HallId>>,
}

/// Settings of the runtime. Every bound has its unit in its name.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Threads (actix arbiters) the actors are spread over.
    pub arbiters: usize,
    /// Capacity of an actor's mailbox for messages from the ingest side.
    pub mailbox_len_max: usize,
    /// Transaction ids a wallet remembers for idempotency.
    pub wallet_window_len: usize,
    /// How far below zero a wallet may go.
    pub wallet_credit_line_minor: i64,
    /// Cash in at or above this raises an AML alert (0 = never).
    pub large_cash_in_alert_minor: i64,
    /// Windows a hall keeps open behind its newest one before publishing them.
    pub ggr_grace_windows: i64,
    /// Windows a hall keeps in memory.
    pub ggr_windows_max: usize,
    /// The network's currency (machines and halls).
    pub currency: Currency,
    /// The jackpot pools.
    pub pools: Vec<PoolSpec>,
}

/// Which pools the machines of a hall play for, from the configuration.
#[derive(Clone, Debug)]
pub struct Directory {
    currency: Currency,
    large_cash_in_alert_minor: i64,
    pools_by_hall: HashMap<HallId, Vec<PoolId>>,
    wide_area_pools: Vec<PoolId>,
}

impl Directory {
    /// The directory of a configuration.
    pub fn new(config: &RuntimeConfig) -> Self {
        let mut dir = Self {
            currency: config.currency,
            large_cash_in_alert_minor: config.large_cash_in_alert_minor,
            pools_by_hall: HashMap::new(),
            wide_area_pools: Vec::new(),
        };
        for p in &config.pools {
            dir.add_pool(p);
        }
        dir
    }

    /// Links a pool to its halls (or to every hall).
    pub fn add_pool(&mut self, p: &PoolSpec) {
        match &p.halls {
            None => self.wide_area_pools.push(p.id.clone()),
            Some(halls) => {
                for h in halls {
                    self.pools_by_hall
                        .entry(h.clone())
                        .or_default()
                        .push(p.id.clone());
                }
            }
        }
    }

    /// The profile of a machine standing in `hall`.
    pub fn machine_profile(&self, hall: &HallId) -> MachineProfile {
        let mut pools = self.pools_by_hall.get(hall).cloned().unwrap_or_default();
        pools.extend(self.wide_area_pools.iter().cloned());
        MachineProfile {
            hall: hall.clone(),
            currency: self.currency,
            pools,
            large_cash_in_alert_minor: self.large_cash_in_alert_minor,
        }
    }
}

/// The pools and their hall links; changes only when an operator creates a pool.
struct PoolTable {
    specs: Vec<PoolSpec>,
    directory: Directory,
}

/// Why an operator's pool change was not made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PoolAdminError {
    /// No such pool.
    #[error("pool {0} does not exist")]
    UnknownPool(PoolId),
    /// A pool with this id exists already.
    #[error("pool {0} already exists")]
    Exists(PoolId),
    /// The domain refuses the configuration.
    #[error(transparent)]
    Invalid(#[from] DomainError),
}

/// Makes the hit-point source of a pool (randomness is injected, never drawn by the core).
pub trait HitPointFactory: Send + Sync + 'static {
    /// The source for one pool.
    fn for_pool(&self, pool: &PoolId) -> Box<dyn HitPointSource>;
}

/// A message from one entity to another, which may live in another process.
pub enum Remote {
    /// A contribution or claim for a pool.
    Pool(PoolId, PoolMsg),
    /// A GGR delta for a hall.
    Hall(HallId, HallMsg),
    /// A jackpot award for a machine.
    Machine(MachineId, MachineMsg),
}

/// Decides where messages between entities go. Without one, every entity is local. With
/// Kafka, pools and halls live with the partitions of internal topics keyed by them, so the
/// router produces these messages to those topics (holding the message's `AckToken` until
/// the broker has them) and the instance owning the partition delivers them.
pub trait EffectRouter: Send + Sync + 'static {
    /// Takes the message if its target lives elsewhere; gives it back if it is local.
    fn route(&self, msg: Remote) -> Option<Remote>;
}

/// Counters the runtime keeps (exported as metrics by the root crate).
#[derive(Default, Debug)]
pub struct RuntimeStats {
    /// Actors started, by kind: machine, wallet, pool, hall.
    pub started: [AtomicU64; 4],
    /// Actors passivated, by kind.
    pub passivated: [AtomicU64; 4],
    /// Repeated inputs recognised and skipped.
    pub duplicates: AtomicU64,
    /// Inputs refused by the core.
    pub refused: AtomicU64,
}

fn kind_index(kind: &str) -> usize {
    match kind {
        "machine" => 0,
        "wallet" => 1,
        "pool" => 2,
        _ => 3,
    }
}

/// The actor runtime. Create it inside a running actix `System`.
pub struct Runtime {
    /// Settings.
    pub config: RuntimeConfig,
    /// Where outputs go.
    pub sink: Arc<dyn EventSink>,
    /// Where state is kept.
    pub store: Arc<dyn StateStore>,
    /// Counters.
    pub stats: RuntimeStats,
    pub(crate) hit_points: Arc<dyn HitPointFactory>,
    router: std::sync::OnceLock<Arc<dyn EffectRouter>>,
    /// The pools (configured at start, then created by operators) and the hall links.
    pool_table: RwLock<PoolTable>,
    arbiters: Vec<Arbiter>,
    hasher: std::collections::hash_map::RandomState,
    pub(crate) machines: Registry<MachineEntity>,
    pub(crate) wallets: Registry<WalletEntity>,
    pub(crate) pools: Registry<PoolEntity>,
    pub(crate) halls: Registry<HallEntity>,
}

impl Runtime {
    /// Starts the arbiters and returns the runtime.
    pub fn start(
        config: RuntimeConfig,
        sink: Arc<dyn EventSink>,
        store: Arc<dyn StateStore>,
        hit_points: Arc<dyn HitPointFactory>,
    ) -> Arc<Runtime> {
        let arbiters = (0..config.arbiters.max(1))
            .map(|_| Arbiter::new())
            .collect();
        let pool_table = RwLock::new(PoolTable {
            specs: config.pools.clone(),
            directory: Directory::new(&config),
        });
        Arc::new(Runtime {
            config,
            sink,
            store,
            stats: RuntimeStats::default(),
            hit_points,
            router: std::sync::OnceLock::new(),
            pool_table,
            arbiters,
            hasher: Default::default(),
            machines: Registry::default(),
            wallets: Registry::default(),
            pools: Registry::default(),
            halls: Registry::default(),
        })
    }

    pub(crate) fn arbiter_for<K: Hash>(&self, id: &K) -> ArbiterHandle {
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

    /// The configuration a pool starts from (when it has no stored state).
    pub(crate) fn pool_config(&self, id: &PoolId) -> Option<PoolConfig> {
        self.pool_spec(id).map(|s| s.config)
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

    /// Creates a pool at run time (operator API) and starts its actor; returns its state.
    ///
    /// Machines first seen after the creation play for it; a machine already known keeps
    /// the pools of its stored profile. The pool is not written back to the configuration:
    /// it lives until the process stops unless the configuration names it too. Where pools
    /// live on other instances (Kafka internal topics), call it only on the pool's owner.
    pub async fn create_pool(
        self: &Arc<Self>,
        spec: PoolSpec,
    ) -> Result<PoolState, PoolAdminError> {
        spec.config.validate()?;
        {
            let mut table = self.pool_table.write().expect("pool table lock");
            if table.specs.iter().any(|s| s.id == spec.id) {
                return Err(PoolAdminError::Exists(spec.id));
            }
            table.directory.add_pool(&spec);
            table.specs.push(spec.clone());
        }
        Ok(self
            .exec::<PoolEntity, _>(&spec.id, |e, _| (e.state().clone(), true))
            .await)
    }

    /// Schedules a new configuration of a pool's level for its next reset (operator API):
    /// the prize the level is building up to never changes. Returns the state before and
    /// after. Where pools live on other instances, call it only on the pool's owner.
    pub async fn schedule_level_change(
        self: &Arc<Self>,
        pool: &PoolId,
        level: u8,
        config: LevelConfig,
    ) -> Result<PoolChange, PoolAdminError> {
        if self.pool_spec(pool).is_none() {
            return Err(PoolAdminError::UnknownPool(pool.clone()));
        }
        self.exec::<PoolEntity, _>(pool, move |e, _| match e.schedule_change(level, config) {
            Ok(change) => (Ok(change), true),
            Err(err) => (Err(PoolAdminError::Invalid(err)), false),
        })
        .await
    }

    /// Runs `f` on the entity's actor (starting it if needed) between two of its messages.
    async fn exec<E: Entity, R: Send + 'static>(
        self: &Arc<Self>,
        id: &E::Id,
        f: impl FnOnce(&mut E, &Arc<Runtime>) -> (R, bool) + Send + 'static,
    ) -> R {
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

    pub(crate) fn passivated(&self, kind: &str) {
        self.stats.passivated[kind_index(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// Installs the effect router (once, before any input).
    pub fn set_router(&self, router: Arc<dyn EffectRouter>) -> Result<(), &'static str> {
        self.router
            .set(router)
            .map_err(|_| "the effect router is already set")
    }

    /// Delivers a message between entities: through the router if one is set and the target
    /// is remote, else to the local actor.
    pub fn forward(self: &Arc<Self>, msg: Remote) {
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
        }
    }

    /// Sends a message to an entity's actor (starting it if needed), ignoring the mailbox
    /// bound. For messages between actors, whose volume the ingest side already bounds.
    pub fn tell<E: Entity>(self: &Arc<Self>, id: &E::Id, msg: E::Msg) {
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
    pub async fn send<E: Entity>(self: &Arc<Self>, id: &E::Id, msg: E::Msg) {
        self.send_counted::<E, _>(id, Deliver(msg)).await
    }

    /// Sends an empty message through the same path as [`Runtime::send`] (benchmarks).
    pub async fn ping<E: Entity>(self: &Arc<Self>, id: &E::Id, ack: AckToken) {
        self.send_counted::<E, _>(id, Ping(ack)).await
    }

    async fn send_counted<E, M>(self: &Arc<Self>, id: &E::Id, msg: M)
    where
        E: Entity,
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

    fn spawn<E: Entity>(self: &Arc<Self>, id: &E::Id) -> super::actor::Slot<E> {
        self.stats.started[kind_index(E::KIND)].fetch_add(1, Ordering::Relaxed);
        EntityActor::<E>::spawn(self, id)
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
                let msg = WalletMsg {
                    meta,
                    cmd,
                    currency,
                    ack,
                };
                self.send::<WalletEntity>(&player, msg).await
            }
        }
    }

    /// Asks every idle actor to passivate (those active since the previous sweep stay).
    pub fn sweep_idle(&self) {
        fn sweep<E: Entity>(r: &Registry<E>) {
            let addrs: Vec<_> = r.iter().map(|s| s.addr.clone()).collect();
            for a in addrs {
                a.do_send(TryPassivate);
            }
        }
        sweep(&self.machines);
        sweep(&self.wallets);
        sweep(&self.pools);
        sweep(&self.halls);
    }

    /// Passivates the given entities now, idle or not (their state goes to the store), and
    /// waits until each is gone. For a rebalance: call it once nothing is in flight for them.
    pub async fn passivate_now<E: Entity>(self: &Arc<Self>, ids: &[E::Id]) {
        for id in ids {
            loop {
                let addr = match E::registry(self).get(id) {
                    Some(slot) => slot.addr.clone(),
                    None => break,
                };
                // Ends with the actor gone unless a message was still queued; then retry.
                let _ = addr.send(super::actor::Passivate).await;
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

    /// Every live actor whose state changed since the last checkpoint hands it to the store;
    /// resolves when all have. Upstream kinds (machines, wallets) go last, so a store that
    /// writes in stash order persists an effect's target no later than its source.
    pub async fn checkpoint(&self) {
        async fn each<E: Entity>(r: &Registry<E>) {
            let addrs: Vec<_> = r.iter().map(|s| s.addr.clone()).collect();
            let replies = futures_join(
                addrs
                    .iter()
                    .map(|a| a.send(super::actor::Checkpoint))
                    .collect(),
            )
            .await;
            drop(replies);
        }
        each(&self.halls).await;
        each(&self.pools).await;
        each(&self.wallets).await;
        each(&self.machines).await;
    }

    /// Waits until every actor has handled everything sent to it so far (a `Tick` round
    /// trip through each of them, twice: effects of the first round reach downstream actors
    /// before the second).
    pub async fn quiesce(&self) {
        for _ in 0..3 {
            self.inspect_live().await;
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
    pub async fn inspect<E: Entity>(&self, id: &E::Id) -> Result<Option<Snapshot>, StoreError> {
        let addr = E::registry(self).get(id).map(|s| s.addr.clone());
        if let Some(a) = addr {
            if let Ok(s) = a.send(Inspect).await {
                return Ok(s);
            }
        }
        Ok(self.store.load(&E::key(id)).await?.map(|s| s.snapshot))
    }

    /// Live actors by kind: machine, wallet, pool, hall.
    pub fn live_actors(&self) -> [usize; 4] {
        [
            self.machines.len(),
            self.wallets.len(),
            self.pools.len(),
            self.halls.len(),
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
