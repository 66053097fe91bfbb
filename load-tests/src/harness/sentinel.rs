//! The harness's own deposits, one per input partition, that tell it how far pitboss has
//! consumed: partitions are ordered, so once pitboss has answered the deposit sent to a
//! partition after some events, it has consumed those events. Each goes to a player of its
//! own (`P-LOADW-0003`: warm-up, partition 3), outside the simulated network's players.

use std::time::{SystemTime, UNIX_EPOCH};

use pitboss::config::Config;
use pitboss::wire::{InputEnvelope, InputPayload, Source};

/// High 64 bits of the event ids of the sentinel deposits (the simulator's are its seed; a
/// scenario using this seed is refused).
pub const SENTINEL_TAG: u64 = 0x5e47_1e10_ad00_0001;
/// Amount of each sentinel deposit, minor units.
pub const SENTINEL_MINOR: i64 = 100;

/// Which round of sentinels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Before the clock starts: pitboss's consumer group has formed once it answers them.
    Warm,
    /// After the last event: pitboss has consumed every event once it answers them.
    Final,
}

impl Round {
    /// The letter in the player id and the event id (the ids are part of what the
    /// reference processor applies, so they stay as they were).
    fn letter(self) -> char {
        match self {
            Round::Warm => 'W',
            Round::Final => 'F',
        }
    }

    /// `warm-up` or `final`, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Round::Warm => "warm-up",
            Round::Final => "final",
        }
    }
}

/// The sentinel deposit of `round` for `partition`: its key (the player) and its bytes.
pub fn sentinel(cfg: &Config, round: Round, partition: i32) -> (String, Vec<u8>) {
    let kind = round.letter();
    let player = format!("P-LOAD{kind}-{partition:04}");
    let id = (u128::from(SENTINEL_TAG) << 64) | ((kind as u128) << 32) | partition as u128;
    let env = InputEnvelope {
        event_id: uuid::Uuid::from_u128(id).hyphenated().to_string(),
        schema_version: 1,
        source: Source {
            hall: cfg.sim.online_hall.clone(),
            machine: None,
            server: Some("GS-LOAD".into()),
        },
        seq: 1,
        epoch: None,
        receive_time: None,
        event_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        payload: InputPayload::Deposit {
            player: player.clone(),
            tx: format!("{player}-1"),
            amount: SENTINEL_MINOR,
            currency: cfg.network.currency.clone(),
            round: None,
        },
    };
    (player, env.to_bytes())
}

/// The round of a sentinel's player, `None` for any other player.
pub fn round_of(player: &str) -> Option<Round> {
    let rest = player.strip_prefix("P-LOAD")?;
    let round = match rest.chars().next()? {
        'W' => Round::Warm,
        'F' => Round::Final,
        _ => return None,
    };
    rest[1..].starts_with('-').then_some(round)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_players() {
        assert_eq!(round_of("P-LOADW-0003"), Some(Round::Warm));
        assert_eq!(round_of("P-LOADF-0000"), Some(Round::Final));
        assert_eq!(round_of("P-0000001"), None);
        let cfg = Config::load_with_env(None, Vec::new()).unwrap();
        let (key, bytes) = sentinel(&cfg, Round::Final, 3);
        assert_eq!(key, "P-LOADF-0003");
        pitboss::wire::decode_input(&bytes).unwrap();
    }
}
