//! The jackpot pool state machine: a controller with one or more levels (mini, minor, major,
//! grand), each funded by a share of every linked machine's bets.
//!
//! Contributions are computed exactly: a rate is held in parts per million of the bet, so a
//! contribution is an integer number of micro-units (millionths of a minor unit). The whole
//! minor units go into the level; the fractional remainder is kept with the level and carried
//! into the next contribution, never rounded away.

use super::FastMap;

use rust_decimal::Decimal;

use super::applied::Applied;
use super::error::DomainError;
use super::ids::{EventId, MachineId, PoolId, SourceKey};
use super::kinds::Total;
use super::machine::{Alert, MachineEffect};
use super::money::{add, Amount, Currency};

/// Micro-units per minor unit.
pub const MICRO: i64 = 1_000_000;
/// Most levels a pool may have.
pub const LEVELS_MAX: usize = 16;

/// Where mystery hit points come from. The core draws no randomness itself: the shell passes
/// this in, so tests are deterministic and a replay can draw the same point again (the
/// production source is keyed by pool, level and reset count).
pub trait HitPointSource {
    /// A value drawn uniformly from `lo..=hi` (`lo <= hi`).
    fn draw(&mut self, pool: &PoolId, level: u8, reset: u64, lo: i64, hi: i64) -> i64;
}

/// The configuration of one level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelConfig {
    /// Display name (`grand`, `major`...).
    pub name: String,
    /// Reset value in minor units, funded by the operator at every reset.
    pub seed: i64,
    /// Share of each bet, in parts per million.
    pub contribution_ppm: i64,
    /// Must-hit-by value (mystery) or cap (progressive); contributions above a progressive
    /// cap go to the level's reserve, which tops up the next reset.
    pub ceiling: Option<i64>,
    /// Mystery level: the controller picks a hit point; machines cannot claim it.
    pub mystery: bool,
    /// The smallest bet (a game's bets, for a claim) that may win the level, minor units
    /// (RULES.md P-2, P-3); 0 = any.
    pub min_bet: i64,
}

impl LevelConfig {
    /// Converts a contribution rate in percent (a decimal, e.g. `0.75`) to parts per million,
    /// refusing a rate finer than one part per million rather than rounding it.
    pub fn ppm_from_percent(percent: Decimal) -> Result<i64, DomainError> {
        // Checked: an absurd rate (e.g. Decimal::MAX) overflows the multiplication.
        let Some(ppm) = percent.checked_mul(Decimal::from(10_000)) else {
            return Err(DomainError::InvalidPoolConfig(format!(
                "contribution {percent}% must be between 0 and 100 in steps of 0.0001"
            )));
        };
        if ppm.fract() != Decimal::ZERO || ppm < Decimal::ZERO || ppm > Decimal::from(MICRO) {
            return Err(DomainError::InvalidPoolConfig(format!(
                "contribution {percent}% must be between 0 and 100 in steps of 0.0001"
            )));
        }
        i64::try_from(ppm.mantissa() / 10i128.pow(ppm.scale()))
            .map_err(|_| DomainError::InvalidPoolConfig(format!("contribution {percent}%")))
    }

    /// Checks a level's configuration.
    pub fn validate(&self) -> Result<(), DomainError> {
        let bad = |m: String| Err(DomainError::InvalidPoolConfig(m));
        if self.seed < 0 || self.seed > super::money::AMOUNT_MAX {
            return bad(format!(
                "level {}: seed {} out of range",
                self.name, self.seed
            ));
        }
        if self.min_bet < 0 || self.min_bet > super::money::AMOUNT_MAX {
            return bad(format!(
                "level {}: minimum bet {} out of range",
                self.name, self.min_bet
            ));
        }
        if !(0..=MICRO).contains(&self.contribution_ppm) {
            return bad(format!(
                "level {}: contribution {} ppm out of range",
                self.name, self.contribution_ppm
            ));
        }
        match self.ceiling {
            Some(c) if c <= self.seed || c > super::money::AMOUNT_MAX => bad(format!(
                "level {}: ceiling {} must be above the seed {}",
                self.name, c, self.seed
            )),
            None if self.mystery => bad(format!(
                "level {}: a mystery level needs a ceiling",
                self.name
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelState {
    /// Configuration in force.
    pub config: LevelConfig,
    /// Configuration to take effect at the next reset (after the next hit).
    pub pending: Option<LevelConfig>,
    /// Current level in minor units.
    pub level: i64,
    /// Fractional remainder, in micro-units (`0..MICRO`).
    pub frac: i64,
    /// Contributions held back above a progressive cap, in minor units.
    pub reserve: i64,
    /// The mystery hit point for this cycle.
    pub hit_point: Option<i64>,
    /// Hits so far; the number of the next hit is `hits + 1`.
    pub hits: u64,
    /// Everything contributed, in micro-units.
    pub contributed_micro: i128,
    /// Everything the operator funded as seeds, in minor units.
    pub seeded: i64,
    /// Everything paid out by hits, in minor units.
    pub paid: i64,
    /// What machines paid beyond (or, negative, below) the level's amount on version 2
    /// claims, funded by (or returned to) the operator (RULES.md P-3).
    pub variance: i64,
}

impl LevelState {
    /// Money the level holds (level, reserve, remainder), in micro-units: what its ledger
    /// balance is.
    pub fn held_micro(&self) -> i128 {
        (self.level as i128 + self.reserve as i128) * MICRO as i128 + self.frac as i128
    }
}

/// Static configuration of a pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// The pool's currency.
    pub currency: Currency,
    /// The levels, highest prize first or last as the operator likes.
    pub levels: Vec<LevelConfig>,
}

impl PoolConfig {
    /// Checks a pool's configuration.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.levels.is_empty() || self.levels.len() > LEVELS_MAX {
            return Err(DomainError::InvalidPoolConfig(format!(
                "a pool needs 1 to {LEVELS_MAX} levels, got {}",
                self.levels.len()
            )));
        }
        // Saturating: absurd rates would overflow a plain sum; saturated, they stay above
        // MICRO and are refused.
        let total: i64 = self
            .levels
            .iter()
            .fold(0i64, |t, l| t.saturating_add(l.contribution_ppm));
        if total > MICRO {
            return Err(DomainError::InvalidPoolConfig(format!(
                "contributions add up to {total} ppm, more than the whole bet"
            )));
        }
        self.levels.iter().try_for_each(LevelConfig::validate)
    }
}

/// A jackpot hit: a level paid out to a machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JackpotHit {
    pub pool: PoolId,
    /// The level index.
    pub level: u8,
    /// The level's name.
    pub name: String,
    /// The amount paid, in minor units.
    pub amount: Amount,
    /// The machine awarded.
    pub machine: MachineId,
    /// The level's hit number (1, 2, ...).
    pub hit_number: u64,
    /// The input event that caused it.
    pub cause: EventId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolCommand {
    /// A share of a bet.
    Contribute {
        /// The machine that took the bet.
        machine: MachineId,
        bet: Amount,
        /// The machine may win a mystery hit with it: online and not in tilt (RULES.md
        /// P-2). An ineligible contribution still contributes; the hit waits.
        eligible: bool,
    },
    /// A progressive hit reported by a machine.
    Claim {
        /// The machine that hit.
        machine: MachineId,
        /// The level index.
        level: u8,
        /// The bets of the machine's open game (reserved for the level's minimum bet).
        bet: i64,
        /// What the machine showed and paid (version 2), else the level's amount is paid.
        amount: Option<Amount>,
    },
}

/// Where a pool command came from, for replay deduplication.
impl PoolCommand {
    /// The pool and the command a pool effect of `machine` asks of it (None for the other
    /// effects): the one place that turns a machine's effect into a pool's command, whoever
    /// routes it (actor shell, reference processor, tests).
    pub fn of_effect<'a>(
        effect: &'a MachineEffect,
        machine: &MachineId,
    ) -> Option<(&'a PoolId, PoolCommand)> {
        match effect {
            MachineEffect::Contribute {
                pool,
                bet,
                eligible,
            } => Some((
                pool,
                PoolCommand::Contribute {
                    machine: machine.clone(),
                    bet: *bet,
                    eligible: *eligible,
                },
            )),
            MachineEffect::ClaimHit {
                pool,
                level,
                bet,
                amount,
            } => Some((
                pool,
                PoolCommand::Claim {
                    machine: machine.clone(),
                    level: *level,
                    bet: *bet,
                    amount: *amount,
                },
            )),
            MachineEffect::Ggr(_)
            | MachineEffect::Alert(_)
            | MachineEffect::Log(_)
            | MachineEffect::HandpaidWin(..)
            | MachineEffect::Voucher(_)
            | MachineEffect::Transfer(_)
            | MachineEffect::CardIn(_)
            | MachineEffect::Rated(_)
            | MachineEffect::Cash(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolMeta {
    /// The sender and its sequence number.
    pub source: SourceKey,
    /// The sender's sequence number.
    pub seq: u64,
    /// The input event that caused it.
    pub cause: EventId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolState {
    pub id: PoolId,
    pub currency: Currency,
    pub levels: Vec<LevelState>,
    /// The last sequence number applied per source.
    pub last_seq: FastMap<SourceKey, u64>,
}

impl PoolState {
    /// A new pool, every level at its seed (funded), mystery hit points drawn.
    pub fn new(
        id: PoolId,
        config: PoolConfig,
        rng: &mut dyn HitPointSource,
    ) -> Result<Self, DomainError> {
        config.validate()?;
        let mut levels: Vec<LevelState> = config
            .levels
            .into_iter()
            .map(|c| LevelState {
                level: c.seed,
                seeded: c.seed,
                config: c,
                pending: None,
                frac: 0,
                reserve: 0,
                hit_point: None,
                hits: 0,
                contributed_micro: 0,
                paid: 0,
                variance: 0,
            })
            .collect();
        for (i, l) in levels.iter_mut().enumerate() {
            draw_hit_point(&id, i as u8, l, rng);
        }
        Ok(Self {
            id,
            currency: config.currency,
            levels,
            last_seq: FastMap::default(),
        })
    }

    /// Applies a contribution or a claim. A sequence number at or below the last one applied
    /// from the same source is a replay: nothing changes.
    pub fn apply(
        &mut self,
        meta: &PoolMeta,
        cmd: &PoolCommand,
        rng: &mut dyn HitPointSource,
        hits: &mut Vec<JackpotHit>,
    ) -> Result<Applied, DomainError> {
        if let Some(last) = self.last_seq.get(&meta.source) {
            if meta.seq <= *last {
                return Ok(Applied::Duplicate);
            }
        }
        let result = match cmd {
            PoolCommand::Contribute {
                machine,
                bet,
                eligible,
            } => self.contribute(meta, machine, *bet, *eligible, rng, hits),
            PoolCommand::Claim {
                machine,
                level,
                amount,
                bet,
            } => self.claim(meta, machine, *level, *bet, *amount, rng, hits),
        };
        // Refused or not, this (source, seq) has been decided once.
        self.last_seq.insert(meta.source.clone(), meta.seq);
        result.map(|_| Applied::Done)
    }

    fn contribute(
        &mut self,
        meta: &PoolMeta,
        machine: &MachineId,
        bet: Amount,
        eligible: bool,
        rng: &mut dyn HitPointSource,
        hits: &mut Vec<JackpotHit>,
    ) -> Result<(), DomainError> {
        for (i, l) in self.levels.iter_mut().enumerate() {
            if l.config.contribution_ppm == 0 {
                continue;
            }
            // bet <= 10^12 and ppm <= 10^6: the product fits in i64.
            let micro = bet.minor() * l.config.contribution_ppm;
            let sum = l.frac + micro;
            let whole = sum / MICRO;
            l.frac = sum % MICRO;
            l.contributed_micro += micro as i128;
            l.level = add(l.level, whole, Total::JackpotLevel)?;
            if !l.config.mystery {
                if let Some(cap) = l.config.ceiling {
                    if l.level > cap {
                        l.reserve += l.level - cap;
                        l.level = cap;
                    }
                }
            }
            if let Some(point) = l.hit_point {
                // RULES.md P-2: an ineligible contribution still contributes.
                let eligible = eligible && bet.minor() >= l.config.min_bet;
                if eligible && l.level >= point {
                    let ceiling = l.config.ceiling.unwrap_or(i64::MAX);
                    let amount = l.level.min(ceiling);
                    let overflow = l.level - amount;
                    hits.push(pay_and_reset(
                        &self.id, i as u8, l, amount, overflow, machine, meta, rng,
                    )?);
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn claim(
        &mut self,
        meta: &PoolMeta,
        machine: &MachineId,
        level: u8,
        bet: i64,
        reported: Option<Amount>,
        rng: &mut dyn HitPointSource,
        hits: &mut Vec<JackpotHit>,
    ) -> Result<(), DomainError> {
        let id = &self.id;
        let l = self
            .levels
            .get_mut(level as usize)
            .ok_or_else(|| DomainError::UnknownLevel {
                pool: id.to_string(),
                level,
            })?;
        if l.config.mystery {
            return Err(DomainError::MysteryClaim {
                pool: id.to_string(),
                level,
            });
        }
        if bet < l.config.min_bet {
            return Err(DomainError::JackpotNotEligible {
                machine: machine.to_string(),
                pool: id.to_string(),
                level,
                why: format!(
                    "the game's bet {bet} is below the minimum {}",
                    l.config.min_bet
                ),
            });
        }
        let amount = l.level;
        // Checked before anything changes.
        let variance = reported.map_or(0, |r| r.minor() - amount);
        let total = add(l.variance, variance, Total::JackpotPaid)?;
        let mut hit = pay_and_reset(id, level, l, amount, 0, machine, meta, rng)?;
        // What the EGM showed and paid is what the machine is paid (RULES.md P-3).
        if let Some(r) = reported {
            hit.amount = r;
        }
        l.variance = total;
        hits.push(hit);
        Ok(())
    }

    /// The alert a claim raises (RULES.md P-3): its refusal, or the variance between what
    /// the machine paid and the level's amount (`paid_before`: the level's `paid` before
    /// the claim was applied).
    pub fn claim_alert(
        &self,
        cmd: &PoolCommand,
        result: &Result<Applied, DomainError>,
        paid_before: i64,
        hits: &[JackpotHit],
    ) -> Option<Alert> {
        let PoolCommand::Claim { machine, level, .. } = cmd else {
            return None;
        };
        match result {
            Err(e) => Some(Alert::ClaimRefused {
                machine: machine.clone(),
                pool: self.id.clone(),
                level: *level,
                code: e.code(),
            }),
            Ok(Applied::Done) => {
                let hit = hits.iter().find(|h| h.level == *level)?;
                let level_amount = self.levels[*level as usize].paid - paid_before;
                (hit.amount.minor() != level_amount).then(|| Alert::JackpotVariance {
                    machine: machine.clone(),
                    pool: self.id.clone(),
                    level: *level,
                    level_amount,
                    paid: hit.amount.minor(),
                })
            }
            Ok(Applied::Duplicate) => None,
        }
    }

    /// The level's `paid` before a claim, for [`PoolState::claim_alert`].
    pub fn paid_of(&self, cmd: &PoolCommand) -> i64 {
        match cmd {
            PoolCommand::Claim { level, .. } => {
                self.levels.get(*level as usize).map_or(0, |l| l.paid)
            }
            PoolCommand::Contribute { .. } => 0,
        }
    }

    /// Schedules a configuration change of a level for its next reset, as controllers do:
    /// a change never alters the prize a level is building up to.
    pub fn schedule_change(&mut self, level: u8, config: LevelConfig) -> Result<(), DomainError> {
        config.validate()?;
        let others: i64 = self
            .levels
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != level as usize)
            .map(|(_, l)| {
                let pending = l.pending.as_ref().map_or(0, |p| p.contribution_ppm);
                l.config.contribution_ppm.max(pending)
            })
            .sum();
        if others.saturating_add(config.contribution_ppm) > MICRO {
            return Err(DomainError::InvalidPoolConfig(format!(
                "level {}: contributions would add up to more than the whole bet",
                config.name
            )));
        }
        let l = self
            .levels
            .get_mut(level as usize)
            .ok_or_else(|| DomainError::UnknownLevel {
                pool: self.id.to_string(),
                level,
            })?;
        l.pending = Some(config);
        Ok(())
    }

    /// Money the pool holds (levels, reserves, remainders), in micro-units.
    pub fn held_micro(&self) -> i128 {
        self.levels.iter().map(LevelState::held_micro).sum()
    }

    /// Checks the pool's invariants; panics on a broken one.
    pub fn assert_invariants(&self) {
        for (i, l) in self.levels.iter().enumerate() {
            let expected =
                (l.seeded as i128 - l.paid as i128) * MICRO as i128 + l.contributed_micro;
            assert_eq!(
                l.held_micro(),
                expected,
                "pool {} level {i}: held {} != seeds + contributions - paid = {expected} (micro-units)",
                self.id,
                l.held_micro()
            );
            assert!(
                (0..MICRO).contains(&l.frac),
                "pool {} level {i}: remainder out of range",
                self.id
            );
            assert!(l.level >= 0 && l.reserve >= 0);
            if l.config.mystery {
                let point = l.hit_point.expect("mystery level has a hit point");
                let ceiling = l.config.ceiling.expect("mystery level has a ceiling");
                // A level may stand at or past its hit point: an overflow past the ceiling at
                // a reset, or ineligible contributions (RULES.md P-2); it hits on the next
                // eligible contribution.
                assert!(
                    point <= ceiling.max(l.level),
                    "pool {} level {i}: hit point above its ceiling",
                    self.id
                );
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn pay_and_reset(
    pool: &PoolId,
    index: u8,
    l: &mut LevelState,
    amount: i64,
    overflow: i64,
    machine: &MachineId,
    meta: &PoolMeta,
    rng: &mut dyn HitPointSource,
) -> Result<JackpotHit, DomainError> {
    let paid = Amount::new(amount)?;
    l.paid = add(l.paid, amount, Total::JackpotPaid)?;
    l.hits += 1;
    if let Some(next) = l.pending.take() {
        l.config = next;
    }
    // The operator funds the seed; the reserve tops it up to at most the cap.
    let seed = l.config.seed;
    l.seeded = add(l.seeded, seed, Total::JackpotSeeds)?;
    let mut level = seed + overflow;
    if let Some(cap) = l.config.ceiling {
        let room = (cap - level).max(0);
        let take = l.reserve.min(room);
        l.reserve -= take;
        level += take;
    }
    l.level = level;
    draw_hit_point(pool, index, l, rng);
    Ok(JackpotHit {
        pool: pool.clone(),
        level: index,
        name: l.config.name.clone(),
        amount: paid,
        machine: machine.clone(),
        hit_number: l.hits,
        cause: meta.cause,
    })
}

fn draw_hit_point(pool: &PoolId, index: u8, l: &mut LevelState, rng: &mut dyn HitPointSource) {
    l.hit_point = match (l.config.mystery, l.config.ceiling) {
        (true, Some(ceiling)) => {
            let lo = (l.level + 1).min(ceiling);
            let point = rng.draw(pool, index, l.hits, lo, ceiling);
            assert!(
                (lo..=ceiling).contains(&point),
                "hit point source drew {point} outside {lo}..={ceiling}"
            );
            Some(point)
        }
        _ => None,
    };
}
