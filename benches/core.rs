//! Criterion benches of the hot path: decode, apply per entity kind, and the whole pipeline
//! (single-threaded reference and actors).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pitboss::config::Config;
use pitboss::direct::Direct;
use pitboss::pipeline::{Inflight, Ingest, SourcePos};
use pitboss::rng::KeyedHitPoints;
use pitboss::sim::{SimMessage, Simulator};
use pitboss::wire;
use pitboss_actors::domain::jackpot::{PoolCommand, PoolMeta, PoolState};
use pitboss_actors::domain::machine::{EventMeta, MachineCommand, MachineEnv, MachineState};
use pitboss_actors::domain::wallet::{
    WalletCommand, WalletMeta, WalletOp, WalletRules, WalletState,
};
use pitboss_actors::domain::{
    Amount, Currency, EventId, HallId, MachineId, PlayerId, ServerId, SourceKey, Timestamp, TxId,
};
use pitboss_actors::shell::{Directory, MemoryStore, NullSink, Runtime};

fn config() -> Config {
    let mut cfg = Config::load_with_env(None, Vec::new()).expect("default config");
    cfg.sim.halls = 100;
    cfg.sim.machines_per_hall = 100;
    cfg.sim.players = 50_000;
    cfg.sim.malformed_per_million = 0;
    cfg
}

fn messages(n: usize) -> Vec<SimMessage> {
    let mut sim = Simulator::new(&config()).expect("simulator");
    (0..n)
        .map(|i| sim.next(1_800_000_000_000 + i as i64 / 50))
        .collect()
}

fn decode(c: &mut Criterion) {
    let msgs = messages(10_000);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("sim_mix_10k", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(wire::decode_input(&m.bytes).expect("valid"));
            }
        })
    });
    g.finish();
}

fn apply(c: &mut Criterion) {
    let cfg = config();
    let rc = cfg.runtime_config().expect("runtime config");
    let eur = Currency::new("EUR").expect("currency");
    let dir = Directory::new(&rc);
    let mut g = c.benchmark_group("apply");
    g.throughput(Throughput::Elements(1));

    let hall = HallId::new("H-001").expect("id");
    let mut machine = MachineState::new(
        MachineId::new("M-1").expect("id"),
        dir.machine_profile(&hall),
    );
    let mut fx = Vec::new();
    let mut seq = 0u64;
    let cash = MachineCommand::CashIn(
        pitboss_actors::domain::machine::CashInKind::Bill,
        Amount::new(1_000_000_000).expect("amount"),
    );
    let bet = MachineCommand::Bet(Amount::new(100).expect("amount"));
    let meta = |seq: u64| EventMeta::new(EventId(seq as u128), seq, Timestamp(1_800_000_000_000));
    let profile_of = |h: &HallId| dir.machine_profile(h);
    let env = MachineEnv {
        skew: rc.skew,
        profile_of: &profile_of,
        hold_of: &|_| rc.theoretical_hold_ppm,
        loyalty_micro_points: rc.loyalty_micro_points,
    };
    g.bench_function("machine_bet", |b| {
        b.iter(|| {
            seq += 1;
            fx.clear();
            if machine.credits < 100 {
                machine
                    .apply(&hall, &meta(seq), &cash, Some(eur), &env, &mut fx)
                    .expect("cash in");
                seq += 1;
            }
            black_box(
                machine
                    .apply(&hall, &meta(seq), &bet, Some(eur), &env, &mut fx)
                    .expect("bet"),
            );
        })
    });

    let mut wallet = WalletState::new(PlayerId::new("P-1").expect("id"), eur, 0, 256);
    let wmeta = WalletMeta {
        event_id: EventId(1),
        time: Timestamp(1_800_000_000_000),
        hall: hall.clone(),
    };
    let mut wfx = Vec::new();
    let rules = WalletRules::default();
    let mut n = 0u64;
    wallet
        .apply(
            &wmeta,
            &WalletCommand {
                provider: ServerId::new("PSP").expect("id"),
                tx: TxId::new("dep").expect("id"),
                op: WalletOp::Deposit(Amount::new(1_000_000_000_000).expect("amount")),
                round: None,
            },
            Some(eur),
            &WalletRules::default(),
            &Vec::new(),
            &mut wfx,
        )
        .expect("deposit");
    g.bench_function("wallet_bet", |b| {
        b.iter_batched(
            || {
                n += 1;
                WalletCommand {
                    provider: ServerId::new("GS").expect("id"),
                    tx: TxId::new(&format!("t{n}")).expect("id"),
                    op: WalletOp::Bet(Amount::new(10).expect("amount")),
                    round: None,
                }
            },
            |cmd| {
                wfx.clear();
                black_box(
                    wallet
                        .apply(&wmeta, &cmd, Some(eur), &rules, &Vec::new(), &mut wfx)
                        .expect("bet"),
                )
            },
            BatchSize::SmallInput,
        )
    });

    // RULES.md W-9: every bet and deposit asks the jurisdiction's calendar which day, week
    // and month it falls in. A bet in the day of the one before is answered from the
    // per-thread cache; one on another day each time converts time zones (both checked
    // against each other before they are timed).
    let vienna = pitboss::calendar::ZoneCalendar::new("Europe/Vienna").expect("a zone");
    let day = 86_400_000i64;
    let t0 = 1_800_000_000_000i64;
    {
        use pitboss_actors::domain::limits::Calendar;
        let same = vienna.periods(Timestamp(t0 + 1));
        let other = pitboss::calendar::ZoneCalendar::new("Europe/Vienna").expect("a zone");
        assert_eq!(same, other.periods(Timestamp(t0 + 1)));
        let mut k = 0i64;
        g.bench_function("calendar_vienna_same_day", |b| {
            b.iter(|| {
                k = (k + 1) % 1_000;
                black_box(vienna.periods(Timestamp(t0 + k)))
            })
        });
        let mut d = 0i64;
        g.bench_function("calendar_vienna_another_day", |b| {
            b.iter(|| {
                d = (d + 1) % 1_000;
                black_box(vienna.periods(Timestamp(t0 + d * day)))
            })
        });
    }

    let spec = rc.pools[0].clone();
    let mut hp = KeyedHitPoints::new("bench");
    let mut pool = PoolState::new(spec.id.clone(), spec.config.clone(), &mut hp).expect("pool");
    let mut hits = Vec::new();
    let mid = MachineId::new("M-1").expect("id");
    let source = SourceKey::Machine(mid.clone());
    let mut pseq = 0u64;
    let cmd = PoolCommand::Contribute {
        machine: mid,
        bet: Amount::new(100).expect("amount"),
        eligible: true,
    };
    g.bench_function("pool_contribute_4_levels", |b| {
        b.iter(|| {
            pseq += 1;
            hits.clear();
            let meta = PoolMeta {
                source: source.clone(),
                seq: pseq,
                cause: EventId(pseq as u128),
            };
            black_box(
                pool.apply(&meta, &cmd, &mut hp, &mut hits)
                    .expect("contribute"),
            )
        })
    });
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let cfg = config();
    let msgs = messages(100_000);
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.sample_size(10);
    g.bench_function("direct_decode_apply_100k", |b| {
        b.iter_batched(
            || Direct::new(cfg.runtime_config().expect("config"), "bench"),
            |mut d| {
                for m in &msgs {
                    d.apply(wire::decode_input(&m.bytes).expect("valid"));
                }
                d
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("actors_decode_route_apply_100k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let rc = cfg.runtime_config().expect("config");
                let msgs = &msgs;
                total += actix_rt::System::new().block_on(async move {
                    let rt = Runtime::start(
                        rc,
                        Arc::new(NullSink::default()),
                        Arc::new(MemoryStore::default()),
                        Arc::new(KeyedHitPoints::new("bench")),
                        Arc::new(pitboss_actors::shell::SystemClock),
                    );
                    let ingest = Ingest::new(rt.clone());
                    let inflight = Inflight::new(65_536);
                    let t = Instant::now();
                    for chunk in msgs.chunks(256) {
                        let ack = inflight.begin(chunk.len(), |_| {}).await;
                        for m in chunk {
                            ingest
                                .process(&m.bytes, None, SourcePos::default(), &ack)
                                .await;
                        }
                    }
                    inflight.drained().await;
                    let e = t.elapsed();
                    rt.stop();
                    e
                });
            }
            total
        })
    });
    g.finish();
}

/// What a checkpoint encodes: every entity's record after 100,000 simulated events (the
/// reference processor's states), and ledger pages of 17 entries (a checkpoint under load
/// writes about 130,000 entries in 7,500 pages: BENCHMARKS.md).
fn store_codec(c: &mut Criterion) {
    use pitboss::store::codec;
    use pitboss_actors::shell::{LedgerEntry, Movement};
    let cfg = config();
    let mut d = Direct::new(cfg.runtime_config().expect("config"), "bench");
    for m in messages(100_000) {
        d.apply(wire::decode_input(&m.bytes).expect("valid"));
    }
    let states = d.snapshots();
    // Every record reads back as the state it was made from.
    for s in &states {
        let bytes = codec::encode_record(s, 7).expect("encodes");
        let (read, movements) = codec::decode_record(&bytes).expect("decodes");
        assert_eq!((&read, movements), (s, 7), "a record reads back");
    }
    let mut g = c.benchmark_group("store_codec");
    g.throughput(Throughput::Elements(states.len() as u64));
    g.sample_size(20);
    g.bench_function("encode_records", |b| {
        b.iter(|| {
            let mut bytes = 0usize;
            for s in &states {
                bytes += codec::encode_record(s, 7).expect("encodes").len();
            }
            black_box(bytes)
        })
    });
    let kinds = [
        Movement::Bet,
        Movement::Win,
        Movement::Games,
        Movement::Contribution,
    ];
    let pages: Vec<Vec<LedgerEntry>> = (0..1_000u64)
        .map(|p| {
            (0..17u64)
                .map(|i| LedgerEntry {
                    n: p * 100 + i,
                    kind: kinds[(i % 4) as usize],
                    level: 0,
                    amount: 100 + i as i64,
                    balance: 10_000 - i as i64 * 100,
                    cause: EventId(((p as u128) << 70) | (i as u128 * 0x1234_5678_9abc)),
                    causes: 1,
                    time: Timestamp(1_800_000_000_000 + i as i64),
                })
                .collect()
        })
        .collect();
    for p in &pages {
        let read = codec::decode_entries(&codec::encode_entries(p).expect("encodes"));
        assert_eq!(&read.expect("decodes"), p, "a page reads back");
    }
    g.throughput(Throughput::Elements(pages.len() as u64 * 17));
    g.bench_function("encode_ledger_pages", |b| {
        b.iter(|| {
            let mut bytes = 0usize;
            for p in &pages {
                bytes += codec::encode_entries(p).expect("encodes").len();
            }
            black_box(bytes)
        })
    });
    g.finish();
}

criterion_group!(benches, decode, apply, pipeline, store_codec);
criterion_main!(benches);
