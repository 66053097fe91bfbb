//! `pitboss-load inproc`: over the same events, the actor pipeline against two floors of
//! empty messages (actix's cost of the messages alone) and a single-threaded loop without
//! actors.
//!
//! - The actix floor: one empty message per event, to the event's actor (machine or wallet).
//! - The fan-out floor: one empty message per actor message the pipeline sends for the
//!   event: to the event's actor, and to every entity its effects are delivered to (GGR
//!   deltas to halls, contributions and claims to pools, awards to machines and their GGR
//!   to halls). The deliveries are the reference processor's ([`Direct::delivered`]), which
//!   routes the same effects by direct calls; the run checks them against the messages the
//!   pipeline's registries counted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use pitboss::config::Config;
use pitboss::direct::Direct;
use pitboss::pipeline::{Inflight, Ingest, SourcePos};
use pitboss::rng::KeyedHitPoints;
use pitboss::sim::{SimMessage, Simulator};
use pitboss::wire;
use pitboss_actors::domain::EntityKind;
use pitboss_actors::shell::{
    DeskEntity, EntityKey, HallEntity, Input, MachineEntity, MemoryStore, NullSink, PoolEntity,
    Runtime, Snapshot, VoucherEntity, WalletEntity,
};
use serde::Serialize;

use crate::harness;

/// Events per in-flight token: the pipeline's ingest batch, and the floors'.
const CHUNK: usize = 256;

#[derive(Serialize)]
pub struct InprocReport {
    events: usize,
    machines: u32,
    players: u32,
    arbiters: usize,
    events_per_sec: f64,
    /// The actix floor: one empty message per event, to the event's actor only.
    actix_floor_events_per_sec: f64,
    /// The fan-out floor: `fanout_messages` empty messages, to the actors the pipeline
    /// messages for these events.
    fanout_floor_events_per_sec: f64,
    raw_events_per_sec: f64,
    /// `floor_secs / pipeline_secs`.
    ratio: f64,
    /// `fanout_floor_secs / pipeline_secs`.
    ratio_to_fanout_floor: f64,
    pipeline_secs: f64,
    floor_secs: f64,
    fanout_floor_secs: f64,
    raw_secs: f64,
    /// Empty messages the fan-out floor sent: one per event to its actor, one per delivery
    /// of its effects (the reference processor's).
    fanout_messages: u64,
    /// Messages the pipeline sent to actors (inputs and messages between actors), as its
    /// registries counted them. Equal to `fanout_messages` but for jackpot hits: which
    /// contribution to a shared pool hits depends on the order contributions from
    /// machines on different threads arrive in, so the hits (an award to the machine, and
    /// its GGR to the hall: 2 messages each) may differ in number from the reference run's;
    /// the run checks every other kind of message matches exactly.
    pipeline_messages: u64,
    /// `pipeline_messages` by the kind of actor they went to.
    pipeline_messages_by_kind: MessagesByKind,
    /// CPU seconds (user + system, every thread of this process: `getrusage(RUSAGE_SELF)`)
    /// spent in the timed pipeline part (the `pipeline_secs` window).
    pipeline_cpu_secs: f64,
    /// `pipeline_cpu_secs` × 10⁶ / `events`: µs of CPU per event through the pipeline.
    cpu_us_per_event: f64,
}

impl InprocReport {
    /// The report as a table.
    pub fn table(&self) -> String {
        let r = self;
        [
            format!("events                      {}", r.events),
            format!("machines / players          {} / {}", r.machines, r.players),
            format!("arbiters (actor threads)    {}", r.arbiters),
            format!("pipeline events/s           {:.0}", r.events_per_sec),
            format!(
                "actix floor events/s        {:.0}  (1 empty message per event, to its actor)",
                r.actix_floor_events_per_sec
            ),
            format!(
                "fan-out floor events/s      {:.0}  ({} empty messages, {:.2} per event; the \
                 pipeline sent {})",
                r.fanout_floor_events_per_sec,
                r.fanout_messages,
                r.fanout_messages as f64 / r.events.max(1) as f64,
                r.pipeline_messages
            ),
            format!("raw loop events/s           {:.0}", r.raw_events_per_sec),
            format!("ratio pipeline / floor      {:.3}", r.ratio),
            format!("ratio pipeline / fan-out    {:.3}", r.ratio_to_fanout_floor),
            format!(
                "pipeline CPU                {:.2} s, {:.2} µs per event",
                r.pipeline_cpu_secs, r.cpu_us_per_event
            ),
        ]
        .join("\n")
    }
}

/// The actors the pipeline messages for each event, as indices into `keys`: the event's
/// actor first, then one per delivery of its effects, in the reference processor's order.
struct Fanout {
    /// Every entity messaged, once.
    keys: Vec<EntityKey>,
    /// Per message, its entity.
    pings: Vec<u32>,
    /// Event `i`'s messages are `pings[bounds[i]..bounds[i + 1]]`.
    bounds: Vec<usize>,
    /// Jackpot hits in the reference run.
    hits: u64,
}

impl Fanout {
    /// Applies the events to a traced reference processor (not timed).
    fn trace(direct: Direct, msgs: &[SimMessage]) -> anyhow::Result<Self> {
        let mut direct = direct.tracing_deliveries();
        let mut index: HashMap<EntityKey, u32> = HashMap::new();
        let mut f = Fanout {
            keys: Vec::new(),
            pings: Vec::with_capacity(msgs.len() * 3),
            bounds: Vec::with_capacity(msgs.len() + 1),
            hits: 0,
        };
        f.bounds.push(0);
        let mut ping = |f: &mut Fanout, key: &EntityKey| {
            let i = *index.entry(key.clone()).or_insert_with(|| {
                f.keys.push(key.clone());
                (f.keys.len() - 1) as u32
            });
            f.pings.push(i);
        };
        for m in msgs {
            let input = wire::decode_input(&m.bytes)
                .context("the simulator produced an undecodable event")?;
            let own = match &input {
                Input::Machine { machine, .. } => EntityKey::Machine(machine.clone()),
                Input::Wallet { player, .. } => EntityKey::Wallet(player.clone()),
                Input::Voucher { validation, .. } => EntityKey::Voucher(*validation),
                Input::Desk { desk, .. } => EntityKey::Desk(desk.clone()),
            };
            ping(&mut f, &own);
            direct.apply(input);
            for key in direct.delivered() {
                ping(&mut f, key);
            }
            f.bounds.push(f.pings.len());
        }
        f.hits = pool_hits(&direct.snapshots());
        Ok(f)
    }

    fn events(&self) -> usize {
        self.bounds.len() - 1
    }

    /// Messages by entity kind (indexed by [`EntityKind::index`]).
    fn by_kind(&self) -> [u64; EntityKind::COUNT] {
        let mut n = [0; EntityKind::COUNT];
        for &i in &self.pings {
            n[self.keys[i as usize].kind().index()] += 1;
        }
        n
    }

    /// Sends the empty messages, in event order, `CHUNK` events per in-flight token, and
    /// waits until every actor has handled its own: `all` those of the fan-out floor, else
    /// one per event to its actor (the actix floor).
    async fn ping(&self, rt: &Arc<Runtime>, inflight: &Inflight, all: bool) {
        let n = self.events();
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            let ack = inflight.begin(end - start, |_| {}).await;
            for e in start..end {
                let last = if all {
                    self.bounds[e + 1]
                } else {
                    self.bounds[e] + 1
                };
                for &i in &self.pings[self.bounds[e]..last] {
                    let ack = ack.clone();
                    match &self.keys[i as usize] {
                        EntityKey::Machine(id) => rt.ping::<MachineEntity>(id, ack).await,
                        EntityKey::Wallet(id) => rt.ping::<WalletEntity>(id, ack).await,
                        EntityKey::Pool(id) => rt.ping::<PoolEntity>(id, ack).await,
                        EntityKey::Hall(id) => rt.ping::<HallEntity>(id, ack).await,
                        EntityKey::Voucher(id) => rt.ping::<VoucherEntity>(id, ack).await,
                        EntityKey::Desk(id) => rt.ping::<DeskEntity>(id, ack).await,
                    }
                }
            }
        }
        inflight.drained().await;
    }
}

/// Jackpot hits the pools in `states` have paid.
fn pool_hits(states: &[Snapshot]) -> u64 {
    states
        .iter()
        .filter_map(|s| match s {
            Snapshot::Pool(p) => Some(p.levels.iter().map(|l| l.hits).sum::<u64>()),
            _ => None,
        })
        .sum()
}

pub fn run(events: usize, machines: u32, players: u32) -> anyhow::Result<InprocReport> {
    let mut cfg = Config::load(None).context("loading configuration")?;
    cfg.sim.machines_per_hall = 100;
    cfg.sim.halls = machines.div_ceil(100).max(1);
    cfg.sim.players = players;
    cfg.sim.malformed_per_million = 0;
    let rc = cfg.runtime_config()?;
    let mut sim = Simulator::new(&cfg)?;
    // Event time advances as in a network producing 50,000 events/s.
    let t0 = 1_800_000_000_000i64;
    let msgs: Vec<SimMessage> = (0..events)
        .map(|i| sim.next(t0 + (i as i64) / 50))
        .collect();
    let secret = cfg.runtime.hit_point_secret.clone();
    let fanout = Fanout::trace(Direct::new(rc.clone(), &secret), &msgs)?;
    let fanout_messages = fanout.pings.len() as u64;
    anyhow::ensure!(
        fanout_messages > events as u64,
        "the events caused no message between actors ({fanout_messages} messages for \
         {events} events)"
    );

    // Ceiling: decode and apply in one thread, no actors.
    let mut direct = Direct::new(rc.clone(), &secret);
    let t = Instant::now();
    for m in &msgs {
        let input = wire::decode_input(&m.bytes).expect("decoded above");
        direct.apply(input);
    }
    let raw_secs = t.elapsed().as_secs_f64();

    let sent = sim.sent().clone();
    let arbiters = rc.arbiters;
    let inflight_max = cfg.runtime.inflight_events_max;
    let timed = actix_rt::System::new().block_on(async move {
        let sink = Arc::new(NullSink::default());
        let rt = Runtime::start(
            rc,
            sink,
            Arc::new(MemoryStore::default()),
            Arc::new(KeyedHitPoints::new(&secret)),
            Arc::new(pitboss_actors::shell::SystemClock),
        );
        let inflight = Inflight::new(inflight_max);
        // Warm up: start every actor either floor or the pipeline addresses (not timed).
        fanout.ping(&rt, &inflight, true).await;
        let t = Instant::now();
        fanout.ping(&rt, &inflight, false).await;
        let floor = t.elapsed().as_secs_f64();
        let t = Instant::now();
        fanout.ping(&rt, &inflight, true).await;
        let fanout_floor = t.elapsed().as_secs_f64();

        let ingest = Ingest::new(rt.clone());
        // Only successful completions count: a failed input is counted apart and fails
        // the run after the clock stops.
        let done = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let sent_before = rt.messages_sent();
        // CPU readings right around the timed part: the process's every thread (this one
        // ingests, the arbiters run the actors).
        let cpu0 = harness::cpu_secs(libc::RUSAGE_SELF);
        let t = Instant::now();
        for chunk in msgs.chunks(CHUNK) {
            let (d, f) = (done.clone(), failed.clone());
            let n = chunk.len();
            let ack = inflight
                .begin(n, move |ok| {
                    let c = if ok { d } else { f };
                    c.fetch_add(n as u64, Ordering::Relaxed);
                })
                .await;
            for m in chunk {
                ingest
                    .process(&m.bytes, Some(m.key.as_bytes()), SourcePos::default(), &ack)
                    .await;
            }
        }
        inflight.drained().await;
        let pipeline = t.elapsed().as_secs_f64();
        let pipeline_cpu = harness::cpu_secs(libc::RUSAGE_SELF) - cpu0;
        // Nothing passivates here: the registries' counts cover every message.
        let sent_after = rt.messages_sent();
        let pipeline_by_kind: [u64; EntityKind::COUNT] =
            std::array::from_fn(|k| sent_after[k] - sent_before[k]);
        // What the clock timed must be a success: every input completed without failure
        // and the end state holds exactly the money the simulator sent.
        let (ok, bad) = (done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
        let states = rt.collect().await;
        rt.stop();
        anyhow::ensure!(
            bad == 0 && ok as usize == msgs.len(),
            "the pipeline failed inputs: {ok} of {} completed, {bad} failed",
            msgs.len()
        );
        let states = states.map_err(|e| anyhow::anyhow!("reading the end state: {e}"))?;
        let r = pitboss::recount::recount(&states);
        anyhow::ensure!(
            r.conservation_ok,
            "the pipeline's end state does not balance: {r:#?}"
        );
        anyhow::ensure!(
            sent.matches(&r),
            "the pipeline's end state differs from what the simulator sent: sent {sent:?}, \
             recounted {r:#?}"
        );
        // The fan-out floor sent what the pipeline sent, but for the awards of hits the
        // two runs did not share (each hit: an award to a machine and its GGR to a hall).
        let extra_hits = pool_hits(&states) as i64 - fanout.hits as i64;
        let mut expected = fanout.by_kind();
        for k in [EntityKind::Machine, EntityKind::Hall] {
            expected[k.index()] = expected[k.index()].saturating_add_signed(extra_hits);
        }
        // Nor the cash of redeemed tickets for their desks (RULES.md D-3): a redemption is
        // accepted or not by the voucher depending on whether the machine's print (through
        // the machine's actor) reached it before the desk's request (straight from the
        // input), an order the reference processor fixes and the actors do not (RULES.md V);
        // a few dozen desk messages in 100,000 events. Every other kind must match exactly.
        let desk = EntityKind::Desk.index();
        expected[desk] = pipeline_by_kind[desk];
        anyhow::ensure!(
            pipeline_by_kind == expected,
            "the fan-out floor's messages (by kind: machine, wallet, pool, hall, voucher, desk) \
             {:?} do not match the pipeline's {pipeline_by_kind:?} ({extra_hits} more hits in \
             the pipeline; desks not compared)",
            fanout.by_kind()
        );
        Ok::<_, anyhow::Error>(Timed {
            floor,
            fanout_floor,
            pipeline,
            pipeline_cpu,
            by_kind: pipeline_by_kind,
        })
    })?;
    let eps = |secs: f64| events as f64 / secs;
    Ok(InprocReport {
        events,
        machines,
        players,
        arbiters,
        events_per_sec: eps(timed.pipeline),
        actix_floor_events_per_sec: eps(timed.floor),
        fanout_floor_events_per_sec: eps(timed.fanout_floor),
        raw_events_per_sec: eps(raw_secs),
        ratio: timed.floor / timed.pipeline,
        ratio_to_fanout_floor: timed.fanout_floor / timed.pipeline,
        pipeline_secs: timed.pipeline,
        floor_secs: timed.floor,
        fanout_floor_secs: timed.fanout_floor,
        raw_secs,
        fanout_messages,
        pipeline_messages: timed.by_kind.iter().sum(),
        pipeline_messages_by_kind: MessagesByKind {
            machine: timed.by_kind[EntityKind::Machine.index()],
            wallet: timed.by_kind[EntityKind::Wallet.index()],
            pool: timed.by_kind[EntityKind::Pool.index()],
            hall: timed.by_kind[EntityKind::Hall.index()],
            voucher: timed.by_kind[EntityKind::Voucher.index()],
            desk: timed.by_kind[EntityKind::Desk.index()],
        },
        pipeline_cpu_secs: timed.pipeline_cpu,
        cpu_us_per_event: timed.pipeline_cpu * 1e6 / events.max(1) as f64,
    })
}

/// What the actor runtime's timed parts measured.
struct Timed {
    floor: f64,
    fanout_floor: f64,
    pipeline: f64,
    pipeline_cpu: f64,
    by_kind: [u64; EntityKind::COUNT],
}

/// Messages by the kind of actor they went to.
#[derive(Debug, Serialize)]
struct MessagesByKind {
    machine: u64,
    wallet: u64,
    pool: u64,
    hall: u64,
    voucher: u64,
    desk: u64,
}
