//! A machine's state as stored.

use pitboss_actors::domain::machine::{
    AwardMark, EpochMarks, HitOrigin, MachineProfile, MachineState, MachineStatus, MeterBaseline,
    MeterReport, Meters, OpenHandpay, Rating, Reconciliation,
};
use pitboss_actors::domain::{
    EventId, HallId, HandpayKind, MachineId, PlayerId, PoolId, ReportedMeter, SnapshotReason,
    Timestamp,
};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::{currency, id};

#[derive(Serialize, Deserialize)]
struct MetersDto {
    coin_in: i64,
    coin_out: i64,
    games_played: i64,
    games_won: i64,
    bills_in: i64,
    tickets_in: i64,
    tickets_out: i64,
    cashless_in: i64,
    cashless_out: i64,
    handpaid: i64,
    jackpot_paid: i64,
    /// Version 3 (RULES.md M-10).
    #[serde(default)]
    jackpot_handpaid: i64,
    doors_opened: i64,
    /// Since promotional credits (RULES.md M-13); absent: 0.
    #[serde(default)]
    restricted_in: i64,
    #[serde(default)]
    nonrestricted_in: i64,
    #[serde(default)]
    restricted_played: i64,
}

/// A handpay pending (record version 3, RULES.md M-10).
#[derive(Serialize, Deserialize)]
struct HandpayDto {
    kind: String,
    amount: i64,
    cause: u128,
    hall: String,
    time: i64,
}

#[derive(Serialize, Deserialize)]
struct AwardDto {
    pool: String,
    level: u8,
    hit_number: u64,
}

/// Where and when an event that reached the pools was booked (record version 2).
#[derive(Serialize, Deserialize)]
struct OriginDto {
    cause: u128,
    hall: String,
    time: i64,
}

/// The carded-in player's session as rated so far (RULES.md M-12).
#[derive(Serialize, Deserialize)]
struct RatingDto {
    start: i64,
    started_by: u128,
    coin_in: i64,
    coin_out: i64,
    games: u64,
}

/// The sequence marks of one epoch (record version 2).
#[derive(Serialize, Deserialize)]
struct MarksDto {
    epoch: u64,
    high: u64,
    holes: Vec<(u64, u64)>,
    forgotten: Vec<(u64, u64)>,
}

/// The meter snapshot the next is compared with (record version 3, RULES.md M-8). Meter
/// values are stored by name, so a meter added later reads as absent (0) in older records.
#[derive(Serialize, Deserialize)]
struct BaselineDto {
    cause: u128,
    time: i64,
    reason: String,
    reported: Vec<(String, i64)>,
    applied: Vec<(String, i64)>,
}

fn report_dto(r: &MeterReport) -> Vec<(String, i64)> {
    ReportedMeter::ALL
        .iter()
        .map(|m| (m.name().to_owned(), r.get(*m)))
        .collect()
}

fn report_of(rows: Vec<(String, i64)>) -> Result<MeterReport, StoreError> {
    let mut r = MeterReport::default();
    for (name, v) in rows {
        let m = ReportedMeter::from_name(&name)
            .ok_or_else(|| StoreError::permanent(format!("stored meter {name:?} is unknown")))?;
        r.set(m, v);
    }
    Ok(r)
}

/// A machine as stored. Record version 1 kept one `last_seq`; version 2 keeps the marks of
/// each epoch and the effect number. A version 1 record reads as epoch 0 with no holes, its
/// effects numbered on from its last sequence number (what halls and pools saw from it).
#[derive(Serialize, Deserialize)]
pub(super) struct MachineDto {
    id: String,
    hall: String,
    currency: String,
    pools: Vec<String>,
    large_cash_in_alert_minor: i64,
    /// Version 3.
    #[serde(default)]
    handpay_threshold_minor: i64,
    credits: i64,
    meters: MetersDto,
    /// Version 1 only.
    #[serde(default)]
    last_seq: Option<u64>,
    /// Version 2.
    #[serde(default)]
    marks: Vec<MarksDto>,
    /// Version 2.
    #[serde(default)]
    effect_seq: Option<u64>,
    #[serde(default)]
    award_seq: u64,
    /// Version 3: the newest event log entry's number (RULES.md M-9).
    #[serde(default)]
    log_seq: u64,
    /// Version 2.
    #[serde(default)]
    hit_origins: Vec<OriginDto>,
    online: bool,
    door_open: bool,
    tilt: Option<u32>,
    session: Option<String>,
    /// Since rated sessions (RULES.md M-12); absent: none.
    #[serde(default)]
    rating: Option<RatingDto>,
    game_open: bool,
    game_won: bool,
    /// Version 2.
    #[serde(default)]
    game_bet: i64,
    last_event_time: i64,
    awards: Vec<AwardDto>,
    /// Version 3.
    #[serde(default)]
    baseline: Option<BaselineDto>,
    /// Version 3: the unexplained meter variance, by meter (only those not zero).
    #[serde(default)]
    meter_variance: Vec<(String, i64)>,
    /// Version 3: handpays pending, oldest first.
    #[serde(default)]
    handpays: Vec<HandpayDto>,
}

impl From<&MachineState> for MachineDto {
    fn from(m: &MachineState) -> Self {
        let t = &m.meters;
        Self {
            id: m.id.to_string(),
            hall: m.profile.hall.to_string(),
            currency: m.profile.currency.to_string(),
            pools: m.profile.pools.iter().map(ToString::to_string).collect(),
            large_cash_in_alert_minor: m.profile.large_cash_in_alert_minor,
            handpay_threshold_minor: m.profile.handpay_threshold_minor,
            credits: m.credits,
            meters: MetersDto {
                coin_in: t.coin_in,
                coin_out: t.coin_out,
                games_played: t.games_played,
                games_won: t.games_won,
                bills_in: t.bills_in,
                tickets_in: t.tickets_in,
                tickets_out: t.tickets_out,
                cashless_in: t.cashless_in,
                cashless_out: t.cashless_out,
                handpaid: t.handpaid,
                jackpot_paid: t.jackpot_paid,
                jackpot_handpaid: t.jackpot_handpaid,
                doors_opened: t.doors_opened,
                restricted_in: t.restricted_in,
                nonrestricted_in: t.nonrestricted_in,
                restricted_played: t.restricted_played,
            },
            last_seq: None,
            marks: m
                .marks
                .iter()
                .map(|k| MarksDto {
                    epoch: k.epoch,
                    high: k.high,
                    holes: k.holes.clone(),
                    forgotten: k.forgotten.clone(),
                })
                .collect(),
            effect_seq: Some(m.effect_seq),
            award_seq: m.award_seq,
            log_seq: m.log_seq,
            hit_origins: m
                .hit_origins
                .iter()
                .map(|o| OriginDto {
                    cause: o.cause.0,
                    hall: o.hall.to_string(),
                    time: o.time.0,
                })
                .collect(),
            online: m.status.online,
            door_open: m.status.door_open,
            tilt: m.status.tilt,
            session: m.session.as_ref().map(ToString::to_string),
            rating: m.rating.as_deref().map(|r| RatingDto {
                start: r.start.0,
                started_by: r.started_by.0,
                coin_in: r.coin_in,
                coin_out: r.coin_out,
                games: r.games,
            }),
            game_open: m.game_open,
            game_won: m.game_won,
            game_bet: m.game_bet,
            last_event_time: m.last_event_time.0,
            awards: m
                .awards
                .iter()
                .map(|a| AwardDto {
                    pool: a.pool.to_string(),
                    level: a.level,
                    hit_number: a.hit_number,
                })
                .collect(),
            baseline: m.baseline().map(|b| BaselineDto {
                cause: b.cause.0,
                time: b.time.0,
                reason: b.reason.name().to_owned(),
                reported: report_dto(&b.reported),
                applied: report_dto(&b.applied),
            }),
            meter_variance: report_dto(&m.meter_variance())
                .into_iter()
                .filter(|(_, v)| *v != 0)
                .collect(),
            handpays: m
                .handpays
                .iter()
                .map(|h| HandpayDto {
                    kind: h.kind.name().to_owned(),
                    amount: h.amount,
                    cause: h.cause.0,
                    hall: h.hall.to_string(),
                    time: h.time.0,
                })
                .collect(),
        }
    }
}

impl TryFrom<MachineDto> for MachineState {
    type Error = StoreError;

    fn try_from(d: MachineDto) -> Result<Self, StoreError> {
        let t = d.meters;
        Ok(MachineState {
            id: id!(MachineId, d.id)?,
            profile: MachineProfile {
                hall: id!(HallId, d.hall)?,
                currency: currency(&d.currency)?,
                pools: d
                    .pools
                    .iter()
                    .map(|p| id!(PoolId, p))
                    .collect::<Result<_, _>>()?,
                large_cash_in_alert_minor: d.large_cash_in_alert_minor,
                handpay_threshold_minor: d.handpay_threshold_minor,
            },
            credits: d.credits,
            meters: Meters {
                coin_in: t.coin_in,
                coin_out: t.coin_out,
                games_played: t.games_played,
                games_won: t.games_won,
                bills_in: t.bills_in,
                tickets_in: t.tickets_in,
                tickets_out: t.tickets_out,
                cashless_in: t.cashless_in,
                cashless_out: t.cashless_out,
                handpaid: t.handpaid,
                jackpot_paid: t.jackpot_paid,
                jackpot_handpaid: t.jackpot_handpaid,
                doors_opened: t.doors_opened,
                restricted_in: t.restricted_in,
                nonrestricted_in: t.nonrestricted_in,
                restricted_played: t.restricted_played,
            },
            marks: match d.last_seq {
                Some(high) if d.marks.is_empty() => vec![EpochMarks {
                    epoch: 0,
                    high,
                    holes: Vec::new(),
                    forgotten: Vec::new(),
                }],
                _ => d
                    .marks
                    .into_iter()
                    .map(|k| EpochMarks {
                        epoch: k.epoch,
                        high: k.high,
                        holes: k.holes,
                        forgotten: k.forgotten,
                    })
                    .collect(),
            },
            effect_seq: d.effect_seq.or(d.last_seq).unwrap_or(0),
            award_seq: d.award_seq,
            log_seq: d.log_seq,
            handpays: d
                .handpays
                .into_iter()
                .map(|h| {
                    Ok(OpenHandpay {
                        kind: HandpayKind::from_name(&h.kind).ok_or_else(|| {
                            StoreError::permanent(format!(
                                "stored handpay kind {:?} is unknown",
                                h.kind
                            ))
                        })?,
                        amount: h.amount,
                        cause: EventId(h.cause),
                        hall: id!(HallId, h.hall)?,
                        time: Timestamp(h.time),
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            hit_origins: d
                .hit_origins
                .into_iter()
                .map(|o| {
                    Ok(HitOrigin {
                        cause: EventId(o.cause),
                        hall: id!(HallId, o.hall)?,
                        time: Timestamp(o.time),
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            status: MachineStatus {
                online: d.online,
                door_open: d.door_open,
                tilt: d.tilt,
            },
            session: d.session.map(|p| id!(PlayerId, p)).transpose()?,
            rating: d.rating.map(|r| {
                Box::new(Rating {
                    start: Timestamp(r.start),
                    started_by: EventId(r.started_by),
                    coin_in: r.coin_in,
                    coin_out: r.coin_out,
                    games: r.games,
                })
            }),
            game_open: d.game_open,
            game_won: d.game_won,
            game_bet: d.game_bet,
            last_event_time: Timestamp(d.last_event_time),
            awards: d
                .awards
                .into_iter()
                .map(|a| {
                    Ok(AwardMark {
                        pool: id!(PoolId, a.pool)?,
                        level: a.level,
                        hit_number: a.hit_number,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            reconcile: match d.baseline {
                None => None,
                Some(b) => Some(Box::new(Reconciliation {
                    baseline: MeterBaseline {
                        cause: EventId(b.cause),
                        time: Timestamp(b.time),
                        reason: SnapshotReason::from_name(&b.reason).ok_or_else(|| {
                            StoreError::permanent(format!(
                                "stored snapshot reason {:?} is unknown",
                                b.reason
                            ))
                        })?,
                        reported: report_of(b.reported)?,
                        applied: report_of(b.applied)?,
                    },
                    variance: report_of(d.meter_variance)?,
                })),
            },
        })
    }
}

impl MachineDto {
    /// What record version 1 wrote for `m` with last sequence number `last_seq` (tests of
    /// the upgrade path).
    #[cfg(test)]
    pub(super) fn version_1(m: &MachineState, last_seq: u64) -> Self {
        Self {
            last_seq: Some(last_seq),
            marks: Vec::new(),
            effect_seq: None,
            award_seq: 0,
            log_seq: 0,
            hit_origins: Vec::new(),
            ..Self::from(m)
        }
    }
}
