//! A hall's GGR state as stored.

use pitboss_actors::domain::ggr::{GgrTotals, GgrWindow, HallState};
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

#[derive(Serialize, Deserialize)]
pub(super) struct HallDto {
    id: String,
    totals: TotalsDto,
    windows: Vec<WindowDto>,
    watermark: i64,
    last_seq: Vec<(SourceDto, u64)>,
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
        }
    }
}

impl TryFrom<HallDto> for HallState {
    type Error = StoreError;

    fn try_from(d: HallDto) -> Result<Self, StoreError> {
        Ok(HallState {
            id: id!(HallId, d.id)?,
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
