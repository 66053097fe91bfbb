//! A hall's GGR state as stored.

use std::collections::BTreeMap;

use pitboss_actors::domain::ggr::{GgrTotals, GgrWindow, HallState, SourceMark, WindowClosed};
use pitboss_actors::domain::{Carried, EventId, HallId, SourceKey, Timestamp};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::{id, SourceDto};

/// Bets, wins, games and jackpots as stored (jackpots absent in records written before
/// RULES.md H-1: 0).
#[derive(Serialize, Deserialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(super) struct TotalsDto {
    bets: i64,
    wins: i64,
    games: i64,
    #[serde(default)]
    jackpots: i64,
    /// RULES.md M-13; absent in records written before: 0.
    #[serde(default)]
    promo: i64,
}

impl From<&GgrTotals> for TotalsDto {
    fn from(t: &GgrTotals) -> Self {
        Self {
            bets: t.bets,
            wins: t.wins,
            games: t.games,
            jackpots: t.jackpots,
            promo: t.promo,
        }
    }
}

impl From<TotalsDto> for GgrTotals {
    fn from(t: TotalsDto) -> Self {
        Self {
            bets: t.bets,
            wins: t.wins,
            games: t.games,
            jackpots: t.jackpots,
            promo: t.promo,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct WindowDto {
    start: i64,
    totals: TotalsDto,
    revision: u32,
    closed: bool,
    /// The latest delta's cause since the last publication, and how many (absent in
    /// records written before: none, 0).
    #[serde(default)]
    cause: Option<u128>,
    #[serde(default)]
    causes: u32,
}

/// A publication waiting in the outbox (RULES.md H-2).
#[derive(Serialize, Deserialize)]
struct OutboxDto {
    window: i64,
    totals: TotalsDto,
    revision: u32,
    /// What the publication names as its cause, and how many deltas it is the first to
    /// include (absent in records written before: none, 0).
    #[serde(default)]
    cause: Option<u128>,
    #[serde(default)]
    causes: u32,
}

#[derive(Serialize, Deserialize)]
pub(super) struct HallDto {
    id: String,
    totals: TotalsDto,
    windows: Vec<WindowDto>,
    watermark: i64,
    last_seq: Vec<(SourceDto, u64)>,
    /// When each source of `last_seq` was last heard from (same order; RULES.md H-3).
    /// Absent in records written before H-3: each source counts as heard at the watermark.
    #[serde(default)]
    heard: Vec<i64>,
    /// Absent in records written before RULES.md H-2: empty.
    #[serde(default)]
    outbox: Vec<OutboxDto>,
    /// Absent in records written before RULES.md H-2: none (windows evicted before were
    /// published at once and are not read back).
    #[serde(default)]
    evicted_upto: Option<i64>,
}

impl From<&HallState> for HallDto {
    fn from(h: &HallState) -> Self {
        // Sorted, so one state always encodes to the same bytes.
        let sorted: BTreeMap<&SourceKey, SourceMark> =
            h.last_seq.iter().map(|(k, m)| (k, *m)).collect();
        Self {
            id: h.id.to_string(),
            totals: (&h.totals).into(),
            windows: h
                .windows
                .iter()
                .map(|(k, w)| WindowDto {
                    start: k.0,
                    totals: (&w.totals).into(),
                    revision: w.revision,
                    closed: w.closed,
                    cause: w.carried.latest.map(|c| c.0),
                    causes: w.carried.count,
                })
                .collect(),
            watermark: h.watermark.0,
            last_seq: sorted.iter().map(|(k, m)| ((*k).into(), m.seq)).collect(),
            heard: sorted.values().map(|m| m.heard.0).collect(),
            outbox: h
                .outbox
                .iter()
                .map(|o| OutboxDto {
                    window: o.window.0,
                    totals: (&o.totals).into(),
                    revision: o.revision,
                    cause: o.carried.latest.map(|c| c.0),
                    causes: o.carried.count,
                })
                .collect(),
            evicted_upto: h.evicted_upto.map(|t| t.0),
        }
    }
}

impl TryFrom<HallDto> for HallState {
    type Error = StoreError;

    fn try_from(d: HallDto) -> Result<Self, StoreError> {
        let id = id!(HallId, d.id)?;
        if !d.heard.is_empty() && d.heard.len() != d.last_seq.len() {
            return Err(StoreError::permanent(format!(
                "hall {id}: {} sources but {} heard times",
                d.last_seq.len(),
                d.heard.len()
            )));
        }
        let heard = d.heard.into_iter().chain(std::iter::repeat(d.watermark));
        let last_seq = d
            .last_seq
            .into_iter()
            .zip(heard)
            .map(|((k, seq), at)| {
                Ok((
                    SourceKey::try_from(k)?,
                    SourceMark {
                        seq,
                        heard: Timestamp(at),
                    },
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(HallState {
            outbox: d
                .outbox
                .into_iter()
                .map(|o| WindowClosed {
                    hall: id.clone(),
                    window: Timestamp(o.window),
                    totals: o.totals.into(),
                    revision: o.revision,
                    carried: Carried {
                        latest: o.cause.map(EventId),
                        count: o.causes,
                    },
                })
                .collect(),
            evicted_upto: d.evicted_upto.map(Timestamp),
            id,
            totals: d.totals.into(),
            windows: d
                .windows
                .into_iter()
                .map(|w| {
                    (
                        Timestamp(w.start),
                        GgrWindow {
                            totals: w.totals.into(),
                            revision: w.revision,
                            closed: w.closed,
                            carried: Carried {
                                latest: w.cause.map(EventId),
                                count: w.causes,
                            },
                        },
                    )
                })
                .collect(),
            watermark: Timestamp(d.watermark),
            last_seq,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitboss_actors::domain::MachineId;

    /// A hall stored before RULES.md H-3 has no heard times: its sources count as heard at
    /// its watermark, so none is forgotten before a full expiry period has passed.
    #[test]
    fn a_hall_stored_before_source_expiry_hears_its_sources_at_the_watermark() {
        let mut h = HallState::new(HallId::new("H-1").unwrap());
        h.watermark = Timestamp(7_200_000);
        let m = SourceKey::Machine(MachineId::new("M-1").unwrap());
        h.last_seq.insert(
            m.clone(),
            SourceMark {
                seq: 9,
                heard: Timestamp(60_000),
            },
        );
        let mut dto = HallDto::from(&h);
        assert_eq!(dto.heard, vec![60_000]);
        assert_eq!(HallState::try_from(HallDto::from(&h)).unwrap(), h);
        dto.heard.clear();
        let bytes = rmp_serde::to_vec_named(&dto).unwrap();
        let old: HallState = rmp_serde::from_slice::<HallDto>(&bytes)
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            old.last_seq[&m],
            SourceMark {
                seq: 9,
                heard: Timestamp(7_200_000)
            }
        );
        dto.heard = vec![1, 2];
        assert!(
            HallState::try_from(dto).is_err(),
            "heard times must match the sources"
        );
    }

    /// A hall written positionally before windows named their latest delta (record version
    /// 4: windows of 4 fields, publications of 3) reads back with none named and none
    /// counted; one written now keeps both.
    #[test]
    fn windows_written_before_they_named_a_cause_read_back_naming_none() {
        #[derive(Serialize)]
        struct OldWindow {
            start: i64,
            totals: TotalsDto,
            revision: u32,
            closed: bool,
        }
        #[derive(Serialize)]
        struct OldOutbox {
            window: i64,
            totals: TotalsDto,
            revision: u32,
        }
        let totals = TotalsDto {
            bets: 100,
            wins: 40,
            games: 2,
            jackpots: 0,
            promo: 0,
        };
        let old = (
            "H-1",
            totals,
            vec![OldWindow {
                start: 60_000,
                totals,
                revision: 1,
                closed: false,
            }],
            120_000i64,
            Vec::<(SourceDto, u64)>::new(),
            Vec::<i64>::new(),
            vec![OldOutbox {
                window: 0,
                totals,
                revision: 0,
            }],
            None::<i64>,
        );
        let mut bytes = Vec::new();
        rmp_serde::encode::write(&mut bytes, &old).unwrap();
        let h = HallState::try_from(rmp_serde::from_slice::<HallDto>(&bytes).unwrap()).unwrap();
        let w = &h.windows[&Timestamp(60_000)];
        assert_eq!(
            (w.revision, w.carried.latest, w.carried.count),
            (1, None, 0)
        );
        assert_eq!(
            (h.outbox[0].carried.latest, h.outbox[0].carried.count),
            (None, 0)
        );
        assert_eq!(h.totals, GgrTotals::from(totals));

        let mut named = h.clone();
        let w = named.windows.get_mut(&Timestamp(60_000)).unwrap();
        (w.carried.latest, w.carried.count) = (Some(EventId(7)), 3);
        (
            named.outbox[0].carried.latest,
            named.outbox[0].carried.count,
        ) = (Some(EventId(u128::MAX)), 9);
        let mut bytes = Vec::new();
        rmp_serde::encode::write(&mut bytes, &HallDto::from(&named)).unwrap();
        let back = HallState::try_from(rmp_serde::from_slice::<HallDto>(&bytes).unwrap()).unwrap();
        assert_eq!(back, named);
    }
}
