//! The P rules: contributions, mystery hits, progressive claims, resets.

use super::entities::Paid;
use super::state::Model;
use super::types::MICRO;

impl Model {
    /// P-1 and P-2: a bet's contribution to every level of a pool, then any mystery hit.
    pub(super) fn contribute(
        &mut self,
        pool_id: &str,
        machine: &str,
        hall: &str,
        bet: i64,
        machine_eligible: bool,
        booked: i64,
    ) {
        let p = self.pools.get_mut(pool_id).expect("configured pool");
        let mut won = Vec::new();
        for i in 0..p.levels.len() {
            let spec = p.specs[i].clone();
            let l = &mut p.levels[i];
            let micro = i128::from(bet) * i128::from(spec.ppm);
            l.contributed_micro += micro;
            let total = i128::from(l.level) * MICRO + i128::from(l.frac) + micro;
            l.level = i64::try_from(total / MICRO).expect("level fits");
            l.frac = i64::try_from(total % MICRO).expect("remainder fits");
            if !spec.mystery {
                if let Some(cap) = spec.ceiling {
                    if l.level > cap {
                        l.reserve += l.level - cap;
                        l.level = cap;
                    }
                }
            }
            let eligible = machine_eligible && bet >= spec.min_bet;
            if let Some(point) = l.hit_point {
                if eligible && l.level >= point {
                    won.push(i);
                }
            }
        }
        for i in won {
            let p = self.pools.get_mut(pool_id).expect("configured pool");
            let ceiling = p.specs[i].ceiling.expect("a mystery level has a ceiling");
            let level = p.levels[i].level;
            let amount = level.min(ceiling);
            let number = p.pay_and_reset(i, amount, level - amount, &mut self.draw);
            let paid = Paid {
                number,
                to_machine: amount,
                variance: 0,
            };
            self.pay_hit(pool_id, i as u8, machine, hall, paid, true, booked);
        }
    }
}
