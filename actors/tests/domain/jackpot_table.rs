//! Table-driven tests of the jackpot pool state machine: exact contributions, progressive
//! claims, mystery hits from an injected (scripted) hit point source, ceilings and
//! overflow, pending configuration changes, replay deduplication and configuration checks.

use std::collections::VecDeque;
use std::str::FromStr;

use pitboss_actors::domain::jackpot::{
    HitPointSource, JackpotHit, LevelConfig, PoolCommand, PoolConfig, PoolMeta, PoolState,
    LEVELS_MAX, MICRO,
};
use pitboss_actors::domain::machine::Alert;
use pitboss_actors::domain::money::AMOUNT_MAX;
use pitboss_actors::domain::Applied;
use pitboss_actors::domain::{
    Amount, Currency, DomainError, EventId, MachineId, PlayerId, PoolId, SourceKey,
};
use rust_decimal::Decimal;

/// One call of the hit point source.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Draw {
    pool: String,
    level: u8,
    reset: u64,
    lo: i64,
    hi: i64,
}

/// Test double: hands out scripted hit points in order (the top of the range once the script
/// is used up) and records every draw it was asked for.
#[derive(Default)]
struct Scripted {
    points: VecDeque<i64>,
    draws: Vec<Draw>,
}

impl Scripted {
    fn new(points: &[i64]) -> Self {
        Self {
            points: points.iter().copied().collect(),
            draws: Vec::new(),
        }
    }
}

impl HitPointSource for Scripted {
    fn draw(&mut self, pool: &PoolId, level: u8, reset: u64, lo: i64, hi: i64) -> i64 {
        self.draws.push(Draw {
            pool: pool.to_string(),
            level,
            reset,
            lo,
            hi,
        });
        self.points.pop_front().unwrap_or(hi)
    }
}

fn draw(level: u8, reset: u64, lo: i64, hi: i64) -> Draw {
    Draw {
        pool: "P-1".into(),
        level,
        reset,
        lo,
        hi,
    }
}

fn amount(minor: i64) -> Amount {
    Amount::new(minor).expect("valid test amount")
}

fn eur() -> Currency {
    Currency::new("EUR").unwrap()
}

fn machine(id: &str) -> MachineId {
    MachineId::new(id).unwrap()
}

fn progressive(name: &str, seed: i64, ppm: i64, cap: Option<i64>) -> LevelConfig {
    LevelConfig {
        name: name.into(),
        seed,
        contribution_ppm: ppm,
        ceiling: cap,
        mystery: false,
        min_bet: 0,
    }
}

fn mystery(name: &str, seed: i64, ppm: i64, ceiling: i64) -> LevelConfig {
    LevelConfig {
        name: name.into(),
        seed,
        contribution_ppm: ppm,
        ceiling: Some(ceiling),
        mystery: true,
        min_bet: 0,
    }
}

fn pool(levels: Vec<LevelConfig>, rng: &mut Scripted) -> PoolState {
    let p = PoolState::new(
        PoolId::new("P-1").unwrap(),
        PoolConfig {
            currency: eur(),
            levels,
        },
        rng,
    )
    .expect("valid pool");
    p.assert_invariants();
    p
}

/// Feeds a pool from machines, numbering each machine's commands 1, 2, ...
struct Feeder {
    seqs: std::collections::HashMap<String, u64>,
}

impl Feeder {
    fn new() -> Self {
        Self {
            seqs: Default::default(),
        }
    }

    fn meta(&mut self, m: &str) -> PoolMeta {
        let seq = self.seqs.entry(m.to_string()).or_insert(0);
        *seq += 1;
        PoolMeta {
            source: SourceKey::Machine(machine(m)),
            seq: *seq,
            cause: EventId(u128::from(*seq) << 8),
        }
    }

    fn bet(&mut self, p: &mut PoolState, rng: &mut Scripted, m: &str, bet: i64) -> Vec<JackpotHit> {
        let meta = self.meta(m);
        let mut hits = Vec::new();
        let cmd = PoolCommand::Contribute {
            machine: machine(m),
            bet: amount(bet),
            eligible: true,
        };
        assert_eq!(p.apply(&meta, &cmd, rng, &mut hits), Ok(Applied::Done));
        p.assert_invariants();
        hits
    }

    fn claim(
        &mut self,
        p: &mut PoolState,
        rng: &mut Scripted,
        m: &str,
        level: u8,
    ) -> Result<Vec<JackpotHit>, DomainError> {
        let meta = self.meta(m);
        let mut hits = Vec::new();
        let cmd = PoolCommand::Claim {
            machine: machine(m),
            level,
            bet: 0,
            amount: None,
        };
        let r = p.apply(&meta, &cmd, rng, &mut hits);
        p.assert_invariants();
        match r {
            Ok(applied) => {
                assert_eq!(applied, Applied::Done);
                Ok(hits)
            }
            Err(e) => {
                assert!(hits.is_empty());
                Err(e)
            }
        }
    }
}

/// Checks the bookkeeping identity of every level: held = (seeded - paid) + contributed.
fn assert_books(p: &PoolState) {
    for l in &p.levels {
        let held =
            (i128::from(l.level) + i128::from(l.reserve)) * i128::from(MICRO) + i128::from(l.frac);
        assert_eq!(
            held,
            (i128::from(l.seeded) - i128::from(l.paid)) * i128::from(MICRO) + l.contributed_micro,
            "level {}",
            l.config.name
        );
    }
    let total: i128 = p
        .levels
        .iter()
        .map(|l| {
            (i128::from(l.seeded) - i128::from(l.paid)) * i128::from(MICRO) + l.contributed_micro
        })
        .sum();
    assert_eq!(p.held_micro(), total);
}

// ---------------------------------------------------------------------------------------------
// Rates

#[test]
fn ppm_from_percent_table() {
    let table: &[(&str, Result<i64, ()>)] = &[
        ("0.75", Ok(7_500)),
        ("0", Ok(0)),
        ("0.0", Ok(0)),
        ("100", Ok(1_000_000)),
        ("100.0000", Ok(1_000_000)),
        ("0.0001", Ok(1)),
        ("1.5", Ok(15_000)),
        ("12.34560", Ok(123_456)),
        ("3", Ok(30_000)),
        ("0.00010000", Ok(1)),
        ("0.00001", Err(())),
        ("0.00015", Err(())),
        ("-0.75", Err(())),
        ("-0.0001", Err(())),
        ("100.0001", Err(())),
        ("1000", Err(())),
    ];
    for (text, want) in table {
        let percent = Decimal::from_str(text).unwrap();
        let got = LevelConfig::ppm_from_percent(percent);
        match (want, &got) {
            (Ok(ppm), Ok(p)) => assert_eq!(p, ppm, "{text}%"),
            (Err(()), Err(DomainError::InvalidPoolConfig(msg))) => {
                assert!(
                    msg.starts_with(&format!("contribution {text}%")),
                    "{text}%: {msg}"
                );
            }
            _ => panic!("{text}%: expected {want:?}, got {got:?}"),
        }
    }
    assert_eq!(
        LevelConfig::ppm_from_percent(Decimal::from_str("0.00001").unwrap())
            .unwrap_err()
            .to_string(),
        "invalid pool configuration: contribution 0.00001% must be between 0 and 100 in steps of 0.0001"
    );
}

#[test]
fn ppm_from_percent_refuses_absurd_rates_without_panicking() {
    for percent in [
        Decimal::MAX,
        Decimal::MIN,
        Decimal::from_str("79228162514264337593543950").unwrap(),
    ] {
        assert!(
            matches!(
                LevelConfig::ppm_from_percent(percent),
                Err(DomainError::InvalidPoolConfig(_))
            ),
            "{percent}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Contributions

#[test]
fn fractional_remainder_is_kept_exactly() {
    let mut rng = Scripted::default();
    // 0.75% of a bet of one minor unit is 7500 micro-units: three quarters of a cent... per 100.
    let ppm = LevelConfig::ppm_from_percent(Decimal::from_str("0.75").unwrap()).unwrap();
    let mut p = pool(vec![progressive("mini", 1_000, ppm, None)], &mut rng);
    let mut feed = Feeder::new();
    for i in 1..=400i64 {
        assert!(feed.bet(&mut p, &mut rng, "M-1", 1).is_empty());
        let l = &p.levels[0];
        assert_eq!(l.contributed_micro, i128::from(i * 7_500));
        assert_eq!(l.level, 1_000 + i * 7_500 / MICRO, "after {i} bets");
        assert_eq!(l.frac, i * 7_500 % MICRO, "after {i} bets");
    }
    // 134 bets of 1 reach the first whole unit: 1_005_000 micro-units.
    let mut p2 = pool(vec![progressive("mini", 1_000, ppm, None)], &mut rng);
    let mut feed2 = Feeder::new();
    for _ in 0..133 {
        feed2.bet(&mut p2, &mut rng, "M-1", 1);
    }
    assert_eq!((p2.levels[0].level, p2.levels[0].frac), (1_000, 997_500));
    feed2.bet(&mut p2, &mut rng, "M-1", 1);
    assert_eq!((p2.levels[0].level, p2.levels[0].frac), (1_001, 5_000));
    // A bet of 100.00 contributes exactly 0.75: 75 units, no remainder.
    feed2.bet(&mut p2, &mut rng, "M-1", 10_000);
    assert_eq!((p2.levels[0].level, p2.levels[0].frac), (1_076, 5_000));
    assert_books(&p2);
    assert!(rng.draws.is_empty(), "no draws for progressive levels");
}

#[test]
fn contributions_of_each_level_are_exact_and_independent() {
    let mut rng = Scripted::default();
    let mut p = pool(
        vec![
            progressive("a", 0, 5_000, None),
            progressive("b", 10, 3_333, None),
            progressive("c", 20, 0, None),
            progressive("d", 30, 1, None),
        ],
        &mut rng,
    );
    let mut feed = Feeder::new();
    let bets = [1_234i64, 7, 999_999, 1, 50_000, 3];
    for b in bets {
        feed.bet(&mut p, &mut rng, "M-1", b);
    }
    let total: i64 = bets.iter().sum();
    for (i, (seed, ppm)) in [(0, 5_000), (10, 3_333), (20, 0), (30, 1)]
        .iter()
        .enumerate()
    {
        let l = &p.levels[i];
        let micro = total * ppm;
        assert_eq!(l.contributed_micro, i128::from(micro), "level {i}");
        assert_eq!(l.level, seed + micro / MICRO, "level {i}");
        assert_eq!(l.frac, micro % MICRO, "level {i}");
    }
    assert_books(&p);
}

#[test]
fn largest_bet_at_the_full_rate_does_not_overflow() {
    let mut rng = Scripted::default();
    let mut p = pool(vec![progressive("all", 0, MICRO, None)], &mut rng);
    let mut feed = Feeder::new();
    feed.bet(&mut p, &mut rng, "M-1", AMOUNT_MAX);
    assert_eq!(p.levels[0].level, AMOUNT_MAX);
    assert_eq!(p.levels[0].frac, 0);
    let hits = feed.claim(&mut p, &mut rng, "M-1", 0).unwrap();
    assert_eq!(hits[0].amount.minor(), AMOUNT_MAX);
    assert_books(&p);
}

// ---------------------------------------------------------------------------------------------
// Progressive levels

#[test]
fn progressive_claim_pays_the_level_and_resets_to_seed() {
    let mut rng = Scripted::default();
    let mut p = pool(vec![progressive("major", 50_000, 10_000, None)], &mut rng);
    let mut feed = Feeder::new();
    feed.bet(&mut p, &mut rng, "M-1", 12_345); // 123.45 units
    assert_eq!((p.levels[0].level, p.levels[0].frac), (50_123, 450_000));

    let hits = feed.claim(&mut p, &mut rng, "M-2", 0).unwrap();
    assert_eq!(
        hits,
        vec![JackpotHit {
            pool: PoolId::new("P-1").unwrap(),
            level: 0,
            name: "major".into(),
            amount: amount(50_123),
            machine: machine("M-2"),
            hit_number: 1,
            cause: EventId(1 << 8),
        }]
    );
    let l = &p.levels[0];
    assert_eq!(l.level, 50_000, "reset to seed");
    assert_eq!(l.frac, 450_000, "the remainder stays with the level");
    assert_eq!((l.hits, l.paid, l.seeded), (1, 50_123, 100_000));
    assert_books(&p);

    // The next hit pays the fresh seed plus what came in since, with the next number.
    feed.bet(&mut p, &mut rng, "M-1", 55); // 0.55 + 0.45 remainder = 1 unit
    let hits = feed.claim(&mut p, &mut rng, "M-1", 0).unwrap();
    assert_eq!(hits[0].amount, amount(50_001));
    assert_eq!(hits[0].hit_number, 2);
    assert_eq!(hits[0].machine, machine("M-1"));
    assert_eq!((p.levels[0].paid, p.levels[0].seeded), (100_124, 150_000));
    assert_books(&p);
}

#[test]
fn progressive_cap_holds_the_excess_in_reserve_for_the_next_reset() {
    let mut rng = Scripted::default();
    let mut p = pool(
        vec![progressive("minor", 1_000, 100_000, Some(1_500))],
        &mut rng,
    );
    let mut feed = Feeder::new();
    feed.bet(&mut p, &mut rng, "M-1", 4_000); // +400
    assert_eq!((p.levels[0].level, p.levels[0].reserve), (1_400, 0));
    feed.bet(&mut p, &mut rng, "M-1", 3_000); // +300: 200 above the cap
    assert_eq!((p.levels[0].level, p.levels[0].reserve), (1_500, 200));
    feed.bet(&mut p, &mut rng, "M-1", 5_000); // +500, all to the reserve
    assert_eq!((p.levels[0].level, p.levels[0].reserve), (1_500, 700));
    assert_books(&p);

    let hits = feed.claim(&mut p, &mut rng, "M-1", 0).unwrap();
    assert_eq!(hits[0].amount, amount(1_500), "never more than the cap");
    // Reset: seed 1000 topped up from the reserve to at most the cap.
    assert_eq!((p.levels[0].level, p.levels[0].reserve), (1_500, 200));
    let hits = feed.claim(&mut p, &mut rng, "M-1", 0).unwrap();
    assert_eq!(hits[0].amount, amount(1_500));
    assert_eq!((p.levels[0].level, p.levels[0].reserve), (1_200, 0));
    assert_eq!(p.levels[0].paid, 3_000);
    assert_eq!(p.levels[0].seeded, 3_000);
    assert_books(&p);
}

#[test]
fn claim_of_an_empty_level_is_refused_and_changes_nothing() {
    let mut rng = Scripted::default();
    let mut p = pool(vec![progressive("mini", 0, 1_000, None)], &mut rng);
    let mut feed = Feeder::new();
    let before = p.clone();
    let err = feed.claim(&mut p, &mut rng, "M-1", 0).unwrap_err();
    assert_eq!(err, DomainError::NonPositiveAmount(0));
    let mut want = before;
    want.last_seq.insert(SourceKey::Machine(machine("M-1")), 1);
    assert_eq!(p, want);
}

#[test]
fn claims_of_unknown_or_mystery_levels_are_refused() {
    let mut rng = Scripted::new(&[1_200]);
    let mut p = pool(
        vec![
            progressive("mini", 100, 1_000, None),
            mystery("grand", 1_000, 1_000, 2_000),
        ],
        &mut rng,
    );
    let mut feed = Feeder::new();
    feed.bet(&mut p, &mut rng, "M-1", 1_000);
    let table: &[(u8, &str)] = &[
        (
            1,
            "level 1 of pool P-1 is a mystery level; machines cannot claim its hits",
        ),
        (2, "pool P-1 has no level 2"),
        (255, "pool P-1 has no level 255"),
    ];
    for (level, msg) in table {
        let before = p.clone();
        let err = feed.claim(&mut p, &mut rng, "M-7", *level).unwrap_err();
        assert_eq!(err.to_string(), *msg);
        // Nothing changed but the sender's last sequence number.
        let mut want = before;
        let seq = *feed.seqs.get("M-7").unwrap();
        want.last_seq
            .insert(SourceKey::Machine(machine("M-7")), seq);
        assert_eq!(p, want, "level {level}");
    }
    assert_eq!(
        feed.claim(&mut p, &mut rng, "M-7", 1),
        Err(DomainError::MysteryClaim {
            pool: "P-1".into(),
            level: 1,
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Pending configuration changes

#[test]
fn pending_change_takes_effect_at_the_next_reset_only() {
    let mut rng = Scripted::default();
    let mut p = pool(vec![progressive("major", 10_000, 10_000, None)], &mut rng);
    let mut feed = Feeder::new();
    feed.bet(&mut p, &mut rng, "M-1", 1_000); // +10 at 1%
    let next = progressive("major", 20_000, 50_000, Some(30_000));
    p.schedule_change(0, next.clone()).unwrap();
    assert_eq!(p.levels[0].pending, Some(next.clone()));
    assert_eq!(p.levels[0].config.seed, 10_000, "not yet in force");

    // Still the old rate and the old (absent) cap until the level is won.
    feed.bet(&mut p, &mut rng, "M-1", 1_000);
    assert_eq!(p.levels[0].level, 10_020);
    feed.bet(&mut p, &mut rng, "M-1", 3_000_000); // +30000 at 1%: no cap yet
    assert_eq!(p.levels[0].level, 40_020);
    assert_eq!(p.levels[0].reserve, 0);

    let hits = feed.claim(&mut p, &mut rng, "M-1", 0).unwrap();
    assert_eq!(
        hits[0].amount,
        amount(40_020),
        "the prize built under the old rules"
    );
    let l = &p.levels[0];
    assert_eq!(l.config, next);
    assert_eq!(l.pending, None);
    assert_eq!(l.level, 20_000, "the new seed");
    assert_eq!(l.seeded, 30_000, "old seed at start, new seed at the reset");

    // Now the new rate (5%) and the new cap apply.
    feed.bet(&mut p, &mut rng, "M-1", 1_000);
    assert_eq!(p.levels[0].level, 20_050);
    feed.bet(&mut p, &mut rng, "M-1", 1_000_000);
    assert_eq!((p.levels[0].level, p.levels[0].reserve), (30_000, 40_050));
    assert_books(&p);
}

#[test]
fn pending_change_of_a_mystery_level_waits_for_its_hit() {
    let mut rng = Scripted::new(&[1_500]);
    let mut p = pool(vec![mystery("grand", 1_000, 100_000, 2_000)], &mut rng);
    let mut feed = Feeder::new();
    p.schedule_change(0, mystery("grand", 3_000, 200_000, 5_000))
        .unwrap();
    assert!(feed.bet(&mut p, &mut rng, "M-1", 4_000).is_empty()); // +400 at 10%
    assert_eq!(p.levels[0].level, 1_400);
    let hits = feed.bet(&mut p, &mut rng, "M-1", 1_000); // +100: reaches 1500
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].amount, amount(1_500));
    assert_eq!(p.levels[0].level, 3_000);
    assert_eq!(
        rng.draws,
        vec![draw(0, 0, 1_001, 2_000), draw(0, 1, 3_001, 5_000)],
        "the next hit point is drawn under the new seed and ceiling"
    );
    feed.bet(&mut p, &mut rng, "M-1", 1_000); // +200 at 20%
    assert_eq!(p.levels[0].level, 3_200);
    assert_books(&p);
}

#[test]
fn schedule_change_is_validated() {
    let mut rng = Scripted::default();
    let mut p = pool(vec![progressive("mini", 100, 1_000, None)], &mut rng);
    assert_eq!(
        p.schedule_change(3, progressive("mini", 100, 1_000, None)),
        Err(DomainError::UnknownLevel {
            pool: "P-1".into(),
            level: 3,
        })
    );
    assert_eq!(
        p.schedule_change(0, progressive("mini", 100, 1_000, Some(100)))
            .unwrap_err()
            .to_string(),
        "invalid pool configuration: level mini: ceiling 100 must be above the seed 100"
    );
    assert_eq!(p.levels[0].pending, None);
    // A later schedule replaces an earlier one.
    p.schedule_change(0, progressive("mini", 200, 1_000, None))
        .unwrap();
    p.schedule_change(0, progressive("mini", 300, 1_000, None))
        .unwrap();
    let mut feed = Feeder::new();
    feed.claim(&mut p, &mut rng, "M-1", 0).unwrap();
    assert_eq!(p.levels[0].level, 300);
}

// ---------------------------------------------------------------------------------------------
// Mystery levels

#[test]
fn mystery_level_hits_when_it_reaches_the_drawn_point() {
    let mut rng = Scripted::new(&[1_050, 1_500]);
    let mut p = pool(vec![mystery("grand", 1_000, 100_000, 2_000)], &mut rng);
    assert_eq!(p.levels[0].hit_point, Some(1_050));
    assert_eq!(rng.draws, vec![draw(0, 0, 1_001, 2_000)]);
    let mut feed = Feeder::new();

    assert!(feed.bet(&mut p, &mut rng, "M-1", 499).is_empty()); // +49.9
    assert_eq!((p.levels[0].level, p.levels[0].frac), (1_049, 900_000));
    let hits = feed.bet(&mut p, &mut rng, "M-2", 1); // +0.1: exactly 1050
    assert_eq!(
        hits,
        vec![JackpotHit {
            pool: PoolId::new("P-1").unwrap(),
            level: 0,
            name: "grand".into(),
            amount: amount(1_050),
            machine: machine("M-2"),
            hit_number: 1,
            cause: EventId(1 << 8),
        }]
    );
    let l = &p.levels[0];
    assert_eq!((l.level, l.frac, l.hits), (1_000, 0, 1));
    assert_eq!((l.paid, l.seeded), (1_050, 2_000));
    assert_eq!(l.hit_point, Some(1_500));
    assert_eq!(rng.draws[1], draw(0, 1, 1_001, 2_000));
    assert_books(&p);
}

#[test]
fn mystery_level_never_pays_above_its_ceiling_and_carries_the_overflow() {
    let mut rng = Scripted::new(&[2_000]);
    let mut p = pool(vec![mystery("grand", 1_000, 100_000, 2_000)], &mut rng);
    let mut feed = Feeder::new();
    assert!(feed.bet(&mut p, &mut rng, "M-1", 9_900).is_empty()); // +990
    assert_eq!(p.levels[0].level, 1_990);
    let hits = feed.bet(&mut p, &mut rng, "M-1", 1_000); // +100: 2090
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].amount, amount(2_000), "the ceiling, not the level");
    assert_eq!(p.levels[0].level, 1_090, "seed + 90 carried over");
    assert_eq!(rng.draws[1], draw(0, 1, 1_091, 2_000));
    assert_books(&p);
}

#[test]
fn overflow_larger_than_a_whole_cycle_is_paid_out_ceiling_by_ceiling() {
    let mut rng = Scripted::new(&[1_500]);
    let mut p = pool(vec![mystery("grand", 1_000, 100_000, 2_000)], &mut rng);
    let mut feed = Feeder::new();
    let hits = feed.bet(&mut p, &mut rng, "M-1", 50_000); // +5000: level 6000
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].amount, amount(2_000));
    assert_eq!(p.levels[0].level, 5_000);
    assert_eq!(
        p.levels[0].hit_point,
        Some(2_000),
        "past the ceiling: hits next time"
    );
    assert_eq!(rng.draws[1], draw(0, 1, 2_000, 2_000));
    // Every later contribution, however small, pays one more ceiling until the level is back.
    let mut amounts = Vec::new();
    for _ in 0..6 {
        for h in feed.bet(&mut p, &mut rng, "M-1", 1) {
            amounts.push((h.amount.minor(), h.hit_number));
        }
    }
    assert_eq!(amounts, [(2_000, 2), (2_000, 3), (2_000, 4), (2_000, 5)]);
    assert_eq!(p.levels[0].level, 1_000);
    assert_eq!(p.levels[0].paid, 10_000);
    assert_eq!(p.levels[0].seeded, 6_000);
    assert_books(&p);
}

#[test]
fn mystery_level_with_a_low_point_draw_hits_on_its_first_unit() {
    // A source drawing the lowest point: the level hits as soon as it gains one unit.
    let mut rng = Scripted::new(&[101, 101, 101]);
    let mut p = pool(vec![mystery("mini", 100, 1_000_000, 10_000)], &mut rng);
    let mut feed = Feeder::new();
    let hits = feed.bet(&mut p, &mut rng, "M-1", 1);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].amount, amount(101));
    let hits = feed.bet(&mut p, &mut rng, "M-1", 1);
    assert_eq!(hits[0].amount, amount(101));
    assert_eq!(hits[0].hit_number, 2);
    assert_eq!(
        rng.draws.iter().map(|d| d.reset).collect::<Vec<_>>(),
        [0, 1, 2]
    );
}

// ---------------------------------------------------------------------------------------------
// Replays

#[test]
fn replay_of_a_source_sequence_number_is_a_duplicate() {
    let mut rng = Scripted::new(&[1_500]);
    let mut p = pool(
        vec![
            progressive("mini", 100, 10_000, None),
            mystery("grand", 1_000, 10_000, 2_000),
        ],
        &mut rng,
    );
    let m1 = SourceKey::Machine(machine("M-1"));
    let contribute = |bet: i64| PoolCommand::Contribute {
        machine: machine("M-1"),
        bet: amount(bet),
        eligible: true,
    };
    let meta = |source: &SourceKey, seq: u64| PoolMeta {
        source: source.clone(),
        seq,
        cause: EventId(u128::from(seq)),
    };
    let mut hits = Vec::new();
    assert_eq!(
        p.apply(&meta(&m1, 5), &contribute(10_000), &mut rng, &mut hits),
        Ok(Applied::Done)
    );
    assert!(hits.is_empty());
    let snapshot = p.clone();
    // The same number again, or an older one: nothing applied, whatever the command says.
    for (seq, cmd) in [
        (5, contribute(10_000)),
        (5, contribute(99_999)),
        (4, contribute(1)),
        (0, contribute(1)),
        (
            3,
            PoolCommand::Claim {
                machine: machine("M-1"),
                level: 0,
                bet: 0,
                amount: None,
            },
        ),
    ] {
        assert_eq!(
            p.apply(&meta(&m1, seq), &cmd, &mut rng, &mut hits),
            Ok(Applied::Duplicate),
            "seq {seq}"
        );
    }
    assert!(hits.is_empty());
    assert_eq!(p, snapshot);

    // Other sources have their own numbers.
    let m2 = SourceKey::Machine(machine("M-2"));
    let wallet = SourceKey::Wallet(PlayerId::new("M-1").unwrap());
    for source in [&m2, &wallet] {
        assert_eq!(
            p.apply(&meta(source, 5), &contribute(100), &mut rng, &mut hits),
            Ok(Applied::Done)
        );
    }
    assert_eq!(p.levels[0].level, 100 + 100 + 1 + 1);

    // A replayed claim is paid once.
    let claim = PoolCommand::Claim {
        machine: machine("M-1"),
        level: 0,
        bet: 0,
        amount: None,
    };
    p.apply(&meta(&m1, 6), &claim, &mut rng, &mut hits).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        p.apply(&meta(&m1, 6), &claim, &mut rng, &mut hits),
        Ok(Applied::Duplicate)
    );
    assert_eq!(hits.len(), 1);
    assert_eq!(p.levels[0].hits, 1);

    // A refused claim is decided once too: its replay is a duplicate, not a second refusal.
    let mystery_claim = PoolCommand::Claim {
        machine: machine("M-1"),
        level: 1,
        bet: 0,
        amount: None,
    };
    assert!(p
        .apply(&meta(&m1, 7), &mystery_claim, &mut rng, &mut hits)
        .is_err());
    assert_eq!(
        p.apply(&meta(&m1, 7), &mystery_claim, &mut rng, &mut hits),
        Ok(Applied::Duplicate)
    );
    p.assert_invariants();
    assert_books(&p);
}

// ---------------------------------------------------------------------------------------------
// Multi-level pools

#[test]
fn mini_minor_major_grand_pool() {
    let mut rng = Scripted::new(&[600_000]);
    let mut p = pool(
        vec![
            progressive("mini", 1_000, 2_000, None),
            progressive("minor", 5_000, 1_500, Some(5_100)),
            progressive("major", 50_000, 1_000, None),
            mystery("grand", 500_000, 500, 1_000_000),
        ],
        &mut rng,
    );
    assert_eq!(rng.draws, vec![draw(3, 0, 500_001, 1_000_000)]);
    assert_eq!(p.held_micro(), 556_000 * i128::from(MICRO));
    let mut feed = Feeder::new();
    for i in 0..100 {
        let m = if i % 2 == 0 { "M-1" } else { "M-2" };
        assert!(feed.bet(&mut p, &mut rng, m, 1_000).is_empty());
    }
    let levels: Vec<(i64, i64)> = p.levels.iter().map(|l| (l.level, l.reserve)).collect();
    assert_eq!(
        levels,
        [(1_200, 0), (5_100, 50), (50_100, 0), (500_050, 0)],
        "100 000 wagered at 0.2%, 0.15% (capped at 5100), 0.1% and 0.05%"
    );

    // A minor hit pays the minor only.
    let hits = feed.claim(&mut p, &mut rng, "M-2", 1).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].name.as_str(), hits[0].amount.minor()),
        ("minor", 5_100)
    );
    let levels: Vec<(i64, i64)> = p.levels.iter().map(|l| (l.level, l.reserve)).collect();
    assert_eq!(levels, [(1_200, 0), (5_050, 0), (50_100, 0), (500_050, 0)]);
    // A mini hit, then the major.
    let hits = feed.claim(&mut p, &mut rng, "M-1", 0).unwrap();
    assert_eq!(
        (hits[0].name.as_str(), hits[0].amount.minor()),
        ("mini", 1_200)
    );
    let hits = feed.claim(&mut p, &mut rng, "M-1", 2).unwrap();
    assert_eq!(
        (hits[0].name.as_str(), hits[0].amount.minor()),
        ("major", 50_100)
    );
    let summary: Vec<(u64, i64, i64)> = p
        .levels
        .iter()
        .map(|l| (l.hits, l.paid, l.seeded))
        .collect();
    assert_eq!(
        summary,
        [
            (1, 1_200, 2_000),
            (1, 5_100, 10_000),
            (1, 50_100, 100_000),
            (0, 0, 500_000)
        ]
    );
    // The grand hits only when it reaches its point: 100 000 more units need 200 000 000 wagered.
    let hits = feed.bet(&mut p, &mut rng, "M-1", 199_900_000);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].name.as_str(), hits[0].amount.minor()),
        ("grand", 600_000)
    );
    assert_eq!(hits[0].level, 3);
    // The same bet fed the other levels.
    assert_eq!(p.levels[0].level, 1_000 + 399_800);
    assert_books(&p);
}

// ---------------------------------------------------------------------------------------------
// Configuration checks

#[test]
fn configuration_errors() {
    let ok = progressive("mini", 1_000, 1_000, None);
    let many = |n: usize| -> Vec<LevelConfig> {
        (0..n)
            .map(|i| progressive(&format!("l{i}"), 10, 1_000, None))
            .collect()
    };
    let table: Vec<(&str, Vec<LevelConfig>, Option<&str>)> = vec![
        ("one level", vec![ok.clone()], None),
        ("sixteen levels", many(LEVELS_MAX), None),
        (
            "whole bet across levels",
            vec![
                progressive("a", 0, 600_000, None),
                progressive("b", 0, 400_000, None),
            ],
            None,
        ),
        ("seed zero", vec![progressive("a", 0, 1, None)], None),
        (
            "seed at the maximum",
            vec![progressive("a", AMOUNT_MAX, 1, None)],
            None,
        ),
        (
            "mystery with ceiling just above seed",
            vec![mystery("g", 10, 1, 11)],
            None,
        ),
        (
            "no levels",
            vec![],
            Some("a pool needs 1 to 16 levels, got 0"),
        ),
        (
            "seventeen levels",
            many(LEVELS_MAX + 1),
            Some("a pool needs 1 to 16 levels, got 17"),
        ),
        (
            "more than the whole bet",
            vec![
                progressive("a", 0, 600_000, None),
                progressive("b", 0, 400_001, None),
            ],
            Some("contributions add up to 1000001 ppm, more than the whole bet"),
        ),
        (
            "negative seed",
            vec![progressive("mini", -1, 1, None)],
            Some("level mini: seed -1 out of range"),
        ),
        (
            "seed above the largest amount",
            vec![progressive("mini", AMOUNT_MAX + 1, 1, None)],
            Some("level mini: seed 1000000000001 out of range"),
        ),
        (
            "negative rate",
            vec![progressive("mini", 0, -1, None)],
            Some("level mini: contribution -1 ppm out of range"),
        ),
        (
            "ceiling equal to the seed",
            vec![progressive("mini", 1_000, 1, Some(1_000))],
            Some("level mini: ceiling 1000 must be above the seed 1000"),
        ),
        (
            "ceiling below the seed",
            vec![mystery("grand", 1_000, 1, 999)],
            Some("level grand: ceiling 999 must be above the seed 1000"),
        ),
        (
            "ceiling above the largest amount",
            vec![mystery("grand", 1_000, 1, AMOUNT_MAX + 1)],
            Some("level grand: ceiling 1000000000001"),
        ),
        (
            "mystery without a ceiling",
            vec![LevelConfig {
                ceiling: None,
                ..mystery("grand", 1_000, 1, 2_000)
            }],
            Some("level grand: a mystery level needs a ceiling"),
        ),
    ];
    for (name, levels, want) in table {
        let config = PoolConfig {
            currency: eur(),
            levels,
        };
        let got = config.validate();
        let mut rng = Scripted::default();
        let built = PoolState::new(PoolId::new("P-1").unwrap(), config, &mut rng);
        match want {
            None => {
                assert_eq!(got, Ok(()), "{name}");
                built.expect(name).assert_invariants();
            }
            Some(msg) => {
                match &got {
                    Err(DomainError::InvalidPoolConfig(m)) => {
                        assert!(
                            m.starts_with(msg),
                            "{name}: {m:?} does not start with {msg:?}"
                        )
                    }
                    other => panic!("{name}: expected a configuration error, got {other:?}"),
                }
                assert_eq!(built.map(|_| ()), got, "{name}: PoolState::new");
                assert!(rng.draws.is_empty(), "{name}: no draw for a refused pool");
            }
        }
    }
}

#[test]
fn absurd_rates_are_refused_without_overflowing() {
    // Rates far out of range on several levels must be refused, not overflow the total.
    let config = PoolConfig {
        currency: eur(),
        levels: vec![
            progressive("a", 0, i64::MAX, None),
            progressive("b", 0, i64::MAX, None),
        ],
    };
    assert!(matches!(
        config.validate(),
        Err(DomainError::InvalidPoolConfig(_))
    ));
    let config = PoolConfig {
        currency: eur(),
        levels: vec![
            progressive("a", 0, i64::MIN, None),
            progressive("b", 0, 1_000, None),
        ],
    };
    assert_eq!(
        config.validate(),
        Err(DomainError::InvalidPoolConfig(
            "level a: contribution -9223372036854775808 ppm out of range".into()
        ))
    );
}

#[test]
fn version_2_claim_pays_what_the_machine_paid_and_books_the_variance() {
    // RULES.md P-3: the level resets at once; the machine is paid what the EGM showed; the
    // difference is a jackpot variance, alerted; a refused claim is alerted with its code.
    let mut rng = Scripted::new(&[]);
    let mut p = pool(vec![progressive("mini", 1_000, 10_000, None)], &mut rng);
    let m1 = SourceKey::Machine(machine("M-1"));
    let meta = |seq: u64| PoolMeta {
        source: m1.clone(),
        seq,
        cause: EventId(u128::from(seq)),
    };
    let mut hits = Vec::new();
    let bet = PoolCommand::Contribute {
        machine: machine("M-1"),
        bet: amount(10_000),
        eligible: true,
    };
    p.apply(&meta(1), &bet, &mut rng, &mut hits).unwrap();
    assert_eq!(p.levels[0].level, 1_100);
    let claim = PoolCommand::Claim {
        machine: machine("M-1"),
        level: 0,
        bet: 10_000,
        amount: Some(amount(1_150)),
    };
    let before = p.paid_of(&claim);
    let r = p.apply(&meta(2), &claim, &mut rng, &mut hits);
    assert_eq!(r, Ok(Applied::Done));
    assert_eq!(hits[0].amount, amount(1_150));
    assert_eq!(p.levels[0].level, 1_000, "reset to its seed");
    assert_eq!((p.levels[0].paid, p.levels[0].variance), (1_100, 50));
    assert_eq!(
        p.claim_alert(&claim, &r, before, &hits),
        Some(Alert::JackpotVariance {
            machine: machine("M-1"),
            pool: p.id.clone(),
            level: 0,
            level_amount: 1_100,
            paid: 1_150,
        })
    );
    p.assert_invariants();
    // A version 1 claim is paid the level's amount: no variance.
    hits.clear();
    let v1 = PoolCommand::Claim {
        machine: machine("M-1"),
        level: 0,
        bet: 10_000,
        amount: None,
    };
    let before = p.paid_of(&v1);
    let r = p.apply(&meta(3), &v1, &mut rng, &mut hits);
    assert_eq!(hits[0].amount, amount(1_000));
    assert_eq!(p.claim_alert(&v1, &r, before, &hits), None);
    // unknown_level: refused and alerted.
    let bad = PoolCommand::Claim {
        machine: machine("M-1"),
        level: 9,
        bet: 10_000,
        amount: None,
    };
    let r = p.apply(&meta(4), &bad, &mut rng, &mut hits);
    assert_eq!(r.as_ref().map_err(DomainError::code), Err("unknown_level"));
    assert_eq!(
        p.claim_alert(&bad, &r, 0, &hits),
        Some(Alert::ClaimRefused {
            machine: machine("M-1"),
            pool: p.id.clone(),
            level: 9,
            code: "unknown_level",
        })
    );
}

#[test]
fn an_ineligible_contribution_contributes_and_the_mystery_hit_waits() {
    // RULES.md P-2: a tilted or offline machine's bet still grows the level past its hit
    // point, but only the next eligible contribution wins it.
    let mut rng = Scripted::new(&[1_050]);
    let mut p = pool(vec![mystery("grand", 1_000, 10_000, 2_000)], &mut rng);
    let m1 = SourceKey::Machine(machine("M-1"));
    let meta = |seq: u64| PoolMeta {
        source: m1.clone(),
        seq,
        cause: EventId(u128::from(seq)),
    };
    let contribute = |bet: i64, eligible: bool| PoolCommand::Contribute {
        machine: machine("M-1"),
        bet: amount(bet),
        eligible,
    };
    let mut hits = Vec::new();
    p.apply(&meta(1), &contribute(10_000, false), &mut rng, &mut hits)
        .unwrap();
    assert!(hits.is_empty(), "an ineligible contribution wins nothing");
    assert_eq!(p.levels[0].level, 1_100);
    p.apply(&meta(2), &contribute(100, true), &mut rng, &mut hits)
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].amount, amount(1_101));
    p.assert_invariants();
}

#[test]
fn minimum_bet_holds_back_mystery_hits_and_refuses_claims() {
    // RULES.md P-2 and P-3: a contribution from a bet below the level's minimum contributes
    // but cannot win; a claim whose game bet less than the minimum is refused.
    let mut rng = Scripted::new(&[1_050]);
    let mut p = pool(
        vec![
            LevelConfig {
                min_bet: 500,
                ..mystery("grand", 1_000, 100_000, 2_000)
            },
            LevelConfig {
                min_bet: 200,
                ..progressive("major", 1_000, 10_000, None)
            },
        ],
        &mut rng,
    );
    let m1 = SourceKey::Machine(machine("M-1"));
    let meta = |seq: u64| PoolMeta {
        source: m1.clone(),
        seq,
        cause: EventId(u128::from(seq)),
    };
    let contribute = |bet: i64| PoolCommand::Contribute {
        machine: machine("M-1"),
        bet: amount(bet),
        eligible: true,
    };
    let mut hits = Vec::new();
    p.apply(&meta(1), &contribute(499), &mut rng, &mut hits)
        .unwrap();
    p.apply(&meta(2), &contribute(499), &mut rng, &mut hits)
        .unwrap();
    assert!(hits.is_empty(), "below the minimum bet: no hit");
    assert!(p.levels[0].level >= 1_050);
    p.apply(&meta(3), &contribute(500), &mut rng, &mut hits)
        .unwrap();
    assert_eq!(hits.len(), 1);
    let claim = |bet: i64| PoolCommand::Claim {
        machine: machine("M-1"),
        level: 1,
        bet,
        amount: None,
    };
    let r = p.apply(&meta(4), &claim(199), &mut rng, &mut hits);
    assert_eq!(r.map_err(|e| e.code()), Err("jackpot_not_eligible"));
    assert_eq!(
        p.apply(&meta(5), &claim(200), &mut rng, &mut hits),
        Ok(Applied::Done)
    );
    assert_eq!(hits.len(), 2);
    p.assert_invariants();
}
