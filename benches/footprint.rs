//! The memory a live entity costs (issue 14), counted by a global allocator: heap bytes in
//! use, not resident pages, so the figure is exact and repeatable.
//!
//! `cargo bench --bench footprint [-- EVENTS]` plays EVENTS simulator events (default
//! 300,000: a hall network of 100 halls x 100 machines and 50,000 players) through the
//! in-process runtime with an in-memory store and no HTTP, waits until every actor is
//! quiet, and reports:
//! - `bytes_per_live_entity`: heap growth over the live actors it left;
//! - `actor_floor_bytes`: the same for actors that received one empty message (`Ping`):
//!   the actix actor, its context, mailbox and task, the registry slot and the empty
//!   entity around a state, without the state;
//! - `machine_state_bytes`, `wallet_state_bytes`: a live state's own size (a clone of it,
//!   inline and heap), averaged over every live machine and wallet.
//!
//! Prints one JSON line. The run checks what it counts: every event routed, the live
//! actors equal to the distinct entities the events named.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::mem::size_of;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

use pitboss::config::Config;
use pitboss::pipeline::{Inflight, Ingest, SourcePos};
use pitboss::rng::KeyedHitPoints;
use pitboss::sim::{SimMessage, Simulator};
use pitboss::wire;
use pitboss_actors::domain::machine::{MachineEffect, MachineState};
use pitboss_actors::domain::wallet::WalletState;
use pitboss_actors::domain::{EntityKind, MachineId};
use pitboss_actors::shell::actor::{EntityActor, Slot};
use pitboss_actors::shell::{
    AckToken, Input, MachineEntity, MemoryStore, NullSink, Runtime, Snapshot, WalletEntity,
};

/// Heap bytes in use.
static IN_USE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every call is forwarded to the system allocator unchanged, with the caller's
// guarantees; the counter only observes the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `alloc` hold for `System.alloc`.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            IN_USE.fetch_add(l.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            IN_USE.fetch_add(l.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: `p` was allocated by `System` with `l` (every allocation goes through it).
        unsafe { System.dealloc(p, l) };
        IN_USE.fetch_sub(l.size() as isize, Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; the caller's guarantees on `new` hold.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            IN_USE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn in_use() -> isize {
    IN_USE.load(Ordering::SeqCst)
}

fn config() -> Config {
    let mut cfg = Config::load_with_env(None, Vec::new()).expect("default config");
    cfg.sim.halls = 100;
    cfg.sim.machines_per_hall = 100;
    cfg.sim.players = 50_000;
    cfg.sim.malformed_per_million = 0;
    cfg
}

fn main() {
    let events: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(300_000);
    let cfg = config();
    let mut sim = Simulator::new(&cfg).expect("simulator");
    let msgs: Vec<SimMessage> = (0..events)
        .map(|i| sim.next(1_800_000_000_000 + i as i64 / 50))
        .collect();
    // The entities the events name (what must be live at the end).
    let (mut machines, mut wallets) = (HashSet::new(), HashSet::new());
    for m in &msgs {
        match wire::decode_input(&m.bytes).expect("valid simulator event") {
            Input::Machine { machine, .. } => {
                machines.insert(machine);
            }
            Input::Wallet { player, .. } => {
                wallets.insert(player);
            }
            // Vouchers and desks are counted with the other live entities below.
            Input::Voucher { .. } | Input::Desk { .. } => {}
        }
    }
    let mut rc = cfg.runtime_config().expect("runtime config");
    rc.arbiters = 2;
    actix_rt::System::new().block_on(async move {
        let rt = Runtime::start(
            rc,
            Arc::new(NullSink::default()),
            Arc::new(MemoryStore::default()),
            Arc::new(KeyedHitPoints::new("footprint")),
            Arc::new(pitboss_actors::shell::SystemClock),
        );
        let ingest = Ingest::new(rt.clone());
        let inflight = Inflight::new(65_536);
        rt.quiesce().await;
        let before = in_use();
        for chunk in msgs.chunks(256) {
            let ack = inflight.begin(chunk.len(), |_| {}).await;
            for m in chunk {
                ingest
                    .process(&m.bytes, None, SourcePos::default(), &ack)
                    .await;
            }
        }
        inflight.drained().await;
        rt.quiesce().await;
        let grown = in_use() - before;
        let live = rt.live_actors();
        assert_eq!(
            ingest.stats.routed.load(Ordering::Relaxed) as usize,
            events,
            "every event routed"
        );
        assert_eq!(live[EntityKind::Machine.index()], machines.len());
        assert_eq!(live[EntityKind::Wallet.index()], wallets.len());
        let live_total: usize = live.iter().sum();

        // The states themselves: hold a clone of every live machine's and wallet's.
        let state_bytes = |kind: EntityKind, snaps: &[Option<Snapshot>]| {
            let n = snaps.iter().flatten().count();
            assert_eq!(
                n,
                live[kind.index()],
                "every live {} has a state",
                kind.name()
            );
            n
        };
        let b0 = in_use();
        let mut held = Vec::with_capacity(machines.len());
        for id in &machines {
            held.push(rt.inspect_live_one::<MachineEntity>(id).await);
        }
        let machine_state = (in_use() - b0) as f64 / state_bytes(EntityKind::Machine, &held) as f64;
        drop(held);
        let b0 = in_use();
        let mut held = Vec::with_capacity(wallets.len());
        for id in &wallets {
            held.push(rt.inspect_live_one::<WalletEntity>(id).await);
        }
        let wallet_state = (in_use() - b0) as f64 / state_bytes(EntityKind::Wallet, &held) as f64;
        drop(held);

        // The floor: actors that received one empty message.
        const PINGED: usize = 20_000;
        let ids: Vec<MachineId> = (0..PINGED)
            .map(|i| MachineId::new(&format!("FLOOR-{i:06}")).expect("id"))
            .collect();
        rt.quiesce().await;
        let b0 = in_use();
        for id in &ids {
            rt.ping::<MachineEntity>(id, AckToken::none()).await;
        }
        rt.quiesce().await;
        assert_eq!(
            rt.live_actors()[EntityKind::Machine.index()],
            machines.len() + PINGED
        );
        let floor = (in_use() - b0) as f64 / PINGED as f64;

        let out = serde_json::json!({
            "events": events,
            "live_entities": live_total,
            "live_machines": live[EntityKind::Machine.index()],
            "live_wallets": live[EntityKind::Wallet.index()],
            "live_pools": live[EntityKind::Pool.index()],
            "live_halls": live[EntityKind::Hall.index()],
            "heap_growth_bytes": grown,
            "bytes_per_live_entity": (grown as f64 / live_total as f64).round(),
            "actor_floor_bytes": floor.round(),
            "machine_state_bytes": machine_state.round(),
            "wallet_state_bytes": wallet_state.round(),
            "size_of": {
                "machine_actor": size_of::<EntityActor<MachineEntity>>(),
                "wallet_actor": size_of::<EntityActor<WalletEntity>>(),
                "machine_state": size_of::<MachineState>(),
                "wallet_state": size_of::<WalletState>(),
                "machine_effect": size_of::<MachineEffect>(),
                "registry_slot": size_of::<Slot<MachineEntity>>(),
                "snapshot": size_of::<Snapshot>(),
            },
        });
        println!("{out}");
        rt.stop();
    });
}
