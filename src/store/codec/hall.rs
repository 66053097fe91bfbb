//! A hall's GGR state as stored.

use pitboss_actors::domain::ggr::{GgrTotals, GgrWindow, HallState, WindowClosed};
use pitboss_actors::domain::{HallId, Timestamp};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::{id, seqs_from_dto, seqs_to_dto, SourceDto};

/// Bets, wins, games and jackpots as stored (jackpots absent in records written before
/// RULES.md H-1: 0).
#[derive(Serialize, Deserialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(super) struct TotalsDto {
    bets: i64,
    wins: i64,
    games: i64,
    #[serde(default)]
    jackpots: i64,
}

impl From<&GgrTotals> for TotalsDto {
    fn from(t: &GgrTotals) -> Self {
        Self {
            bets: t.bets,
            wins: t.wins,
            games: t.games,
            jackpots: t.jackpots,
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
        }
    }
}

#[derive(Serialize, Deserialize)]
struct WindowDto {
    start: i64,
    totals: TotalsDto,
    revision: u32,
    closed: bool,
}

/// A publication waiting in the outbox (RULES.md H-2).
#[derive(Serialize, Deserialize)]
struct OutboxDto {
    window: i64,
    totals: TotalsDto,
    revision: u32,
}

#[derive(Serialize, Deserialize)]
pub(super) struct HallDto {
    id: String,
    totals: TotalsDto,
    windows: Vec<WindowDto>,
    watermark: i64,
    last_seq: Vec<(SourceDto, u64)>,
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
                })
                .collect(),
            watermark: h.watermark.0,
            last_seq: seqs_to_dto(h.last_seq.iter()),
            outbox: h
                .outbox
                .iter()
                .map(|o| OutboxDto {
                    window: o.window.0,
                    totals: (&o.totals).into(),
                    revision: o.revision,
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
        Ok(HallState {
            outbox: d
                .outbox
                .into_iter()
                .map(|o| WindowClosed {
                    hall: id.clone(),
                    window: Timestamp(o.window),
                    totals: o.totals.into(),
                    revision: o.revision,
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
                        },
                    )
                })
                .collect(),
            watermark: Timestamp(d.watermark),
            last_seq: seqs_from_dto(d.last_seq)?,
        })
    }
}
