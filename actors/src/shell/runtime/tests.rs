//! The runtime against stores that fail and a clock the test sets.

use std::sync::atomic::AtomicU32;
use std::sync::Mutex;

use super::*;
use crate::domain::jackpot::LevelConfig;
use crate::domain::machine::{CashInKind, EventMeta, LogEntry, MachineCommand};
use crate::domain::wallet::{Recalled, TxKey, WalletCommand, WalletMeta, WalletOp};
use crate::domain::{Amount, Currency, EventId, PlayerId, ServerId, TxId};
use crate::shell::actor::load_state;
use crate::shell::ports::clock::ManualClock;
use crate::shell::ports::ledger::Movement;
use crate::shell::ports::sink::MemorySink;
use crate::shell::ports::store::{
    BoxFuture, EntityKey, MemoryStore, Stash, StoreError, Stored, StoredWindows,
};
use crate::shell::runtime::admin::PoolAdminError;

const T0: i64 = 1_800_000_000_000;

/// A store whose loads fail with `errors` (in order) before they succeed.
#[derive(Default)]
struct Failing {
    errors: Mutex<Vec<StoreError>>,
    loads: AtomicU32,
}

impl Failing {
    fn with(errors: Vec<StoreError>) -> Self {
        Self {
            errors: Mutex::new(errors),
            loads: AtomicU32::new(0),
        }
    }
}

impl StateStore for Failing {
    fn load(&self, _key: &EntityKey) -> BoxFuture<Result<Option<Stored>, StoreError>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let mut errors = self.errors.lock().unwrap();
        let r = if errors.is_empty() {
            Ok(None)
        } else {
            Err(errors.remove(0))
        };
        Box::pin(async move { r })
    }
    fn stash(&self, _stash: Stash) {}
    fn all(&self) -> BoxFuture<Result<Vec<Snapshot>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn flush(&self) -> BoxFuture<Result<bool, StoreError>> {
        Box::pin(async { Ok(false) })
    }
    fn recall(
        &self,
        _player: &PlayerId,
        keys: &[TxKey],
    ) -> BoxFuture<Result<Recalled, StoreError>> {
        let none = keys.iter().map(|k| (k.clone(), None)).collect();
        Box::pin(async move { Ok(none) })
    }
    fn recall_windows(
        &self,
        _hall: &HallId,
        windows: &[Timestamp],
    ) -> BoxFuture<Result<StoredWindows, StoreError>> {
        let none = windows.iter().map(|w| (*w, None)).collect();
        Box::pin(async move { Ok(none) })
    }
    fn machine_log(
        &self,
        _machine: &MachineId,
        _before: u64,
        _limit: usize,
    ) -> BoxFuture<Result<Vec<LogEntry>, StoreError>> {
        // Stores nothing, so it holds no log.
        Box::pin(async { Ok(Vec::new()) })
    }
}

struct Lowest;

impl HitPointSource for Lowest {
    fn draw(&mut self, _: &PoolId, _: u8, _: u64, lo: i64, _: i64) -> i64 {
        lo
    }
}

impl HitPointFactory for Lowest {
    fn for_pool(&self, _pool: &PoolId) -> Box<dyn HitPointSource> {
        Box::new(Lowest)
    }
}

fn eur() -> Currency {
    Currency::new("EUR").unwrap()
}

fn config() -> RuntimeConfig {
    RuntimeConfig {
        arbiters: 1,
        mailbox_len_max: 16,
        wallet_window_len: 16,
        wallet_credit_line_minor: 0,
        wallet_kyc_withdrawal_max_minor: None,
        wallet_cooling_off_ms: 86_400_000,
        wallet_transfer_hold_ms: 60_000,
        wallet_session_break_ms: 1_800_000,
        wallet_bets_draw: Default::default(),
        cash_desks: Default::default(),
        calendar: std::sync::Arc::new(crate::domain::limits::UtcCalendar),
        large_cash_in_alert_minor: 0,
        handpay_threshold_minor: 0,
        theoretical_hold_ppm: 80_000,
        hold_overrides: Default::default(),
        loyalty_micro_points: 10_000,
        aml: Default::default(),
        ggr_grace_windows: 1,
        ggr_windows_max: 4,
        source_expiry_ms: 168 * 3_600_000,
        live_actors_max: 0,
        currency: eur(),
        skew: crate::domain::SkewLimits::default(),
        vouchers: Default::default(),
        pools: vec![PoolSpec {
            id: PoolId::new("P-1").unwrap(),
            config: PoolConfig {
                currency: eur(),
                levels: vec![LevelConfig {
                    name: "grand".into(),
                    seed: 1_000,
                    contribution_ppm: 10_000,
                    ceiling: None,
                    mystery: false,
                    min_bet: 0,
                }],
            },
            halls: None,
        }],
    }
}

fn start(store: Arc<dyn StateStore>, clock: Arc<dyn Clock>) -> Arc<Runtime> {
    Runtime::start(
        config(),
        Arc::new(MemorySink::default()),
        store,
        Arc::new(Lowest),
        clock,
    )
}

fn deposit(n: u128) -> Input {
    Input::Wallet {
        player: PlayerId::new("P-1").unwrap(),
        meta: WalletMeta {
            event_id: EventId(n),
            time: Timestamp(T0),
            hall: HallId::new("H-1").unwrap(),
        },
        cmd: WalletCommand {
            provider: ServerId::new("PSP").unwrap(),
            tx: TxId::new(&format!("D-{n}")).unwrap(),
            op: WalletOp::Deposit(Amount::new(100).unwrap()),
            round: None,
        },
        currency: Some(eur()),
    }
}

/// An ack whose outcome lands in the returned flag (`None` until it completes).
/// A live hall's state.
async fn hall_state(rt: &Runtime, hall: &HallId) -> crate::domain::ggr::HallState {
    let Some(Snapshot::Hall(h)) = rt.inspect::<HallEntity>(hall).await.unwrap() else {
        panic!("no state for {hall}");
    };
    h
}

/// A live pool's state.
async fn pool_state(rt: &Runtime, pool: &PoolId) -> crate::domain::jackpot::PoolState {
    let Some(Snapshot::Pool(p)) = rt.inspect::<PoolEntity>(pool).await.unwrap() else {
        panic!("no state for {pool}");
    };
    p
}

fn ack() -> (AckToken, Arc<Mutex<Option<bool>>>) {
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    (AckToken::new(move |ok| *s.lock().unwrap() = Some(ok)), seen)
}

#[actix_rt::test]
async fn loading_retries_transient_failures_until_the_store_answers() {
    let store = Failing::with(vec![
        StoreError::transient("unreachable"),
        StoreError::transient("timed out"),
    ]);
    let key = EntityKey::Wallet(PlayerId::new("P-1").unwrap());
    assert_eq!(load_state(&store, &key).await.unwrap(), None);
    assert_eq!(store.loads.load(Ordering::SeqCst), 3);
}

#[actix_rt::test]
async fn loading_stops_at_a_permanent_failure() {
    let store = Failing::with(vec![StoreError::permanent("record version 2 is too new")]);
    let key = EntityKey::Wallet(PlayerId::new("P-1").unwrap());
    let e = load_state(&store, &key).await.unwrap_err();
    assert!(!e.is_transient());
    assert_eq!(store.loads.load(Ordering::SeqCst), 1, "no retry");
}

#[actix_rt::test]
async fn an_entity_that_cannot_load_fails_its_inputs_and_operator_calls() {
    let store = Arc::new(Failing::with(
        (0..2)
            .map(|_| StoreError::permanent("record version 2 is too new"))
            .collect(),
    ));
    let rt = start(store.clone(), Arc::new(ManualClock::at(Timestamp(T0))));
    let (a1, seen1) = ack();
    let (a2, seen2) = ack();
    rt.dispatch(deposit(1), a1).await;
    rt.dispatch(deposit(2), a2).await;
    rt.quiesce().await;
    assert_eq!(*seen1.lock().unwrap(), Some(false), "the input failed");
    assert_eq!(*seen2.lock().unwrap(), Some(false), "every input fails");
    assert_eq!(store.loads.load(Ordering::SeqCst), 1, "no retry");

    let level = config().pools[0].config.levels[0].clone();
    let e = rt
        .schedule_level_change(&PoolId::new("P-1").unwrap(), 0, level)
        .await
        .unwrap_err();
    assert!(matches!(e, PoolAdminError::Store(_)), "{e}");
    rt.stop();
}

#[actix_rt::test]
async fn pool_ledger_entries_carry_the_runtime_clock() {
    let store = Arc::new(MemoryStore::with_ledger());
    let clock = Arc::new(ManualClock::at(Timestamp(42)));
    let rt = start(store.clone(), clock.clone());
    let machine = MachineId::new("M-1").unwrap();
    let hall = HallId::new("H-1").unwrap();
    let event = |seq: u64, cmd: MachineCommand| Input::Machine {
        machine: machine.clone(),
        hall: hall.clone(),
        meta: EventMeta::new(EventId(seq as u128), seq, Timestamp(T0)),
        cmd,
        currency: Some(eur()),
    };
    let cash = MachineCommand::CashIn(CashInKind::Bill, Amount::new(1_000).unwrap());
    rt.dispatch(event(1, cash), AckToken::none()).await;
    clock.set(Timestamp(77));
    let bet = MachineCommand::Bet(Amount::new(100).unwrap());
    rt.dispatch(event(2, bet), AckToken::none()).await;
    rt.quiesce().await;
    clock.advance(1);
    rt.checkpoint().await;
    let pool: Vec<_> = store
        .ledger()
        .into_iter()
        .filter(|(k, _)| matches!(k, EntityKey::Pool(_)))
        .map(|(_, e)| (e.kind, e.time.0))
        .collect();
    assert_eq!(pool, [(Movement::Seed, 77), (Movement::Contribution, 78)]);
    rt.stop();
}

/// RULES.md H-2, in the runtime: closed windows wait for a checkpoint before they are
/// published; a window that left memory is read back from the store when a late delta
/// revises it, so the revision continues with full totals (findings 6 and 16).
#[actix_rt::test]
async fn windows_wait_for_the_checkpoint_and_a_late_delta_revises_the_stored_window() {
    use crate::domain::ggr::GgrDelta;
    use crate::domain::time::WINDOW_MS;
    use crate::domain::SourceKey;
    use crate::shell::entities::HallEntity;
    use crate::shell::messages::HallMsg;

    let store = Arc::new(MemoryStore::default());
    let sink = Arc::new(MemorySink::default());
    let rt = Runtime::start(
        config(),
        sink.clone(),
        store.clone(),
        Arc::new(Lowest),
        Arc::new(ManualClock::at(Timestamp(T0))),
    );
    rt.publish_after_checkpoint();
    let hall = HallId::new("H-1").unwrap();
    let source = SourceKey::Machine(MachineId::new("M-1").unwrap());
    let delta = |seq: u64, window: i64, bets: i64| GgrDelta {
        source: source.clone(),
        seq,
        cause: EventId(seq as u128),
        hall: hall.clone(),
        window: Timestamp(T0 + window * WINDOW_MS),
        bets,
        wins: 0,
        games: 1,
        jackpots: 0,
        promo: 0,
    };
    let published = |sink: &MemorySink| -> Vec<(i64, u32, i64)> {
        sink.take()
            .into_iter()
            .filter_map(|o| match o {
                Output::Ggr { window, .. } => Some((
                    (window.window.0 - T0) / WINDOW_MS,
                    window.revision,
                    window.totals.bets,
                )),
                _ => None,
            })
            .collect()
    };
    let checkpoint = |rt: Arc<Runtime>| async move {
        rt.checkpoint().await;
        rt.store.flush().await.unwrap();
        rt.release(&AckToken::none());
        rt.quiesce().await;
    };
    // Ten windows, one delta each: with a grace of one window, 0..=7 close.
    for w in 0..10 {
        rt.tell::<HallEntity>(
            &hall,
            HallMsg::Delta(delta(w as u64 + 1, w, 100 + w), AckToken::none()),
        );
    }
    rt.quiesce().await;
    rt.tick(false);
    rt.quiesce().await;
    assert_eq!(
        published(&sink),
        vec![],
        "nothing before the checkpoint holds it"
    );
    checkpoint(rt.clone()).await;
    let first = published(&sink);
    assert_eq!(first.len(), 8);
    assert!(first.iter().all(|(_, rev, _)| *rev == 0));
    // The published windows beyond the newest four left memory.
    let h = hall_state(&rt, &hall).await;
    assert_eq!(h.windows.len(), 4);
    assert_eq!(h.evicted_upto, Some(Timestamp(T0 + 5 * WINDOW_MS)));
    assert!(h.outbox.is_empty());

    // A late delta for window 2, no longer in memory: read back, revised to revision 1
    // with the full totals.
    rt.tell::<HallEntity>(&hall, HallMsg::Delta(delta(11, 2, 50), AckToken::none()));
    rt.quiesce().await;
    rt.tick(false);
    rt.quiesce().await;
    assert_eq!(
        published(&sink),
        vec![],
        "the revision waits for a checkpoint too"
    );
    checkpoint(rt.clone()).await;
    assert_eq!(published(&sink), vec![(2, 1, 102 + 50)]);
    rt.stop();
}

/// Deltas grouped into one message (a batch of the internal topic, by hall) leave a hall
/// exactly as the same deltas sent one by one: duplicates dropped per source, windows that
/// left memory read back from the store once and revised, the same publications.
#[actix_rt::test]
async fn deltas_sent_as_one_message_leave_the_hall_as_when_sent_one_by_one() {
    use crate::domain::ggr::GgrDelta;
    use crate::domain::time::WINDOW_MS;
    use crate::domain::SourceKey;
    use crate::shell::entities::HallEntity;
    use crate::shell::messages::HallMsg;

    let sink = Arc::new(MemorySink::default());
    let rt = Runtime::start(
        config(),
        sink.clone(),
        Arc::new(MemoryStore::default()),
        Arc::new(Lowest),
        Arc::new(ManualClock::at(Timestamp(T0))),
    );
    rt.publish_after_checkpoint();
    let (one_by_one, batched) = (HallId::new("H-1").unwrap(), HallId::new("H-2").unwrap());
    let delta = |hall: &HallId, machine: &str, seq: u64, window: i64, bets: i64| GgrDelta {
        source: SourceKey::Machine(MachineId::new(machine).unwrap()),
        seq,
        cause: EventId(seq as u128),
        hall: hall.clone(),
        window: Timestamp(T0 + window * WINDOW_MS),
        bets,
        wins: bets / 2,
        games: 1,
        jackpots: 0,
        promo: 0,
    };
    let checkpoint = |rt: Arc<Runtime>| async move {
        rt.quiesce().await;
        rt.tick(false);
        rt.quiesce().await;
        rt.checkpoint().await;
        rt.store.flush().await.unwrap();
        rt.release(&AckToken::none());
        rt.quiesce().await;
    };
    // Ten windows to both halls, one by one; the checkpoint publishes and evicts the oldest.
    for hall in [&one_by_one, &batched] {
        for w in 0..10 {
            rt.tell::<HallEntity>(
                hall,
                HallMsg::Delta(
                    delta(hall, "M-1", w as u64 + 1, w, 100 + w),
                    AckToken::none(),
                ),
            );
        }
    }
    checkpoint(rt.clone()).await;
    drop(sink.take());
    // Late deltas for windows that left memory (2, 1, 3), repeats of a source's numbers, a
    // second source, and a window still in memory.
    let late = |hall: &HallId| {
        vec![
            delta(hall, "M-1", 11, 2, 50),
            delta(hall, "M-1", 5, 4, 7),
            delta(hall, "M-2", 1, 2, 30),
            delta(hall, "M-1", 12, 1, 20),
            delta(hall, "M-2", 2, 9, 40),
            delta(hall, "M-1", 12, 1, 20),
            delta(hall, "M-2", 3, 3, 10),
        ]
    };
    for d in late(&one_by_one) {
        rt.tell::<HallEntity>(&one_by_one, HallMsg::Delta(d, AckToken::none()));
    }
    rt.tell::<HallEntity>(&batched, HallMsg::Deltas(late(&batched), AckToken::none()));
    checkpoint(rt.clone()).await;
    let (a, mut b) = (
        hall_state(&rt, &one_by_one).await,
        hall_state(&rt, &batched).await,
    );
    b.id = a.id.clone();
    assert_eq!(a, b, "the same state");
    assert_eq!(a.last_seq.len(), 2, "both sources counted: {a:?}");
    let mut published: Vec<(String, i64, u32, i64, i64)> = sink
        .take()
        .into_iter()
        .filter_map(|o| match o {
            Output::Ggr { window, .. } => Some((
                window.hall.to_string(),
                (window.window.0 - T0) / WINDOW_MS,
                window.revision,
                window.totals.bets,
                window.totals.wins,
            )),
            _ => None,
        })
        .collect();
    published.sort();
    let (a, b): (Vec<_>, Vec<_>) = published.into_iter().partition(|p| p.0 == "H-1");
    let strip = |v: Vec<(String, i64, u32, i64, i64)>| -> Vec<_> {
        v.into_iter()
            .map(|(_, w, r, bets, wins)| (w, r, bets, wins))
            .collect()
    };
    let (a, b) = (strip(a), strip(b));
    assert_eq!(a, b, "the same publications");
    // Windows 1, 2 and 3 revised from the store's totals (the late bets added to them).
    assert!(a.contains(&(2, 1, 102 + 50 + 30, 51 + 25 + 15)), "{a:?}");
    assert!(a.contains(&(1, 1, 101 + 20, 50 + 10)), "{a:?}");
    rt.stop();
}

/// Pool commands grouped into one message (a record of the internal topic, by pool) leave a
/// pool exactly as the same commands sent one by one: repeats dropped per source, the
/// claims paid, the same hits and outputs.
#[actix_rt::test]
async fn pool_commands_sent_as_one_message_leave_the_pool_as_when_sent_one_by_one() {
    use crate::domain::jackpot::{PoolCommand, PoolMeta};
    use crate::domain::{Amount, SourceKey};
    use crate::shell::entities::PoolEntity;
    use crate::shell::messages::{EffectRouter, MachineMsg, PoolMsg, Remote};

    /// Keeps the awards (the machines here have no state to book them).
    #[derive(Default)]
    struct Awards(Mutex<Vec<String>>);
    impl EffectRouter for Awards {
        fn route(&self, msg: Remote) -> Option<Remote> {
            match msg {
                Remote::Machine(m, MachineMsg::Award { hit, .. }) => {
                    self.0.lock().unwrap().push(format!("{m} {hit:?}"));
                    None
                }
                other => Some(other),
            }
        }
    }

    let mut cfg = config();
    let mut second = cfg.pools[0].clone();
    second.id = PoolId::new("P-2").unwrap();
    cfg.pools.push(second);
    let sink = Arc::new(MemorySink::default());
    let rt = Runtime::start(
        cfg,
        sink.clone(),
        Arc::new(MemoryStore::default()),
        Arc::new(Lowest),
        Arc::new(ManualClock::at(Timestamp(T0))),
    );
    let awards = Arc::new(Awards::default());
    rt.set_router(awards.clone()).unwrap();
    let (one_by_one, batched) = (PoolId::new("P-1").unwrap(), PoolId::new("P-2").unwrap());
    let commands: Vec<(PoolMeta, PoolCommand)> = [
        ("M-1", 1, None),
        ("M-2", 1, None),
        ("M-1", 2, None),
        ("M-1", 1, None),
        ("M-2", 2, Some(0u8)),
        ("M-1", 3, None),
        ("M-2", 2, Some(0)),
        ("M-1", 4, Some(0)),
    ]
    .into_iter()
    .map(|(machine, seq, claim)| {
        let m = MachineId::new(machine).unwrap();
        let meta = PoolMeta {
            source: SourceKey::Machine(m.clone()),
            seq,
            cause: EventId(seq as u128 * 10 + machine.len() as u128),
        };
        let cmd = match claim {
            None => PoolCommand::Contribute {
                machine: m,
                bet: Amount::new(5_000).unwrap(),
                eligible: true,
            },
            Some(level) => PoolCommand::Claim {
                machine: m,
                level,
                bet: 100,
                amount: None,
            },
        };
        (meta, cmd)
    })
    .collect();
    for (meta, cmd) in commands.clone() {
        let msg = PoolMsg {
            meta,
            cmd,
            ack: AckToken::none(),
            rest: Vec::new(),
        };
        rt.tell::<PoolEntity>(&one_by_one, msg);
    }
    let mut all = commands.into_iter();
    let (meta, cmd) = all.next().unwrap();
    let msg = PoolMsg {
        meta,
        cmd,
        ack: AckToken::none(),
        rest: all.collect(),
    };
    rt.tell::<PoolEntity>(&batched, msg);
    rt.quiesce().await;
    let (a, mut b) = (
        pool_state(&rt, &one_by_one).await,
        pool_state(&rt, &batched).await,
    );
    b.id = a.id.clone();
    assert_eq!(a, b, "the same state");
    assert_eq!(a.levels[0].hits, 2, "both claims paid once: {a:?}");
    let outputs: Vec<String> = sink
        .take()
        .into_iter()
        .filter(|o| !matches!(o, Output::JackpotLevels { .. }))
        .map(|o| format!("{o:?}"))
        .collect();
    let of = |pool: &str| -> Vec<String> {
        outputs
            .iter()
            .filter(|o| o.contains(&format!("\"{pool}\"")))
            .map(|o| o.replace("P-2", "P-1"))
            .collect()
    };
    assert_eq!(of("P-1"), of("P-2"), "the same outputs");
    assert!(!of("P-1").is_empty());
    let awards = awards.0.lock().unwrap().clone();
    let awarded = |pool: &str| -> Vec<String> {
        awards
            .iter()
            .filter(|a| a.contains(&format!("\"{pool}\"")))
            .map(|a| a.replace("P-2", "P-1"))
            .collect()
    };
    assert_eq!(awarded("P-1").len(), 2, "{awards:?}");
    assert_eq!(awarded("P-1"), awarded("P-2"), "the same awards");
    // The levels name the latest command applied since they were last published, and how
    // many were applied (six: the two repeats change nothing).
    let levels = |sink: &MemorySink| -> Vec<(String, Option<EventId>, u32)> {
        let mut v: Vec<_> = sink
            .take()
            .into_iter()
            .filter_map(|o| match o {
                Output::JackpotLevels { pool, carried, .. } => {
                    Some((pool.to_string(), carried.latest, carried.count))
                }
                _ => None,
            })
            .collect();
        v.sort();
        v
    };
    rt.tick(false);
    rt.quiesce().await;
    let last = Some(EventId(4 * 10 + 3));
    assert_eq!(
        levels(&sink),
        vec![("P-1".into(), last, 6), ("P-2".into(), last, 6)]
    );
    rt.tick(false);
    rt.quiesce().await;
    assert_eq!(
        levels(&sink),
        vec![],
        "nothing applied since: nothing published"
    );
    rt.stop();
}

/// A memory store that records which entities were stashed.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    stashed: Mutex<Vec<EntityKey>>,
}

impl Counting {
    /// The entities stashed since the previous call, sorted.
    fn take(&self) -> Vec<EntityKey> {
        let mut v = std::mem::take(&mut *self.stashed.lock().unwrap());
        v.sort_by_key(|k| format!("{k:?}"));
        v
    }
}

impl StateStore for Counting {
    fn load(&self, key: &EntityKey) -> BoxFuture<Result<Option<Stored>, StoreError>> {
        self.inner.load(key)
    }
    fn stash(&self, stash: Stash) {
        self.stashed.lock().unwrap().push(stash.snapshot.key());
        self.inner.stash(stash);
    }
    fn all(&self) -> BoxFuture<Result<Vec<Snapshot>, StoreError>> {
        self.inner.all()
    }
    fn flush(&self) -> BoxFuture<Result<bool, StoreError>> {
        self.inner.flush()
    }
    fn recall(&self, player: &PlayerId, keys: &[TxKey]) -> BoxFuture<Result<Recalled, StoreError>> {
        self.inner.recall(player, keys)
    }
    fn recall_windows(
        &self,
        hall: &HallId,
        windows: &[Timestamp],
    ) -> BoxFuture<Result<StoredWindows, StoreError>> {
        self.inner.recall_windows(hall, windows)
    }
    fn machine_log(
        &self,
        machine: &MachineId,
        before: u64,
        limit: usize,
    ) -> BoxFuture<Result<Vec<LogEntry>, StoreError>> {
        self.inner.machine_log(machine, before, limit)
    }
}

fn deposit_by(player: &str, n: u128) -> Input {
    let Input::Wallet {
        meta,
        cmd,
        currency,
        ..
    } = deposit(n)
    else {
        unreachable!("a deposit is a wallet input")
    };
    Input::Wallet {
        player: PlayerId::new(player).unwrap(),
        meta,
        cmd,
        currency,
    }
}

fn wallets(ids: &[&str]) -> Vec<EntityKey> {
    ids.iter()
        .map(|p| EntityKey::Wallet(PlayerId::new(p).unwrap()))
        .collect()
}

/// Issue 14: the periodic rounds cost what changed, not what is live. A checkpoint stashes
/// only the actors changed since the previous one; the watcher's list names exactly the
/// entities that changed or passivated; the idle sweep passivates only the actors that
/// received nothing for a whole sweep interval.
#[actix_rt::test]
async fn checkpoints_sweeps_and_the_change_list_follow_what_changed() {
    let store = Arc::new(Counting::default());
    let rt = start(store.clone(), Arc::new(ManualClock::at(Timestamp(T0))));
    rt.watch::<WalletEntity>();
    let mut n = 0;
    let mut deposit_to = |p: &str| {
        n += 1;
        deposit_by(p, n)
    };
    for p in ["A", "B", "C"] {
        rt.dispatch(deposit_to(p), AckToken::none()).await;
    }
    rt.quiesce().await;
    rt.checkpoint().await;
    assert_eq!(store.take(), wallets(&["A", "B", "C"]));
    let mut changed = rt.take_changed::<WalletEntity>();
    changed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(
        changed.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        ["A", "B", "C"]
    );

    // Nothing changed: nothing is stashed, nothing listed.
    rt.checkpoint().await;
    assert_eq!(store.take(), []);
    assert!(rt.take_changed::<WalletEntity>().is_empty());

    // One wallet changes: only it.
    rt.dispatch(deposit_to("B"), AckToken::none()).await;
    rt.quiesce().await;
    rt.checkpoint().await;
    assert_eq!(store.take(), wallets(&["B"]));
    let changed = rt.take_changed::<WalletEntity>();
    assert_eq!(
        changed.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        ["B"]
    );

    // The first sweep sees every actor active since it started; C is used again before the
    // second, which passivates A and B (stashing them) and keeps C.
    rt.sweep_idle();
    rt.quiesce().await;
    assert_eq!(rt.live_actors()[EntityKind::Wallet.index()], 3);
    rt.dispatch(deposit_to("C"), AckToken::none()).await;
    rt.sweep_idle();
    rt.quiesce().await;
    assert_eq!(rt.live_actors()[EntityKind::Wallet.index()], 1);
    assert_eq!(store.take(), wallets(&["A", "B"]));
    rt.checkpoint().await;
    assert_eq!(store.take(), wallets(&["C"]));
    let mut changed = rt.take_changed::<WalletEntity>();
    changed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(
        changed.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        ["A", "B", "C"]
    );
    // The passivated wallets come back with their state.
    rt.dispatch(deposit_to("A"), AckToken::none()).await;
    rt.quiesce().await;
    let Some(Snapshot::Wallet(a)) = rt
        .inspect_live_one::<WalletEntity>(&PlayerId::new("A").unwrap())
        .await
    else {
        panic!("wallet A is live again with its state");
    };
    assert_eq!(a.balance, 200);
    rt.stop();
}

/// Issue 14: with `live_actors_max`, a sweep leaves at most that many actors of a kind live,
/// passivating the least used of the busy ones (their state stashed, loaded back on their
/// next event); without a bound only idle actors go.
#[actix_rt::test]
async fn a_sweep_keeps_the_live_actors_within_the_bound_least_used_first() {
    let store = Arc::new(Counting::default());
    let mut cfg = config();
    cfg.live_actors_max = 2;
    let rt = Runtime::start(
        cfg,
        Arc::new(MemorySink::default()),
        store.clone(),
        Arc::new(Lowest),
        Arc::new(ManualClock::at(Timestamp(T0))),
    );
    let mut n = 0;
    // A gets three deposits, B two, C and D one each: C and D are the least used.
    for p in ["A", "A", "A", "B", "B", "C", "D"] {
        n += 1;
        rt.dispatch(deposit_by(p, n), AckToken::none()).await;
    }
    rt.quiesce().await;
    store.take();
    rt.sweep_idle();
    rt.quiesce().await;
    assert_eq!(rt.live_actors()[EntityKind::Wallet.index()], 2);
    assert_eq!(store.take(), wallets(&["C", "D"]));
    // C comes back with its state.
    n += 1;
    rt.dispatch(deposit_by("C", n), AckToken::none()).await;
    rt.quiesce().await;
    let Some(Snapshot::Wallet(c)) = rt
        .inspect_live_one::<WalletEntity>(&PlayerId::new("C").unwrap())
        .await
    else {
        panic!("wallet C is live again with its state");
    };
    assert_eq!(c.balance, 200);
    rt.stop();
}

/// RULES.md M-9: the entries a machine's events make reach the store's machine log with the
/// checkpoint (and with passivation), numbered in order; nothing is lost or doubled.
#[actix_rt::test]
async fn a_machines_event_log_reaches_the_store_with_its_checkpoints() {
    use crate::domain::machine::SignificantEvent as S;
    use crate::domain::LogCode;

    let store = Arc::new(MemoryStore::default());
    let rt = start(store.clone(), Arc::new(ManualClock::at(Timestamp(T0))));
    let machine = MachineId::new("M-7").unwrap();
    let event = |seq: u64, cmd: MachineCommand| Input::Machine {
        machine: machine.clone(),
        hall: HallId::new("H-1").unwrap(),
        meta: EventMeta::new(EventId(u128::from(seq)), seq, Timestamp(T0 + seq as i64)),
        cmd,
        currency: None,
    };
    let sig = |e| MachineCommand::Significant(e);
    for (seq, e) in [(1, S::DoorOpen), (2, S::DoorClose), (3, S::Tilt(7))] {
        rt.dispatch(event(seq, sig(e)), AckToken::none()).await;
    }
    rt.quiesce().await;
    // Not in the store before the machine hands its state over.
    assert!(store
        .machine_log(&machine, 100, 10)
        .await
        .unwrap()
        .is_empty());
    rt.checkpoint().await;
    let codes = |v: Vec<crate::domain::machine::LogEntry>| {
        v.into_iter()
            .map(|e| (e.number, e.code, e.tilt))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        codes(store.machine_log(&machine, 100, 10).await.unwrap()),
        vec![
            (3, LogCode::Tilt, Some(7)),
            (2, LogCode::DoorClose, None),
            (1, LogCode::DoorOpen, None)
        ]
    );
    // A repeat makes no entry; the next event after passivation goes on from 4.
    rt.dispatch(event(3, sig(S::Tilt(7))), AckToken::none())
        .await;
    rt.dispatch(event(4, sig(S::TiltClear)), AckToken::none())
        .await;
    rt.quiesce().await;
    rt.passivate_now::<crate::shell::entities::MachineEntity>(std::slice::from_ref(&machine))
        .await;
    assert_eq!(
        codes(store.machine_log(&machine, 5, 2).await.unwrap()),
        vec![(4, LogCode::TiltClear, None), (3, LogCode::Tilt, Some(7))]
    );
}

/// RULES.md W-10 in the runtime: a machine's transfer reaches the player's wallet actor,
/// which pays it from the hold its request made; the machine counts its cashless meter, and
/// both ledgers book it.
#[actix_rt::test]
async fn a_machines_transfer_reaches_its_wallet_and_pays_the_hold() {
    use crate::domain::machine::MachineTransfer;
    use crate::domain::transfer::Direction;
    use crate::shell::entities::{MachineEntity, WalletEntity};

    let store = Arc::new(MemoryStore::with_ledger());
    let rt = start(store.clone(), Arc::new(ManualClock::at(Timestamp(T0))));
    let player = PlayerId::new("P-1").unwrap();
    let machine = MachineId::new("M-1").unwrap();
    for n in 1..=5 {
        rt.dispatch(deposit(n), AckToken::none()).await;
    }
    let Input::Wallet { meta, .. } = deposit(6) else {
        unreachable!()
    };
    let request = Input::Wallet {
        player: player.clone(),
        meta,
        cmd: WalletCommand {
            provider: ServerId::new("AFT-HOST").unwrap(),
            tx: TxId::new("T-1").unwrap(),
            op: WalletOp::TransferRequest {
                machine: machine.clone(),
                amount: Amount::new(300).unwrap(),
                credit: Default::default(),
            },
            round: None,
        },
        currency: Some(eur()),
    };
    rt.dispatch(request, AckToken::none()).await;
    let transfer = MachineCommand::Transfer(Box::new(MachineTransfer {
        direction: Direction::ToMachine,
        transfer: TxId::new("T-1").unwrap(),
        player: player.clone(),
        amount: Amount::new(300).unwrap(),
        credit: Default::default(),
    }));
    let (token, done) = ack();
    let event = Input::Machine {
        machine: machine.clone(),
        hall: HallId::new("H-1").unwrap(),
        meta: EventMeta::new(EventId(100), 1, Timestamp(T0 + 1_000)),
        cmd: transfer,
        currency: Some(eur()),
    };
    rt.dispatch(event, token).await;
    rt.quiesce().await;
    assert_eq!(
        *done.lock().unwrap(),
        Some(true),
        "the event completes once the wallet has it"
    );
    let Some(Snapshot::Wallet(w)) = rt.inspect::<WalletEntity>(&player).await.unwrap() else {
        panic!("no wallet")
    };
    assert_eq!((w.balance, w.held(), w.totals.to_machines), (200, 0, 300));
    let Some(Snapshot::Machine(m)) = rt.inspect::<MachineEntity>(&machine).await.unwrap() else {
        panic!("no machine")
    };
    assert_eq!((m.credits, m.meters.cashless_in), (300, 300));
    rt.checkpoint().await;
    let mut kinds: Vec<_> = store
        .ledger()
        .into_iter()
        .filter(|(_, e)| e.cause == EventId(6) || e.cause == EventId(100))
        .map(|(k, e)| (matches!(k, EntityKey::Wallet(_)), e.kind, e.amount))
        .collect();
    kinds.sort_by_key(|(w, _, a)| (*w, *a));
    assert_eq!(
        kinds,
        [
            (false, Movement::CashlessIn, 300),
            (true, Movement::TransferHold, -300)
        ]
    );
    rt.stop();
}
