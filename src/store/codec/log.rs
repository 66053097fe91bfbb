//! A machine's event log entry as stored (RULES.md M-9): MessagePack with named fields and
//! a format version; meters by name, so a meter added later reads as 0 in older entries.

use pitboss_actors::domain::machine::{LogEntry, MeterReport};
use pitboss_actors::domain::{AttendantId, EventId, LogCode, ReportedMeter, Timestamp};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::bad;

/// The log entry format this build writes (and the newest it reads).
pub const LOG_RECORD_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct LogDto {
    v: u32,
    number: u64,
    code: String,
    time: i64,
    cause: u128,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tilt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attendant: Option<String>,
    meters: Vec<(String, i64)>,
}

/// Encodes a log entry.
pub fn encode_log(e: &LogEntry) -> Result<Vec<u8>, StoreError> {
    let dto = LogDto {
        v: LOG_RECORD_VERSION,
        number: e.number,
        code: e.code.name().to_owned(),
        time: e.time.0,
        cause: e.cause.0,
        tilt: e.tilt,
        amount: e.amount,
        attendant: e.attendant.as_ref().map(ToString::to_string),
        meters: ReportedMeter::ALL
            .iter()
            .map(|m| (m.name().to_owned(), e.meters.get(*m)))
            .collect(),
    };
    rmp_serde::to_vec_named(&dto)
        .map_err(|err| StoreError::permanent(format!("encoding log entry {}: {err}", e.number)))
}

/// Decodes a log entry.
pub fn decode_log(bytes: &[u8]) -> Result<LogEntry, StoreError> {
    let d: LogDto = rmp_serde::from_slice(bytes).map_err(|e| bad("machine log entry", e))?;
    if d.v > LOG_RECORD_VERSION {
        return Err(StoreError::permanent(format!(
            "stored log entry version {} is newer than this build reads ({LOG_RECORD_VERSION})",
            d.v
        )));
    }
    let code = LogCode::from_name(&d.code)
        .ok_or_else(|| StoreError::permanent(format!("stored log code {:?} is unknown", d.code)))?;
    let mut meters = MeterReport::default();
    for (name, v) in d.meters {
        let m = ReportedMeter::from_name(&name)
            .ok_or_else(|| StoreError::permanent(format!("stored meter {name:?} is unknown")))?;
        meters.set(m, v);
    }
    Ok(LogEntry {
        number: d.number,
        code,
        time: Timestamp(d.time),
        cause: EventId(d.cause),
        tilt: d.tilt,
        amount: d.amount,
        attendant: d
            .attendant
            .map(|a| AttendantId::new(&a))
            .transpose()
            .map_err(|e| StoreError::permanent(format!("stored log entry: {e}")))?,
        meters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_newer_ones_are_refused() {
        let mut meters = MeterReport::default();
        meters.set(ReportedMeter::CoinIn, 1_250_000);
        meters.set(ReportedMeter::GamesWon, 3);
        for (code, tilt) in [(LogCode::Tilt, Some(42)), (LogCode::MeterVariance, None)] {
            let e = LogEntry {
                number: 7,
                code,
                time: Timestamp(1_700_000_000_000),
                cause: EventId(99),
                tilt,
                amount: Some(12_000),
                attendant: Some(AttendantId::new("ATT-3").unwrap()),
                meters,
            };
            assert_eq!(decode_log(&encode_log(&e).unwrap()).unwrap(), e);
        }
        let newer = LogDto {
            v: LOG_RECORD_VERSION + 1,
            number: 1,
            code: "tilt".into(),
            time: 0,
            cause: 0,
            tilt: None,
            amount: None,
            attendant: None,
            meters: vec![],
        };
        let e = decode_log(&rmp_serde::to_vec_named(&newer).unwrap()).unwrap_err();
        assert!(!e.is_transient(), "{e}");
    }
}
