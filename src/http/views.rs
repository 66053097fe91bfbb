//! What the APIs show of a pool: the read API and the admin API answer with the same view,
//! and the admin API writes it to the audit log as "before" and "after".

use pitboss_actors::domain::jackpot::{LevelConfig, PoolState};
use pitboss_actors::shell::{PoolEntity, PoolSpec, Snapshot};
use serde::Serialize;

use super::error::ApiError;
use super::money::{format_minor, percent_of_ppm};
use super::state::HttpState;

/// A level's configuration, as shown.
#[derive(Serialize, Debug, Clone)]
pub struct LevelConfigView {
    /// Display name.
    pub name: String,
    /// Reset value, minor units.
    pub seed_minor: i64,
    /// Must-hit-by (mystery) or cap (progressive), minor units.
    pub ceiling_minor: Option<i64>,
    /// Share of each bet, percent.
    pub contribution_percent: String,
    /// Mystery level.
    pub mystery: bool,
    /// The smallest bet that may win the level (0 = any).
    pub min_bet_minor: i64,
}

impl From<&LevelConfig> for LevelConfigView {
    fn from(c: &LevelConfig) -> Self {
        Self {
            name: c.name.clone(),
            seed_minor: c.seed,
            ceiling_minor: c.ceiling,
            contribution_percent: percent_of_ppm(c.contribution_ppm),
            mystery: c.mystery,
            min_bet_minor: c.min_bet,
        }
    }
}

/// A pool level. The mystery hit point is never shown: whoever knows it knows the winner.
#[derive(Serialize, Debug, Clone)]
pub struct LevelView {
    /// Level index.
    pub level: u8,
    /// Current amount.
    pub amount_minor: i64,
    /// Current amount, formatted.
    pub amount: String,
    /// Configuration in force.
    pub config: LevelConfigView,
    /// Configuration waiting for the level's next reset (after its next hit).
    pub pending: Option<LevelConfigView>,
    pub hits: u64,
    /// Paid so far, minor units.
    pub paid_minor: i64,
    /// Contributions held back above a progressive cap, minor units.
    pub reserve_minor: i64,
}

#[derive(Serialize, Debug, Clone)]
pub struct PoolView {
    /// The pool.
    pub id: String,
    pub currency: String,
    /// Linked halls (`null`: every hall).
    pub halls: Option<Vec<String>>,
    pub levels: Vec<LevelView>,
    /// `false` while the pool has no state yet (no bet has reached it): levels at seed.
    pub started: bool,
}

impl PoolView {
    /// The view of a pool's state.
    pub fn of_state(s: &PoolState, halls: Option<Vec<String>>) -> Self {
        let cur = s.currency.as_str();
        Self {
            id: s.id.to_string(),
            currency: cur.to_string(),
            halls,
            levels: s
                .levels
                .iter()
                .enumerate()
                .map(|(i, l)| LevelView {
                    level: i as u8,
                    amount_minor: l.level,
                    amount: format_minor(l.level, cur),
                    config: (&l.config).into(),
                    pending: l.pending.as_ref().map(Into::into),
                    hits: l.hits,
                    paid_minor: l.paid,
                    reserve_minor: l.reserve,
                })
                .collect(),
            started: true,
        }
    }

    /// A configured pool without state: every level at its seed.
    pub fn of_spec(spec: &PoolSpec) -> Self {
        let cur = spec.config.currency.as_str();
        Self {
            id: spec.id.to_string(),
            currency: cur.to_string(),
            halls: halls_of(spec),
            levels: spec
                .config
                .levels
                .iter()
                .enumerate()
                .map(|(i, c)| LevelView {
                    level: i as u8,
                    amount_minor: c.seed,
                    amount: format_minor(c.seed, cur),
                    config: c.into(),
                    pending: None,
                    hits: 0,
                    paid_minor: 0,
                    reserve_minor: 0,
                })
                .collect(),
            started: false,
        }
    }
}

/// The halls of a pool spec as strings.
pub fn halls_of(spec: &PoolSpec) -> Option<Vec<String>> {
    spec.halls
        .as_ref()
        .map(|h| h.iter().map(ToString::to_string).collect())
}

/// The current view of a pool (live actor, then store, then its configuration).
pub async fn pool_view(state: &HttpState, spec: &PoolSpec) -> Result<PoolView, ApiError> {
    match state.runtime.inspect::<PoolEntity>(&spec.id).await? {
        Some(Snapshot::Pool(s)) => Ok(PoolView::of_state(&s, halls_of(spec))),
        _ => Ok(PoolView::of_spec(spec)),
    }
}
