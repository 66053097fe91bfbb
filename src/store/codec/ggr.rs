//! GGR rows: one per hall and one-minute window, written where the store keeps them.

use pitboss_actors::domain::ggr::GgrTotals;
use pitboss_actors::domain::{HallId, Timestamp};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::bad;
use crate::store::codec::hall::TotalsDto;

/// One GGR row: a hall's one-minute window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GgrRow {
    /// The hall.
    pub hall: HallId,
    /// The window's start.
    pub window: Timestamp,
    /// Bets, wins and games in the window.
    pub totals: GgrTotals,
    /// Times the window has been published.
    pub revision: u32,
}

#[derive(Serialize, Deserialize)]
struct GgrDto {
    totals: TotalsDto,
    revision: u32,
}

/// Encodes a GGR row's values (the embedded store).
pub fn encode_ggr(row: &GgrRow) -> Result<Vec<u8>, StoreError> {
    rmp_serde::to_vec_named(&GgrDto {
        totals: (&row.totals).into(),
        revision: row.revision,
    })
    .map_err(|e| StoreError::permanent(format!("encoding GGR of hall {}: {e}", row.hall)))
}

/// Decodes a GGR row's values: totals and revision.
pub fn decode_ggr(bytes: &[u8]) -> Result<(GgrTotals, u32), StoreError> {
    let d: GgrDto = rmp_serde::from_slice(bytes).map_err(|e| bad("GGR row", e))?;
    Ok((d.totals.into(), d.revision))
}
