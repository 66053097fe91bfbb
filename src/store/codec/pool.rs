//! A jackpot pool's state as stored.

use pitboss_actors::domain::jackpot::{LevelConfig, LevelState, PoolState};
use pitboss_actors::domain::PoolId;
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::{
    currency, id, join128, seqs_from_dto, seqs_to_dto, split128, SourceDto,
};

#[derive(Serialize, Deserialize)]
struct LevelConfigDto {
    name: String,
    seed: i64,
    contribution_ppm: i64,
    ceiling: Option<i64>,
    mystery: bool,
    /// Absent before RULES.md P-2/P-3 minimum bets: 0.
    #[serde(default)]
    min_bet: i64,
}

impl From<&LevelConfig> for LevelConfigDto {
    fn from(c: &LevelConfig) -> Self {
        Self {
            name: c.name.clone(),
            seed: c.seed,
            contribution_ppm: c.contribution_ppm,
            ceiling: c.ceiling,
            mystery: c.mystery,
            min_bet: c.min_bet,
        }
    }
}

impl From<LevelConfigDto> for LevelConfig {
    fn from(d: LevelConfigDto) -> Self {
        Self {
            name: d.name,
            seed: d.seed,
            contribution_ppm: d.contribution_ppm,
            ceiling: d.ceiling,
            mystery: d.mystery,
            min_bet: d.min_bet,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct LevelDto {
    config: LevelConfigDto,
    pending: Option<LevelConfigDto>,
    level: i64,
    frac: i64,
    reserve: i64,
    hit_point: Option<i64>,
    hits: u64,
    /// `contributed_micro` (an i128) as its high and low 64 bits.
    contributed_micro_hi: i64,
    contributed_micro_lo: u64,
    seeded: i64,
    paid: i64,
    /// Jackpot variances of version 2 claims (absent before RULES.md P-3: 0).
    #[serde(default)]
    variance: i64,
}

#[derive(Serialize, Deserialize)]
pub(super) struct PoolDto {
    id: String,
    currency: String,
    levels: Vec<LevelDto>,
    last_seq: Vec<(SourceDto, u64)>,
}

impl From<&PoolState> for PoolDto {
    fn from(p: &PoolState) -> Self {
        Self {
            id: p.id.to_string(),
            currency: p.currency.to_string(),
            levels: p
                .levels
                .iter()
                .map(|l| {
                    let (hi, lo) = split128(l.contributed_micro);
                    LevelDto {
                        config: (&l.config).into(),
                        pending: l.pending.as_ref().map(Into::into),
                        level: l.level,
                        frac: l.frac,
                        reserve: l.reserve,
                        hit_point: l.hit_point,
                        hits: l.hits,
                        contributed_micro_hi: hi,
                        contributed_micro_lo: lo,
                        seeded: l.seeded,
                        paid: l.paid,
                        variance: l.variance,
                    }
                })
                .collect(),
            last_seq: seqs_to_dto(p.last_seq.iter()),
        }
    }
}

impl TryFrom<PoolDto> for PoolState {
    type Error = StoreError;

    fn try_from(d: PoolDto) -> Result<Self, StoreError> {
        Ok(PoolState {
            id: id!(PoolId, d.id)?,
            currency: currency(&d.currency)?,
            levels: d
                .levels
                .into_iter()
                .map(|l| LevelState {
                    config: l.config.into(),
                    pending: l.pending.map(Into::into),
                    level: l.level,
                    frac: l.frac,
                    reserve: l.reserve,
                    hit_point: l.hit_point,
                    hits: l.hits,
                    contributed_micro: join128(l.contributed_micro_hi, l.contributed_micro_lo),
                    seeded: l.seeded,
                    paid: l.paid,
                    variance: l.variance,
                })
                .collect(),
            last_seq: seqs_from_dto(d.last_seq)?,
        })
    }
}
