//! Reading outputs back (consumers, tests, the load-test reconciliation).

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::payload::{
    AlertPayload, AmlCaseClosedPayload, AmlCasePayload, GamingDayMachinePayload,
    GamingDayNetworkPayload, GamingDayPayload, GgrPayload, JackpotHitPayload, JackpotLevelsPayload,
    OutputEnvelope, RatedSessionPayload, RefusedPayload, RejectedPayload, ShiftPayload,
    TransferPayload, VoucherPayload, WalletPayload,
};
use super::{
    KIND_ALERT, KIND_CASE, KIND_CASE_CLOSED, KIND_GAMING_DAY, KIND_GAMING_DAY_MACHINE,
    KIND_GAMING_DAY_NETWORK, KIND_GGR, KIND_HIT, KIND_LEVELS, KIND_REFUSED, KIND_REJECTED,
    KIND_SESSION, KIND_SHIFT, KIND_TRANSFER, KIND_VOUCHER, KIND_WALLET,
};
use crate::wire::{scan, WireError, NESTING_DEPTH_MAX, SCHEMA_VERSION};

/// An output event read back from bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputEvent<'a> {
    /// `ggr`
    Ggr(OutputEnvelope<'a, GgrPayload<'a>>),
    /// `jackpot_levels`
    JackpotLevels(OutputEnvelope<'a, JackpotLevelsPayload<'a>>),
    /// `jackpot_hit`
    JackpotHit(OutputEnvelope<'a, JackpotHitPayload<'a>>),
    /// `wallet`
    Wallet(OutputEnvelope<'a, WalletPayload<'a>>),
    /// `alert` (boxed: its payload has a field for every alert's details)
    Alert(Box<OutputEnvelope<'a, AlertPayload<'a>>>),
    /// `refused`
    Refused(OutputEnvelope<'a, RefusedPayload<'a>>),
    /// `rejected`
    Rejected(OutputEnvelope<'a, RejectedPayload<'a>>),
    /// `voucher`
    Voucher(OutputEnvelope<'a, VoucherPayload<'a>>),
    /// `rated_session`
    RatedSession(OutputEnvelope<'a, RatedSessionPayload<'a>>),
    /// `aml_case`
    AmlCase(OutputEnvelope<'a, AmlCasePayload<'a>>),
    /// `gaming_day`
    GamingDay(OutputEnvelope<'a, GamingDayPayload<'a>>),
    /// `aml_case_closed`
    AmlCaseClosed(OutputEnvelope<'a, AmlCaseClosedPayload<'a>>),
    /// `gaming_day_network`
    GamingDayNetwork(OutputEnvelope<'a, GamingDayNetworkPayload<'a>>),
    /// `gaming_day_machine`
    GamingDayMachine(OutputEnvelope<'a, GamingDayMachinePayload<'a>>),
    /// `transfer`
    Transfer(OutputEnvelope<'a, TransferPayload<'a>>),
    /// `shift`
    Shift(OutputEnvelope<'a, ShiftPayload<'a>>),
}

impl OutputEvent<'_> {
    /// The output's `kind`, as written (`ggr`, `jackpot_levels`, `jackpot_hit`, `wallet`,
    /// `alert`, `refused`, `rejected`, `voucher`, `rated_session`, `aml_case`,
    /// `aml_case_closed`, `gaming_day`,
    /// `gaming_day_network`, `gaming_day_machine`, `transfer`, `shift`).
    pub fn kind(&self) -> &'static str {
        match self {
            OutputEvent::Ggr(_) => KIND_GGR,
            OutputEvent::JackpotLevels(_) => KIND_LEVELS,
            OutputEvent::JackpotHit(_) => KIND_HIT,
            OutputEvent::Wallet(_) => KIND_WALLET,
            OutputEvent::Alert(_) => KIND_ALERT,
            OutputEvent::Refused(_) => KIND_REFUSED,
            OutputEvent::Rejected(_) => KIND_REJECTED,
            OutputEvent::Voucher(_) => KIND_VOUCHER,
            OutputEvent::RatedSession(_) => KIND_SESSION,
            OutputEvent::AmlCase(_) => KIND_CASE,
            OutputEvent::GamingDay(_) => KIND_GAMING_DAY,
            OutputEvent::AmlCaseClosed(_) => KIND_CASE_CLOSED,
            OutputEvent::GamingDayNetwork(_) => KIND_GAMING_DAY_NETWORK,
            OutputEvent::GamingDayMachine(_) => KIND_GAMING_DAY_MACHINE,
            OutputEvent::Transfer(_) => KIND_TRANSFER,
            OutputEvent::Shift(_) => KIND_SHIFT,
        }
    }

    /// The output's id, as written.
    pub fn output_id(&self) -> &str {
        match self {
            OutputEvent::Ggr(e) => &e.output_id,
            OutputEvent::JackpotLevels(e) => &e.output_id,
            OutputEvent::JackpotHit(e) => &e.output_id,
            OutputEvent::Wallet(e) => &e.output_id,
            OutputEvent::Alert(e) => &e.output_id,
            OutputEvent::Refused(e) => &e.output_id,
            OutputEvent::Rejected(e) => &e.output_id,
            OutputEvent::Voucher(e) => &e.output_id,
            OutputEvent::RatedSession(e) => &e.output_id,
            OutputEvent::AmlCase(e) => &e.output_id,
            OutputEvent::GamingDay(e) => &e.output_id,
            OutputEvent::AmlCaseClosed(e) => &e.output_id,
            OutputEvent::GamingDayNetwork(e) => &e.output_id,
            OutputEvent::GamingDayMachine(e) => &e.output_id,
            OutputEvent::Transfer(e) => &e.output_id,
            OutputEvent::Shift(e) => &e.output_id,
        }
    }
}

/// Reads an output event (consumers, tests, the load-test reconciliation).
///
/// # Errors
///
/// [`WireError`] when the bytes are not one output event of schema version 1.
pub fn decode_output(bytes: &[u8]) -> Result<OutputEvent<'_>, WireError> {
    fn read<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, WireError> {
        let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
        de.set_max_depth(NESTING_DEPTH_MAX);
        T::deserialize(&mut de).map_err(WireError::from_rmp)
    }
    scan::check_one_map(bytes)?;
    let head: OutputEnvelope<'_, IgnoredAny> = read(bytes)?;
    if head.schema_version != SCHEMA_VERSION {
        return Err(WireError::UnsupportedVersion(i128::from(
            head.schema_version,
        )));
    }
    Ok(match &*head.kind {
        KIND_GGR => OutputEvent::Ggr(read(bytes)?),
        KIND_LEVELS => OutputEvent::JackpotLevels(read(bytes)?),
        KIND_HIT => OutputEvent::JackpotHit(read(bytes)?),
        KIND_WALLET => OutputEvent::Wallet(read(bytes)?),
        KIND_ALERT => OutputEvent::Alert(Box::new(read(bytes)?)),
        KIND_REFUSED => OutputEvent::Refused(read(bytes)?),
        KIND_REJECTED => OutputEvent::Rejected(read(bytes)?),
        KIND_VOUCHER => OutputEvent::Voucher(read(bytes)?),
        KIND_SESSION => OutputEvent::RatedSession(read(bytes)?),
        KIND_CASE => OutputEvent::AmlCase(read(bytes)?),
        KIND_GAMING_DAY => OutputEvent::GamingDay(read(bytes)?),
        KIND_CASE_CLOSED => OutputEvent::AmlCaseClosed(read(bytes)?),
        KIND_GAMING_DAY_NETWORK => OutputEvent::GamingDayNetwork(read(bytes)?),
        KIND_GAMING_DAY_MACHINE => OutputEvent::GamingDayMachine(read(bytes)?),
        KIND_TRANSFER => OutputEvent::Transfer(read(bytes)?),
        KIND_SHIFT => OutputEvent::Shift(read(bytes)?),
        other => {
            return Err(WireError::Schema(format!(
                "unknown output kind {:?}",
                other.chars().take(32).collect::<String>()
            )))
        }
    })
}
