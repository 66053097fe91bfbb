//! The P rules: contributions, mystery hits, progressive claims, resets.

use super::{Draw, LevelSpec, LevelView, Model, PoolSpec, MICRO};

#[derive(Clone, Debug)]
pub(super) struct Pool {
    id: String,
    specs: Vec<LevelSpec>,
    pub(super) levels: Vec<LevelView>,
}

/// What a hit paid.
#[derive(Clone, Copy, Debug)]
pub(super) struct Paid {
    /// The level's hit number.
    pub number: u64,
    /// What the machine was paid.
    pub to_machine: i64,
    /// What the machine was paid beyond (or short of) the level's amount.
    pub variance: i64,
}

impl Pool {
    pub(super) fn new(spec: &PoolSpec, draw: &mut Draw) -> Self {
        let mut p = Self {
            id: spec.id.clone(),
            specs: spec.levels.clone(),
            levels: spec
                .levels
                .iter()
                .map(|l| LevelView {
                    level: l.seed,
                    seeded: l.seed,
                    ..LevelView::default()
                })
                .collect(),
        };
        for i in 0..p.levels.len() {
            p.draw_point(i, draw);
        }
        p
    }

    /// P-2: a mystery level's next hit point, between the level plus one and the ceiling.
    fn draw_point(&mut self, i: usize, draw: &mut Draw) {
        let spec = &self.specs[i];
        let l = &mut self.levels[i];
        l.hit_point = match (spec.mystery, spec.ceiling) {
            (true, Some(ceiling)) => {
                let lo = (l.level + 1).min(ceiling);
                Some(draw(&self.id, i as u8, l.hits, lo, ceiling))
            }
            _ => None,
        };
    }

    /// P-5: the level pays `amount`, is funded its seed again, and takes from its reserve.
    fn pay_and_reset(&mut self, i: usize, amount: i64, carry: i64, draw: &mut Draw) -> u64 {
        let spec = self.specs[i].clone();
        let l = &mut self.levels[i];
        l.paid += amount;
        l.hits += 1;
        l.seeded += spec.seed;
        l.level = spec.seed + carry;
        let room = match spec.ceiling {
            Some(cap) => (cap - l.level).max(0),
            None => i64::MAX,
        };
        let take = l.reserve.min(room);
        l.reserve -= take;
        l.level += take;
        let number = l.hits;
        self.draw_point(i, draw);
        number
    }

    /// P-3: a claim on a progressive level by a machine whose game bet `game_bet`.
    pub(super) fn claim(
        &mut self,
        i: u8,
        game_bet: i64,
        reported: Option<i64>,
        draw: &mut Draw,
    ) -> Result<Paid, &'static str> {
        let idx = i as usize;
        let Some(spec) = self.specs.get(idx) else {
            return Err("unknown_level");
        };
        if spec.mystery {
            return Err("mystery_claim");
        }
        if game_bet < spec.min_bet {
            return Err("jackpot_not_eligible");
        }
        let level = self.levels[idx].level;
        let to_machine = reported.unwrap_or(level);
        let variance = to_machine - level;
        self.levels[idx].variance += variance;
        let number = self.pay_and_reset(idx, level, 0, draw);
        Ok(Paid {
            number,
            to_machine,
            variance,
        })
    }
}

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
