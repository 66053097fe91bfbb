//! Randomness: the core draws none itself; the runtime asks this port for each pool's
//! source of mystery hit points.

use crate::domain::jackpot::HitPointSource;
use crate::domain::PoolId;

/// Makes the hit-point source of a pool.
pub trait HitPointFactory: Send + Sync + 'static {
    fn for_pool(&self, pool: &PoolId) -> Box<dyn HitPointSource>;
}
