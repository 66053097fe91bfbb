//! The operator's calls on pools: create one at run time, schedule a level's change. Both
//! run on the pool's actor between two of its messages.

use std::sync::Arc;

use crate::domain::jackpot::{LevelConfig, PoolState};
use crate::domain::{DomainError, PoolId};
use crate::shell::config::PoolSpec;
use crate::shell::entities::{PoolChange, PoolEntity};
use crate::shell::ports::store::StoreError;
use crate::shell::runtime::Runtime;

/// Why an operator's pool change was not made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PoolAdminError {
    /// No such pool.
    #[error("pool {0} does not exist")]
    UnknownPool(PoolId),
    /// A pool with this id exists already.
    #[error("pool {0} already exists")]
    Exists(PoolId),
    /// The domain refuses the configuration.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The pool's state cannot be loaded.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Runtime {
    /// Creates a pool at run time (operator API) and starts its actor; returns its state.
    ///
    /// Machines first seen after the creation play for it; a machine already known keeps
    /// the pools of its stored profile. The pool is not written back to the configuration:
    /// it lives until the process stops unless the configuration names it too. Where pools
    /// live on other instances (Kafka internal topics), call it only on the pool's owner.
    pub async fn create_pool(
        self: &Arc<Self>,
        spec: PoolSpec,
    ) -> Result<PoolState, PoolAdminError> {
        spec.config.validate()?;
        {
            let mut table = self.pool_table.write().expect("pool table lock");
            if table.specs.iter().any(|s| s.id == spec.id) {
                return Err(PoolAdminError::Exists(spec.id));
            }
            table.directory.add_pool(&spec);
            table.specs.push(spec.clone());
        }
        Ok(self
            .exec::<PoolEntity, _>(&spec.id, |e| (e.state().clone(), true))
            .await?)
    }

    /// Schedules a new configuration of a pool's level for its next reset (operator API):
    /// the prize the level is building up to never changes. Returns the state before and
    /// after. Where pools live on other instances, call it only on the pool's owner.
    pub async fn schedule_level_change(
        self: &Arc<Self>,
        pool: &PoolId,
        level: u8,
        config: LevelConfig,
    ) -> Result<PoolChange, PoolAdminError> {
        if self.pool_spec(pool).is_none() {
            return Err(PoolAdminError::UnknownPool(pool.clone()));
        }
        self.exec::<PoolEntity, _>(pool, move |e| match e.schedule_change(level, config) {
            Ok(change) => (Ok(change), true),
            Err(err) => (Err(PoolAdminError::Invalid(err)), false),
        })
        .await?
    }
}
