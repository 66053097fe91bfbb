//! The crash test: `pitboss run` (the real binary, a child process) with the embedded store
//! against a real broker (Tansu), killed with SIGKILL at random moments — at least five
//! times — while a scenario streams into the input topic, and started again each time.
//! At the end every hall, wallet, machine and pool total equals the reference processor's
//! exactly (no loss, no double count), the output topics hold what they must, and
//! `pitboss audit` finds no difference between the money ledger and the stored state.

use crate::support;

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pitboss::direct::Direct;
use pitboss::recount::recount;
use pitboss::sim::Simulator;
use pitboss::wire;
use pitboss_actors::shell::{Snapshot, StateStore};
use rand::{Rng, SeedableRng};
use support::{Broker, T0};

const EVENTS: usize = 24_000;
const KILLS: usize = 6;
/// The transfers' crash test's stream: the simulator makes a few dozen transfers in it
/// (checked), a transfer being a rare move of a carded player.
const TRANSFER_EVENTS: usize = 30_000;

#[actix_rt::test]
async fn pitboss_run_killed_repeatedly_ends_exact_and_audits_clean() {
    let _serial = support::serial();
    let broker = Broker::start();
    let crash = Crash::new(&broker, "crash", |_| ());
    let cfg = &crash.cfg;
    let mut sim = Simulator::new(cfg).unwrap();
    let msgs: Vec<_> = (0..EVENTS as i64).map(|i| sim.next(T0 + i * 20)).collect();
    let keyed = support::keyed(&msgs);
    crash.kill_repeatedly(&keyed, 60, KILLS).await;
    crash.run_to_end().await;
    let (bin, config) = (crash.bin, crash.config.as_path());

    // The stored state against the reference processor: exact.
    let states = crash.states().await;
    let r = recount(&states);
    assert!(r.conservation_ok, "money does not balance: {r:#?}");
    assert!(
        sim.sent().matches(&r),
        "totals differ from what was sent: sent {:?}, stored {r:#?}",
        sim.sent()
    );
    let mut reference = Direct::new(cfg.runtime_config().unwrap(), &cfg.runtime.hit_point_secret);
    for m in &msgs {
        if let Ok(input) = wire::decode_input(&m.bytes) {
            reference.apply(input);
        }
    }
    let expected = reference.snapshots();
    compare(&states, &expected);

    // What reached the output topics.
    let e = support::expected(cfg, &keyed).await;
    let outputs = crash.outputs().await;
    outputs.check(&e);

    // The stored state and the published hits against the independent model of RULES.md.
    let inputs = msgs.iter().map(|m| (m.bytes.as_slice(), None));
    let r = support::compare_with_model(cfg, inputs, &states, &outputs);
    assert!(
        r.differences.is_empty(),
        "the stored state differs from the model: {:#?}",
        &r.differences[..r.differences.len().min(10)]
    );

    // The ledger agrees with the state, entity by entity.
    support::assert_audit_clean(bin, config);
}

/// Cashless transfers (RULES.md W-10) across SIGKILLs: a wallet applies its commands and
/// its machines' transfers in the order the internal transfers topic fixed, so a replay
/// after a kill applies them as the first run did and publishes every answer, alert and
/// refusal again with the content it had (one content per output id, checked by
/// `Outputs::new`); the books balance (what the machines took is what the wallets paid plus
/// what nothing paid, `unbacked`; what they gave is what the wallets received) and the
/// ledger agrees with the state. The order differs from the input's (a consumer interleaves
/// its partitions), so the wallets are not compared with an in-order run here.
#[actix_rt::test]
async fn transfers_killed_repeatedly_keep_one_content_per_id_and_balance() {
    let _serial = support::serial();
    let broker = Broker::start();
    let crash = Crash::new(&broker, "crash-transfers", |cfg| {
        cfg.sim.cashless_transfers = true;
    });
    let cfg = &crash.cfg;
    let mut sim = Simulator::new(cfg).unwrap();
    let msgs: Vec<_> = (0..TRANSFER_EVENTS as i64)
        .map(|i| sim.next(T0 + i * 20))
        .collect();
    let sent = sim.sent();
    assert!(
        sent.cashless_transfers >= 20
            && sent.transfers_to_machines > 0
            && sent.transfers_from_machines > 0,
        "the stream makes too few transfers to test: {sent:?}"
    );
    let keyed = support::keyed(&msgs);
    crash.kill_repeatedly(&keyed, 30, 3).await;
    crash.run_to_end().await;

    let states = crash.states().await;
    let r = recount(&states);
    assert!(r.conservation_ok, "money does not balance: {r:#?}");
    assert!(
        sent.matches(&r),
        "totals differ from what was sent: sent {sent:?}, stored {r:#?}"
    );
    let outputs = crash.outputs().await;
    // Every wallet command of the stream (transfer requests among them) was answered, once
    // per id.
    let commands: std::collections::BTreeSet<(String, String)> = msgs
        .iter()
        .filter_map(|m| match wire::decode_input(&m.bytes) {
            Ok(pitboss_actors::shell::Input::Wallet { cmd, .. }) => {
                Some((cmd.provider.to_string(), cmd.tx.to_string()))
            }
            _ => None,
        })
        .collect();
    let answered: std::collections::BTreeSet<(String, String)> = outputs
        .recs
        .iter()
        .filter_map(|r| match wire::decode_output(&r.payload) {
            Ok(wire::OutputEvent::Wallet(w)) => {
                Some((w.payload.provider.to_string(), w.payload.tx.to_string()))
            }
            _ => None,
        })
        .collect();
    let unanswered: Vec<_> = commands.difference(&answered).collect();
    assert!(
        unanswered.is_empty() && !commands.is_empty(),
        "{} of {} wallet commands unanswered: {:?}",
        unanswered.len(),
        commands.len(),
        &unanswered[..unanswered.len().min(10)]
    );
    support::assert_audit_clean(crash.bin, &crash.config);
}

/// A wallet's commands and its machines' transfers across SIGKILLs, the sharp case: one
/// player deposits while a machine sends credits to the player's wallet, alternately, so
/// every deposit's answer reports a balance that depends on how many of the machine's
/// transfers the wallet applied before it (RULES.md W-10). The deposits come from the
/// player's input partition, the transfers from the machine's; a replay after a kill reads
/// both again, and unless the wallet applies them in one fixed order (both through its
/// partition of the internal transfers topic) it answers a replayed deposit with another
/// balance under the same id. Every answer id keeps one content (`Outputs::new`), every
/// deposit is answered, and the last balance is the whole sum.
#[actix_rt::test]
async fn a_wallets_answers_replayed_after_kills_keep_their_balances() {
    use pitboss::wire::{InputEnvelope, InputPayload};
    const PAIRS: u64 = 3_000;
    const PLAYER: &str = "P-ORDER-1";
    let _serial = support::serial();
    let broker = Broker::start();
    // Checkpoints far apart: a kill leaves seconds of work to replay, read as a backlog in
    // another interleaving of the two partitions than the live run read it.
    let crash = Crash::new(&broker, "crash-order", |cfg| {
        cfg.kafka.commit_interval_ms = 4_000
    });
    let cfg = &crash.cfg;
    let cur = cfg.network.currency.clone();
    let now = pitboss::clock::now_ms();
    let id = |n: u64| uuid::Uuid::from_u128(0x0de0_0000_0000 + u128::from(n));
    let mut keyed = Vec::new();
    for i in 1..=PAIRS {
        let env = InputEnvelope::machine(
            id(2 * i),
            "H-001",
            "M-ORDER-1",
            i,
            now + i as i64,
            InputPayload::CashlessTransfer {
                transfer: format!("XO-{i}"),
                player: PLAYER.into(),
                direction: "from_machine".into(),
                amount: 100,
                currency: cur.clone(),
                credit_type: None,
            },
        );
        keyed.push((env.kafka_key().to_owned(), env.to_bytes()));
        let env = InputEnvelope::wallet(
            id(2 * i + 1),
            "H-001",
            "PSP-1",
            i,
            now + i as i64,
            InputPayload::Deposit {
                player: PLAYER.into(),
                tx: format!("DO-{i}"),
                amount: 1,
                currency: cur.clone(),
                round: None,
            },
        );
        keyed.push((env.kafka_key().to_owned(), env.to_bytes()));
    }
    crash.kill_repeatedly(&keyed, 20, 3).await;
    crash.run_to_end().await;

    let outputs = crash.outputs().await;
    let answered = outputs.ids("wallet").len() as u64;
    assert_eq!(answered, PAIRS, "every deposit answered once per id");
    let states = crash.states().await;
    let wallet = states
        .iter()
        .find_map(|s| match s {
            Snapshot::Wallet(w) if w.id.as_str() == PLAYER => Some(w),
            _ => None,
        })
        .expect("the player's wallet is stored");
    assert_eq!(
        wallet.balance,
        (PAIRS * 101) as i64,
        "every deposit and every transfer, once"
    );
    let r = recount(&states);
    assert!(r.conservation_ok, "money does not balance: {r:#?}");
    support::assert_audit_clean(crash.bin, &crash.config);
}

/// A crash test's set-up: a configuration with the embedded store in a temporary
/// directory, written for the real binary, and its topics.
struct Crash {
    cfg: pitboss::config::Config,
    config: std::path::PathBuf,
    log: std::path::PathBuf,
    bin: &'static str,
    _data: tempfile::TempDir,
}

impl Crash {
    fn new(broker: &Broker, tag: &str, adjust: impl FnOnce(&mut pitboss::config::Config)) -> Self {
        let mut cfg = support::config(broker, tag);
        adjust(&mut cfg);
        let data = tempfile::tempdir().unwrap();
        cfg.store.data_dir = data.path().join("state");
        cfg.store.kind = pitboss::store::StoreKind::Embedded;
        // The HTTP side is not under test: a free port each start.
        cfg.http.addr = "127.0.0.1:0".into();
        cfg.http.audit_log = data.path().join("audit.jsonl").display().to_string();
        let config = data.path().join("pitboss.toml");
        std::fs::write(&config, cfg.to_toml()).unwrap();
        let log = data.path().join("pitboss.log");
        let bin = env!("CARGO_BIN_EXE_pitboss");
        support::topics_create_cli(bin, &config);
        Self {
            cfg,
            config,
            log,
            bin,
            _data: data,
        }
    }

    /// Streams `keyed` into the input topic in `parts` parts, one a second, while
    /// `pitboss run` is started and SIGKILLed `kills` times at random moments of its work
    /// (mid-batch, mid-checkpoint, mid-commit), each after it has committed something.
    async fn kill_repeatedly(&self, keyed: &[(String, Vec<u8>)], parts: usize, kills: usize) {
        let (cfg, bin, config, log) = (&self.cfg, self.bin, &self.config, &self.log);
        let (producer, produced) = support::produce_paced(cfg, keyed, parts);
        let seed: u64 = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(rand::random);
        eprintln!("crash test seed {seed} (CRASH_SEED={seed} repeats these kill moments)");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut committed = 0;
        for kill in 0..kills {
            let mut child = support::ChildGuard(support::start_run(bin, config, log));
            // Wait until this run has committed something (so it is assigned and
            // processing; a new member first waits for the killed one's session to expire),
            // then kill it at a random moment of its work.
            let started = Instant::now();
            let c2 = cfg.clone();
            let before = committed;
            let progressed = tokio::task::spawn_blocking(move || {
                let deadline = Instant::now() + Duration::from_secs(90);
                loop {
                    let now = support::committed_input(&c2);
                    if now > before {
                        return now;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "run {} made no progress",
                        kill + 1
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
            .await
            .unwrap();
            let after = Duration::from_millis(rng.gen_range(0..1_500));
            tokio::time::sleep(after).await;
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "pitboss run exited by itself ({status}) before kill {kill}; log:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            // A commit sent just before the kill may still land: take the committed offset
            // once it has stopped moving, so the next run's progress is its own.
            let c2 = cfg.clone();
            committed = tokio::task::spawn_blocking(move || {
                let (mut last, mut same) = (support::committed_input(&c2), 0);
                let deadline = Instant::now() + Duration::from_secs(20);
                while same < 10 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(100));
                    let now = support::committed_input(&c2);
                    if now == last {
                        same += 1;
                    } else {
                        (last, same) = (now, 0);
                    }
                }
                last
            })
            .await
            .unwrap();
            eprintln!(
                "kill {}: {:?} after start, {after:?} after offset {progressed} was committed",
                kill + 1,
                started.elapsed()
            );
        }
        producer.join().unwrap();
        assert!(produced.load(Ordering::SeqCst));
        // The killed runs made durable progress: the last one's successor resumes from a
        // stored checkpoint, not from the start.
        let store = pitboss::store::open_embedded(&cfg.store).unwrap();
        let positions = store.positions().await.unwrap();
        let resumed: i64 = positions
            .iter()
            .filter(|p| p.topic == cfg.kafka.topics.input)
            .map(|p| p.next_offset)
            .sum();
        eprintln!(
            "stored before the last run: {} entities, input position {resumed} of {}",
            store.all().await.unwrap().len(),
            keyed.len()
        );
        assert!(
            resumed > 0,
            "no checkpoint survived the kills: {positions:?}"
        );
    }

    /// The last run: until everything is processed and committed, then SIGTERM, which must
    /// stop it cleanly.
    async fn run_to_end(&self) {
        let mut child = support::ChildGuard(support::start_run(self.bin, &self.config, &self.log));
        let c2 = self.cfg.clone();
        tokio::task::spawn_blocking(move || {
            support::wait_committed_to_end(&c2, Duration::from_secs(240))
        })
        .await
        .unwrap();
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "pitboss run did not stop cleanly on SIGTERM: {status}; log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// Every record of the output topics, decoded and checked (`Outputs::new`: one content
    /// per output id).
    async fn outputs(&self) -> support::Outputs {
        let (b, t) = (
            self.cfg.kafka.brokers.clone(),
            support::output_topics(&self.cfg),
        );
        let recs = tokio::task::spawn_blocking(move || support::read_all(&b, &t))
            .await
            .unwrap();
        support::Outputs::new(recs)
    }

    /// Every entity the store holds.
    async fn states(&self) -> Vec<Snapshot> {
        let store = pitboss::store::open_embedded(&self.cfg.store).unwrap();
        store.all().await.unwrap()
    }
}

/// Every entity's totals against the reference. Which machine's bet reaches a mystery hit
/// point first depends on timing, so pool hits and the awards they pay are compared as
/// totals (the recount checks pools and machines agree): so are what follows from them, the
/// machines' effect numbers (awards take one), the jackpots booked in hall windows and the
/// numbers pools last saw from each machine; everything else exactly.
fn compare(states: &[Snapshot], expected: &[Snapshot]) {
    use std::collections::BTreeMap;
    let key = |s: &Snapshot| format!("{:?}", s.key());
    let got: BTreeMap<String, &Snapshot> = states.iter().map(|s| (key(s), s)).collect();
    let want: BTreeMap<String, &Snapshot> = expected.iter().map(|s| (key(s), s)).collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the same entities"
    );
    for (k, w) in &want {
        let g = got[k];
        match (g, w) {
            (Snapshot::Machine(g), Snapshot::Machine(w)) => {
                let strip = |m: &pitboss_actors::domain::machine::MachineState| {
                    let mut m = m.clone();
                    m.meters.jackpot_paid = 0;
                    m.awards.clear();
                    m.effect_seq = 0;
                    m.award_seq = 0;
                    m
                };
                assert_eq!(strip(g), strip(w), "{k}");
            }
            (Snapshot::Wallet(g), Snapshot::Wallet(w)) => {
                // RULES.md W-11, M-12: a machine's cash and points reach the wallet through
                // the internal topic, in another order than the input's and numbered by the
                // machine's effect number (stripped from machines above): the day's moves
                // are compared as a set, the numbers not at all.
                let strip = |w: &pitboss_actors::domain::wallet::WalletState| {
                    let mut w = w.clone();
                    if let Some(c) = w.cash.as_mut() {
                        c.moves.sort_by_key(|m| (m.at, m.cause.0));
                        c.near.sort_by_key(|m| (m.at, m.cause.0));
                        c.seen.clear();
                    }
                    if let Some(l) = w.loyalty.as_mut() {
                        l.seen.clear();
                    }
                    w
                };
                assert_eq!(strip(g), strip(w), "{k}");
            }
            (Snapshot::Hall(g), Snapshot::Hall(w)) => {
                let no_jackpots = |t: &pitboss_actors::domain::ggr::GgrTotals| {
                    pitboss_actors::domain::ggr::GgrTotals {
                        jackpots: 0,
                        ..t.clone()
                    }
                };
                assert_eq!(no_jackpots(&g.totals), no_jackpots(&w.totals), "{k}");
                let totals = |h: &pitboss_actors::domain::ggr::HallState| {
                    h.windows
                        .iter()
                        .map(|(t, x)| (*t, no_jackpots(&x.totals)))
                        .collect::<Vec<_>>()
                };
                assert_eq!(totals(g), totals(w), "{k} windows");
            }
            (Snapshot::Pool(g), Snapshot::Pool(w)) => {
                let contributed = |p: &pitboss_actors::domain::jackpot::PoolState| {
                    p.levels
                        .iter()
                        .map(|l| l.contributed_micro)
                        .collect::<Vec<_>>()
                };
                assert_eq!(contributed(g), contributed(w), "{k} contributions");
                let sources = |p: &pitboss_actors::domain::jackpot::PoolState| {
                    p.last_seq
                        .keys()
                        .cloned()
                        .collect::<std::collections::BTreeSet<_>>()
                };
                assert_eq!(sources(g), sources(w), "{k} sources applied");
            }
            // RULES.md V: what a voucher owes and where it ends are exact; its answers
            // depend on whether a machine's ticket-in reached it before the machine's own
            // request, which replays after a kill may order differently.
            (Snapshot::Voucher(g), Snapshot::Voucher(w)) => {
                let owed = |v: &pitboss_actors::domain::voucher::VoucherState| {
                    (
                        v.status.name(),
                        v.issue.clone(),
                        v.liability(),
                        v.unbacked,
                        v.reprinted,
                    )
                };
                assert_eq!(owed(g), owed(w), "{k}");
            }
            // RULES.md D: what each shift and the desk booked are exact; when a voucher's
            // cash reached the desk (before or after the close: a revision) is not.
            (Snapshot::Desk(g), Snapshot::Desk(w)) => {
                let booked = |d: &pitboss_actors::domain::desk::DeskState| {
                    let plain = |s: &pitboss_actors::domain::desk::ShiftFigures| {
                        let mut s = s.clone();
                        s.revision = 0;
                        s
                    };
                    (
                        d.next,
                        d.open.as_ref().map(plain),
                        d.closed.iter().map(plain).collect::<Vec<_>>(),
                        (d.unshifted_in, d.unshifted_out, d.cash_in, d.cash_out),
                    )
                };
                assert_eq!(booked(g), booked(w), "{k}");
            }
            _ => panic!("{k}: different kinds"),
        }
    }
}
