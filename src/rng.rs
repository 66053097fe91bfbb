//! The production source of mystery hit points: uniform draws from a ChaCha stream keyed by
//! a configured secret, the pool, the level and the level's reset count. The draw for a given
//! cycle is the same on every run, so a replay after a crash picks the same hit point.

use pitboss_actors::domain::jackpot::HitPointSource;
use pitboss_actors::domain::PoolId;
use pitboss_actors::shell::HitPointFactory;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

/// Keyed, deterministic hit points.
#[derive(Clone, Debug)]
pub struct KeyedHitPoints {
    key: [u8; 32],
}

impl KeyedHitPoints {
    /// A source keyed by `secret` (from configuration).
    pub fn new(secret: &str) -> Self {
        Self {
            key: Sha256::digest(secret.as_bytes()).into(),
        }
    }
}

impl HitPointSource for KeyedHitPoints {
    fn draw(&mut self, pool: &PoolId, level: u8, reset: u64, lo: i64, hi: i64) -> i64 {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(pool.as_str().as_bytes());
        h.update([0, level]);
        h.update(reset.to_be_bytes());
        let seed: [u8; 32] = h.finalize().into();
        ChaCha20Rng::from_seed(seed).gen_range(lo..=hi)
    }
}

impl HitPointFactory for KeyedHitPoints {
    fn for_pool(&self, _pool: &PoolId) -> Box<dyn HitPointSource> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_in_range() {
        let pool = PoolId::new("P1").unwrap();
        let mut a = KeyedHitPoints::new("s");
        let mut b = KeyedHitPoints::new("s");
        for reset in 0..200 {
            let x = a.draw(&pool, 1, reset, 100, 200);
            assert_eq!(x, b.draw(&pool, 1, reset, 100, 200));
            assert!((100..=200).contains(&x));
        }
        let mut c = KeyedHitPoints::new("other");
        let differ =
            (0..50).any(|r| c.draw(&pool, 1, r, 0, 1_000_000) != a.draw(&pool, 1, r, 0, 1_000_000));
        assert!(differ);
    }
}
