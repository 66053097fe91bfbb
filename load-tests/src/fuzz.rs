//! `pitboss-load fuzz`: random and mutated messages through the whole in-process path (the
//! decoder, the validation, the actors, the store), not only the decoder.
//!
//! A seeded stream mixes the simulator's valid messages (so the entities have state to
//! damage) with damaged ones: random bytes, valid messages truncated, bytes flipped or
//! inserted, JSON instead of MessagePack, a valid message with one field replaced by a
//! hostile value (nil, a bool, the extreme integers, a float, an empty or 5 KB or non-ASCII
//! string, binary, an array, a map), a field removed, an unknown field added, the whole
//! message beyond the size limit. Each goes through `Ingest::process`, as in `pitboss run`.
//!
//! What must hold (any failure is a non-zero exit): no panic anywhere (a hook counts them,
//! actor threads included); every message is either routed or rejected, and every rejection
//! is on the sink with a non-empty reason and one of the stable codes; every routed input
//! completes without failure (no hang either: the drain has a deadline); the end state
//! balances (the independent recount) and the ledger agrees with the states (the audit over
//! the checkpointed store).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pitboss::config::Config;
use pitboss::pipeline::{Inflight, Ingest, SourcePos};
use pitboss::rng::KeyedHitPoints;
use pitboss::sim::Simulator;
use pitboss::store::audit::{audit, MemoryAudit};
use pitboss::wire::REASON_CODES;
use pitboss_actors::shell::{AckToken, EventSink, MemoryStore, Output, Runtime};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rmpv::Value;
use serde::Serialize;

/// Messages per in-flight token.
const CHUNK: usize = 256;

/// How long the drain may take once every message is sent.
const DRAIN_DEADLINE: Duration = Duration::from_secs(300);

/// Panics seen by the hook (every thread).
static PANICS: AtomicU64 = AtomicU64::new(0);

/// The options of a run.
pub struct FuzzOptions {
    pub cases: u64,
    pub seed: u64,
    /// Percent of the cases that are the simulator's valid messages.
    pub valid_percent: u8,
}

/// What a run found.
#[derive(Debug, Serialize)]
pub struct FuzzReport {
    pub cases: u64,
    pub seed: u64,
    /// Valid simulator messages sent as they are.
    pub valid: u64,
    /// Damaged messages, by how they were damaged.
    pub damaged: u64,
    pub damaged_by_kind: BTreeMap<&'static str, u64>,
    /// Messages decoded and routed to an entity (valid ones, and damaged ones that still
    /// decode to a valid event).
    pub routed: u64,
    /// Messages rejected, by reason code.
    pub rejected: u64,
    pub rejected_by_code: BTreeMap<&'static str, u64>,
    /// Rejections without a reason or with a code outside the stable set.
    pub rejections_without_reason: u64,
    /// Outputs other than rejections (answers, refusals, alerts, GGR, ...).
    pub other_outputs: u64,
    pub panics: u64,
    /// Routed inputs whose processing failed.
    pub failed_inputs: u64,
    /// The drain did not finish within its deadline.
    pub hung: bool,
    /// The recount of the end state balances.
    pub conservation_ok: bool,
    /// The audit of the checkpointed store found no difference.
    pub audit_ok: bool,
    pub audit_differences: Vec<String>,
    pub secs: f64,
    pub cases_per_sec: f64,
    /// Everything above holds.
    pub ok: bool,
}

/// Counts the outputs; checks each rejection carries its reason and a stable code.
#[derive(Default)]
struct FuzzSink {
    by_code: Mutex<BTreeMap<&'static str, u64>>,
    without_reason: AtomicU64,
    other: AtomicU64,
}

impl EventSink for FuzzSink {
    fn emit(&self, output: Output, _ack: &AckToken) {
        match output {
            Output::Rejected { reason, code, .. } => {
                if reason.trim().is_empty() || !REASON_CODES.contains(&code) {
                    self.without_reason.fetch_add(1, Ordering::Relaxed);
                } else {
                    *self
                        .by_code
                        .lock()
                        .expect("sink lock")
                        .entry(code)
                        .or_default() += 1;
                }
            }
            _ => {
                self.other.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Runs the fuzz.
pub fn run(o: FuzzOptions) -> anyhow::Result<FuzzReport> {
    let mut cfg = Config::load_with_env(None, Vec::new())?;
    cfg.sim.seed = o.seed;
    cfg.sim.halls = 10;
    cfg.sim.machines_per_hall = 100;
    cfg.sim.players = 2_000;
    // The damage is this command's; the simulator sends only valid messages.
    cfg.sim.malformed_per_million = 0;
    let rc = cfg.runtime_config()?;
    let secret = cfg.runtime.hit_point_secret.clone();
    let mut sim = Simulator::new(&cfg)?;
    let mut rng = SmallRng::seed_from_u64(o.seed ^ 0xf022_f022);

    // Generated before the clock starts: the stream, then its damage.
    let mut msgs: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(o.cases as usize);
    let mut damaged_by_kind: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut valid = 0u64;
    let mut t_ms = pitboss::clock::now_ms();
    for _ in 0..o.cases {
        t_ms += 1;
        let m = sim.next(t_ms);
        if rng.gen_range(0..100u8) < o.valid_percent {
            valid += 1;
            msgs.push((m.bytes, m.key.into_bytes()));
            continue;
        }
        let (kind, bytes) = damage_keeping_id(&mut rng, &m.bytes);
        *damaged_by_kind.entry(kind).or_default() += 1;
        msgs.push((bytes, m.key.into_bytes()));
    }

    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::Relaxed);
        prev(info);
    }));

    let sink = Arc::new(FuzzSink::default());
    let store = Arc::new(MemoryStore::with_ledger());
    let inflight_max = cfg.runtime.inflight_events_max;
    let run_sink = sink.clone();
    let run_store = store.clone();
    let t = Instant::now();
    let outcome = actix_rt::System::new().block_on(async move {
        let rt = Runtime::start(
            rc,
            run_sink,
            run_store.clone(),
            Arc::new(KeyedHitPoints::new(&secret)),
            Arc::new(pitboss_actors::shell::SystemClock),
        );
        let ingest = Ingest::new(rt.clone());
        let inflight = Inflight::new(inflight_max);
        let failed = Arc::new(AtomicU64::new(0));
        for (i, chunk) in msgs.chunks(CHUNK).enumerate() {
            let f = failed.clone();
            let n = chunk.len();
            let ack = inflight
                .begin(n, move |ok| {
                    if !ok {
                        f.fetch_add(n as u64, Ordering::Relaxed);
                    }
                })
                .await;
            for (j, (bytes, key)) in chunk.iter().enumerate() {
                let pos = SourcePos {
                    partition: 0,
                    offset: (i * CHUNK + j) as i64,
                };
                ingest.process(bytes, Some(key), pos, &ack).await;
            }
        }
        let hung = tokio::time::timeout(DRAIN_DEADLINE, inflight.drained())
            .await
            .is_err();
        let routed = ingest.stats.routed.load(Ordering::Relaxed);
        let rejected = ingest.stats.rejected.load(Ordering::Relaxed);
        if hung {
            rt.stop();
            return Ok::<_, anyhow::Error>((
                routed,
                rejected,
                0,
                true,
                false,
                vec!["not audited: the drain hung".to_string()],
            ));
        }
        let states = rt
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the end state: {e}"))?;
        let conservation_ok = pitboss::recount::recount(&states).conservation_ok;
        pitboss::store::checkpoint(&rt)
            .await
            .map_err(|e| anyhow::anyhow!("the checkpoint: {e}"))?;
        rt.stop();
        let report = audit(&MemoryAudit(run_store))
            .await
            .map_err(|e| anyhow::anyhow!("the audit: {e}"))?;
        Ok((
            routed,
            rejected,
            failed.load(Ordering::Relaxed),
            false,
            conservation_ok,
            report.differences,
        ))
    });
    let secs = t.elapsed().as_secs_f64();
    let (routed, rejected, failed_inputs, hung, conservation_ok, differences) = outcome?;
    drop(store);
    let rejected_by_code = sink.by_code.lock().expect("sink lock").clone();
    let rejections_without_reason = sink.without_reason.load(Ordering::Relaxed);
    let panics = PANICS.load(Ordering::Relaxed);
    let audit_ok = differences.is_empty();
    let ok = panics == 0
        && !hung
        && failed_inputs == 0
        && rejections_without_reason == 0
        && routed + rejected == o.cases
        && rejected_by_code.values().sum::<u64>() == rejected
        && conservation_ok
        && audit_ok;
    Ok(FuzzReport {
        cases: o.cases,
        seed: o.seed,
        valid,
        damaged: o.cases - valid,
        damaged_by_kind,
        routed,
        rejected,
        rejected_by_code,
        rejections_without_reason,
        other_outputs: sink.other.load(Ordering::Relaxed),
        panics,
        failed_inputs,
        hung,
        conservation_ok,
        audit_ok,
        audit_differences: differences.into_iter().take(20).collect(),
        secs,
        cases_per_sec: o.cases as f64 / secs.max(1e-9),
        ok,
    })
}

/// The `event_id` text of a MessagePack message, if it has one.
fn event_id_of(bytes: &[u8]) -> Option<String> {
    let Ok(Value::Map(m)) = rmpv::decode::read_value(&mut &bytes[..]) else {
        return None;
    };
    m.iter().find_map(|(k, v)| {
        (k.as_str() == Some("event_id")).then(|| v.as_str().map(str::to_owned))?
    })
}

/// [`damage`], drawn again while it turns the message's event id into another valid one:
/// the simulator's ids are close to each other, so a flipped bit can make one event carry
/// another's id, and two different events under one id is a producer's error the audit
/// reports by design (its check that no input moved money twice), not a fault of the path.
fn damage_keeping_id(rng: &mut SmallRng, valid: &[u8]) -> (&'static str, Vec<u8>) {
    let id = event_id_of(valid);
    loop {
        let (kind, bytes) = damage(rng, valid);
        match event_id_of(&bytes) {
            Some(other) if Some(&other) != id.as_ref() && uuid::Uuid::parse_str(&other).is_ok() => {
                continue
            }
            _ => return (kind, bytes),
        }
    }
}

/// Damages a valid message; returns how, and the bytes.
fn damage(rng: &mut SmallRng, valid: &[u8]) -> (&'static str, Vec<u8>) {
    match rng.gen_range(0..100u32) {
        0..=9 => {
            let n = rng.gen_range(0..300);
            ("random_bytes", (0..n).map(|_| rng.gen()).collect())
        }
        10..=19 => {
            let cut = rng.gen_range(0..valid.len().max(1));
            ("truncated", valid[..cut].to_vec())
        }
        20..=29 => {
            let mut b = valid.to_vec();
            for _ in 0..rng.gen_range(1..=4) {
                let i = rng.gen_range(0..b.len().max(1));
                if let Some(x) = b.get_mut(i) {
                    *x ^= 1 << rng.gen_range(0..8);
                }
            }
            ("bits_flipped", b)
        }
        30..=34 => {
            let mut b = valid.to_vec();
            let at = rng.gen_range(0..=b.len());
            let extra: Vec<u8> = (0..rng.gen_range(1..16)).map(|_| rng.gen()).collect();
            b.splice(at..at, extra);
            ("bytes_inserted", b)
        }
        35..=36 => {
            let v = rmpv::decode::read_value(&mut &valid[..]).unwrap_or(Value::Nil);
            ("json_instead", to_json(&v).into_bytes())
        }
        37 if rng.gen_range(0..100) == 0 => {
            // Rare: 64 KB per case.
            let mut v = rmpv::decode::read_value(&mut &valid[..]).unwrap_or(Value::Nil);
            if let Value::Map(m) = &mut v {
                let pad = "x".repeat(pitboss::wire::MESSAGE_BYTES_MAX + 1);
                m.push((Value::from("pad"), Value::from(pad)));
            }
            ("oversize", encode(&v))
        }
        38 => {
            // A field nested deeper than the decoder allows.
            let Ok(mut v) = rmpv::decode::read_value(&mut &valid[..]) else {
                return ("random_bytes", Vec::new());
            };
            let mut deep = Value::from(1);
            for _ in 0..rng.gen_range(pitboss::wire::NESTING_DEPTH_MAX..200) {
                deep = Value::Array(vec![deep]);
            }
            if let Value::Map(m) = &mut v {
                m.push((Value::from("deep"), deep));
            }
            ("deeply_nested", encode(&v))
        }
        _ => {
            let Ok(mut v) = rmpv::decode::read_value(&mut &valid[..]) else {
                return ("random_bytes", Vec::new());
            };
            let kind = mutate_field(rng, &mut v);
            (kind, encode(&v))
        }
    }
}

fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).expect("writing to a Vec");
    out
}

/// A rough JSON rendering of a MessagePack value (the wrong encoding on purpose).
fn to_json(v: &Value) -> String {
    match v {
        Value::Map(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", to_json(k), to_json(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(to_json).collect::<Vec<_>>().join(",")),
        Value::String(s) => format!("{:?}", s.as_str().unwrap_or("")),
        Value::Nil => "null".into(),
        other => other.to_string(),
    }
}

/// Every path to a value inside maps and arrays (indices of entries), the root excluded.
fn paths(v: &Value, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    let children: Vec<&Value> = match v {
        Value::Map(m) => m.iter().map(|(_, v)| v).collect(),
        Value::Array(a) => a.iter().collect(),
        _ => return,
    };
    for (i, c) in children.into_iter().enumerate() {
        prefix.push(i);
        out.push(prefix.clone());
        paths(c, prefix, out);
        prefix.pop();
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[usize]) -> Option<&'a mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(v);
    };
    let child = match v {
        Value::Map(m) => &mut m.get_mut(*first)?.1,
        Value::Array(a) => a.get_mut(*first)?,
        _ => return None,
    };
    at_mut(child, rest)
}

/// A hostile value for a field.
fn hostile(rng: &mut SmallRng) -> Value {
    match rng.gen_range(0..16) {
        0 => Value::Nil,
        1 => Value::Boolean(true),
        2 => Value::from(i64::MIN),
        3 => Value::from(i64::MAX),
        4 => Value::from(u64::MAX),
        5 => Value::from(-1),
        6 => Value::from(0),
        7 => Value::from(""),
        8 => Value::from("x".repeat(rng.gen_range(65..5_000))),
        9 => Value::from("\u{1F4B0} \u{fc}n\u{ef}c\u{f6}d\u{e9}\u{0}"),
        10 => Value::Binary((0..rng.gen_range(0..40)).map(|_| rng.gen()).collect()),
        11 => Value::F64(f64::NAN),
        12 => Value::F64(12.5),
        13 => Value::Array(vec![Value::from(1), Value::from("a")]),
        14 => Value::Map(Vec::new()),
        _ => Value::from(rng.gen_range(-1_000_000_000_000i64..1_000_000_000_000)),
    }
}

/// Replaces, removes or adds one field somewhere in the message.
fn mutate_field(rng: &mut SmallRng, v: &mut Value) -> &'static str {
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    if all.is_empty() {
        *v = hostile(rng);
        return "field_replaced";
    }
    let path = all.swap_remove(rng.gen_range(0..all.len()));
    match rng.gen_range(0..10) {
        0..=5 => {
            if let Some(x) = at_mut(v, &path) {
                *x = hostile(rng);
            }
            "field_replaced"
        }
        6..=7 => {
            let (last, parent) = path.split_last().expect("not the root");
            match at_mut(v, parent) {
                Some(Value::Map(m)) if *last < m.len() => {
                    m.remove(*last);
                }
                Some(Value::Array(a)) if *last < a.len() => {
                    a.remove(*last);
                }
                _ => {}
            }
            "field_removed"
        }
        _ => {
            let (_, parent) = path.split_last().expect("not the root");
            if let Some(Value::Map(m)) = at_mut(v, parent) {
                let key = if rng.gen_bool(0.5) {
                    // A duplicate of an existing key, with a hostile value.
                    m.first().map_or(Value::from("extra"), |(k, _)| k.clone())
                } else {
                    Value::from("unknown_field")
                };
                m.push((key, hostile(rng)));
            }
            "field_added"
        }
    }
}
