//! The runtime's operator calls behind the admin API, against real actors with the in-memory
//! store: a level change waits for the level's next hit, refusals change nothing, a created
//! pool starts at its seeds and is linked to halls, and the calls work across passivation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pitboss::rng::KeyedHitPoints;
use pitboss_actors::domain::jackpot::{LevelConfig, PoolCommand, PoolConfig, PoolMeta};
use pitboss_actors::domain::{Amount, Currency, EventId, HallId, MachineId, PoolId, SourceKey};
use pitboss_actors::shell::{
    AckToken, MemorySink, MemoryStore, PoolAdminError, PoolEntity, PoolMsg, PoolSpec, Remote,
    Runtime, RuntimeConfig, Snapshot,
};

fn eur() -> Currency {
    Currency::new("EUR").unwrap()
}

fn level(name: &str, seed: i64, ceiling: i64, ppm: i64) -> LevelConfig {
    LevelConfig {
        name: name.into(),
        seed,
        contribution_ppm: ppm,
        ceiling: Some(ceiling),
        mystery: true,
        min_bet: 0,
    }
}

fn runtime() -> Arc<Runtime> {
    let config = RuntimeConfig {
        arbiters: 2,
        mailbox_len_max: 64,
        wallet_window_len: 16,
        wallet_credit_line_minor: 0,
        wallet_kyc_withdrawal_max_minor: None,
        wallet_cooling_off_ms: 86_400_000,
        wallet_transfer_hold_ms: 60_000,
        wallet_session_break_ms: 1_800_000,
        wallet_bets_draw: Default::default(),
        cash_desks: Default::default(),
        calendar: std::sync::Arc::new(pitboss_actors::domain::limits::UtcCalendar),
        large_cash_in_alert_minor: 0,
        handpay_threshold_minor: 0,
        theoretical_hold_ppm: 80_000,
        hold_overrides: Default::default(),
        loyalty_micro_points: 10_000,
        aml: Default::default(),
        ggr_grace_windows: 1,
        ggr_windows_max: 10,
        source_expiry_ms: 168 * 3_600_000,
        live_actors_max: 0,
        currency: eur(),
        skew: pitboss_actors::domain::SkewLimits::default(),
        vouchers: Default::default(),
        pools: vec![PoolSpec {
            id: PoolId::new("P").unwrap(),
            config: PoolConfig {
                currency: eur(),
                levels: vec![level("mini", 100, 300, 100_000)],
            },
            halls: None,
        }],
    };
    Runtime::start(
        config,
        Arc::new(MemorySink::default()),
        Arc::new(MemoryStore::default()),
        Arc::new(KeyedHitPoints::new("test")),
        Arc::new(pitboss_actors::shell::SystemClock),
    )
}

async fn pool_state(rt: &Arc<Runtime>, id: &str) -> pitboss_actors::domain::jackpot::PoolState {
    match rt.inspect::<PoolEntity>(&PoolId::new(id).unwrap()).await {
        Ok(Some(Snapshot::Pool(p))) => p,
        other => panic!("pool {id}: {other:?}"),
    }
}

fn contribute(rt: &Arc<Runtime>, pool: &str, seq: u64) {
    let m = MachineId::new("M-1").unwrap();
    rt.forward(Remote::Pool(
        PoolId::new(pool).unwrap(),
        PoolMsg {
            meta: PoolMeta {
                source: SourceKey::Machine(m.clone()),
                seq,
                cause: EventId(seq as u128),
            },
            cmd: PoolCommand::Contribute {
                machine: m,
                bet: Amount::new(100).unwrap(),
                eligible: true,
            },
            ack: AckToken::none(),
            rest: Vec::new(),
        },
    ));
}

#[test]
fn level_changes_wait_for_the_next_hit_and_refusals_change_nothing() {
    actix_rt::System::new().block_on(async {
        let rt = runtime();
        let p = PoolId::new("P").unwrap();
        let e = rt
            .schedule_level_change(&PoolId::new("NOPE").unwrap(), 0, level("mini", 1, 2, 1))
            .await
            .unwrap_err();
        assert!(matches!(e, PoolAdminError::UnknownPool(_)), "{e}");
        let e = rt
            .schedule_level_change(&p, 0, level("mini", 500, 400, 1))
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid pool configuration: level mini: ceiling 400 must be above the seed 500"
        );
        let e = rt
            .schedule_level_change(&p, 3, level("x", 1, 2, 1))
            .await
            .unwrap_err();
        assert!(matches!(e, PoolAdminError::Invalid(_)), "{e}");
        assert_eq!(pool_state(&rt, "P").await.levels[0].pending, None);

        let change = rt
            .schedule_level_change(&p, 0, level("mini", 150, 350, 100_000))
            .await
            .unwrap();
        assert_eq!(change.before.levels[0].pending, None);
        assert_eq!(change.after.levels[0].pending.as_ref().unwrap().seed, 150);
        assert_eq!(
            change.after.levels[0].config.seed, 100,
            "not in force before a hit"
        );
        assert_eq!(change.before.levels[0].level, change.after.levels[0].level);

        // Passivate the pool: the pending change is part of its state and survives.
        rt.passivate_now::<PoolEntity>(std::slice::from_ref(&p))
            .await;
        assert_eq!(rt.live_actors()[2], 0);
        assert_eq!(
            pool_state(&rt, "P").await.levels[0]
                .pending
                .as_ref()
                .unwrap()
                .seed,
            150
        );

        // 10 minor units per bet: the level (100..=300) hits within 21 bets.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seq = 0;
        loop {
            seq += 1;
            contribute(&rt, "P", seq);
            rt.quiesce().await;
            let s = pool_state(&rt, "P").await;
            if s.levels[0].hits > 0 {
                assert_eq!(s.levels[0].config.seed, 150, "in force after the hit");
                assert_eq!(s.levels[0].config.ceiling, Some(350));
                assert_eq!(s.levels[0].pending, None);
                assert_eq!(
                    s.levels[0].seeded,
                    100 + 150,
                    "the reset funded the new seed"
                );
                break;
            }
            assert!(
                Instant::now() < deadline && seq < 100,
                "no hit after {seq} bets"
            );
        }
        rt.stop();
    });
}

#[test]
fn created_pools_start_at_their_seeds_and_link_their_halls() {
    actix_rt::System::new().block_on(async {
        let rt = runtime();
        let spec = PoolSpec {
            id: PoolId::new("LAP-1").unwrap(),
            config: PoolConfig {
                currency: eur(),
                levels: vec![level("mini", 1000, 5000, 5000)],
            },
            halls: Some(vec![HallId::new("H-7").unwrap()]),
        };
        let state = rt.create_pool(spec.clone()).await.unwrap();
        assert_eq!(state.levels[0].level, 1000);
        assert!(matches!(
            rt.create_pool(spec).await.unwrap_err(),
            PoolAdminError::Exists(_)
        ));
        let bad = PoolSpec {
            id: PoolId::new("LAP-2").unwrap(),
            config: PoolConfig {
                currency: eur(),
                levels: vec![],
            },
            halls: None,
        };
        assert!(matches!(
            rt.create_pool(bad).await.unwrap_err(),
            PoolAdminError::Invalid(_)
        ));
        let ids: Vec<String> = rt.pool_specs().iter().map(|s| s.id.to_string()).collect();
        assert_eq!(ids, ["P", "LAP-1"]);
        let h7 = rt.machine_profile(&HallId::new("H-7").unwrap()).pools;
        assert_eq!(h7.len(), 2, "{h7:?}");
        let h8 = rt.machine_profile(&HallId::new("H-8").unwrap()).pools;
        assert_eq!(h8.len(), 1, "only the wide-area pool: {h8:?}");
        // The new pool takes contributions like a configured one.
        contribute(&rt, "LAP-1", 1);
        rt.quiesce().await;
        assert!(pool_state(&rt, "LAP-1").await.levels[0].contributed_micro > 0);
        rt.stop();
    });
}
