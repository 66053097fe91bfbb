//! What the core emits, to records ready to produce: topic, key, deterministic id (see the
//! table in [`super`]) and bytes.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use pitboss_actors::domain::aml::CaseKind;
use pitboss_actors::domain::machine::Alert;
use pitboss_actors::domain::time::WINDOW_MS;
use pitboss_actors::domain::voucher::Party;
use pitboss_actors::domain::{MachineOp, VoucherOpKind};
use pitboss_actors::shell::{Output, WalletStatus};
use serde::Serialize;
use uuid::Uuid;

use super::payload::{
    AlertPayload, AmlCaseClosedPayload, AmlCasePayload, Bin, CashMovePayload,
    GamingDayMachinePayload, GamingDayNetworkPayload, GamingDayPayload, GgrPayload,
    JackpotHitPayload, JackpotLevelsPayload, LevelPayload, MeterVarianceRow, OutputEnvelope,
    RatedSessionPayload, RefusedPayload, RejectedPayload, ShiftPayload, TransferPayload,
    VoucherPayload, WalletPayload,
};
use super::{
    OutputRecord, Topic, KIND_ALERT, KIND_CASE, KIND_CASE_CLOSED, KIND_GAMING_DAY,
    KIND_GAMING_DAY_MACHINE, KIND_GAMING_DAY_NETWORK, KIND_GGR, KIND_HIT, KIND_LEVELS,
    KIND_REFUSED, KIND_REJECTED, KIND_SESSION, KIND_SHIFT, KIND_TRANSFER, KIND_VOUCHER,
    KIND_WALLET, OUTPUT_ID_NAMESPACE, REJECTED_ORIGINAL_BYTES_MAX,
};
use crate::wire::{WireError, SCHEMA_VERSION};

/// Gives an output its topic, key, deterministic id and bytes.
pub fn encode_output(out: &Output) -> OutputRecord {
    let mut name = String::with_capacity(64);
    match out {
        Output::Ggr { window, currency } => {
            let hall = window.hall.as_str();
            let start = window.window.0;
            write_name(
                &mut name,
                format_args!("ggr {hall} {start} {}", window.revision),
            );
            let t = &window.totals;
            let payload = GgrPayload {
                hall: hall.into(),
                window_start: start,
                window_end: start.saturating_add(WINDOW_MS),
                bets: t.bets,
                wins: t.wins,
                ggr: t.bets.saturating_sub(t.wins),
                jackpots: t.jackpots,
                promo: t.promo,
                net_win: t
                    .bets
                    .saturating_sub(t.wins)
                    .saturating_sub(t.jackpots)
                    .saturating_sub(t.promo),
                games: t.games,
                revision: window.revision,
                currency: currency.as_str().into(),
            };
            record(Topic::Ggr, hall, &name, KIND_GGR, None, payload).aggregate(window.carried)
        }
        Output::JackpotLevels {
            pool,
            currency,
            levels,
            carried,
        } => {
            write_name(&mut name, format_args!("levels {pool}"));
            for l in levels {
                write_name(&mut name, format_args!(" {} {}", l.amount, l.hits));
            }
            let payload = JackpotLevelsPayload {
                pool: pool.as_str().into(),
                currency: currency.as_str().into(),
                levels: levels
                    .iter()
                    .map(|l| LevelPayload {
                        level: l.level,
                        name: l.name.as_str().into(),
                        amount: l.amount,
                        hits: l.hits,
                    })
                    .collect(),
            };
            record(
                Topic::Jackpots,
                pool.as_str(),
                &name,
                KIND_LEVELS,
                None,
                payload,
            )
            .aggregate(*carried)
        }
        Output::JackpotHit { hit, currency } => {
            write_name(
                &mut name,
                format_args!("hit {} {} {}", hit.pool, hit.level, hit.hit_number),
            );
            let payload = JackpotHitPayload {
                pool: hit.pool.as_str().into(),
                level: hit.level,
                name: hit.name.as_str().into(),
                amount: hit.amount.minor(),
                machine: hit.machine.as_str().into(),
                hit_number: hit.hit_number,
                currency: currency.as_str().into(),
            };
            let cause = hit.cause.to_string();
            record(
                Topic::Jackpots,
                hit.pool.as_str(),
                &name,
                KIND_HIT,
                Some(cause),
                payload,
            )
        }
        Output::Wallet {
            player,
            provider,
            tx,
            kind,
            status,
            currency,
            round,
            cause,
        } => {
            let cause = cause.to_string();
            write_name(&mut name, format_args!("wallet {player} {provider} {tx}"));
            let mut bonus_answer = None;
            let (status, delta, balance, code, reason) = match status {
                WalletStatus::Applied {
                    delta,
                    balance,
                    bonus,
                } => {
                    bonus_answer = *bonus;
                    ("applied", Some(*delta), Some(*balance), None, None)
                }
                WalletStatus::Refused { code, reason } => (
                    "refused",
                    None,
                    None,
                    Some(Cow::Borrowed(*code)),
                    Some(Cow::Borrowed(reason.as_str())),
                ),
            };
            let payload = WalletPayload {
                player: player.as_str().into(),
                provider: provider.as_str().into(),
                tx: tx.as_str().into(),
                round: round.as_ref().map(|r| r.as_str().into()),
                kind: kind.name().into(),
                status: status.into(),
                delta,
                balance,
                code,
                reason,
                currency: currency.as_str().into(),
                bonus_delta: bonus_answer.map(|b| b.delta),
                bonus: bonus_answer.map(|b| b.balance),
            };
            record(
                Topic::WalletEvents,
                player.as_str(),
                &name,
                KIND_WALLET,
                Some(cause),
                payload,
            )
        }
        Output::Alert {
            alert,
            cause,
            index,
        } => {
            let cause = cause.to_string();
            // A `sequence_stale` alert answers a delivery that was not applied, and an event
            // can be applied once and be stale when delivered again (its epoch no longer
            // kept, RULES.md M-1): its id must not be the applied delivery's first alert's.
            match alert {
                Alert::SequenceStale { .. } => {
                    write_name(&mut name, format_args!("{cause} alert sequence_stale"));
                }
                _ => write_name(&mut name, format_args!("{cause} alert {index}")),
            }
            let payload = alert_payload(alert);
            // Keyed by the machine; a desk's lapsed voucher hold by the validation number, a
            // desk's own alerts by the desk.
            let key = payload
                .machine
                .clone()
                .or_else(|| payload.validation.clone())
                .or_else(|| payload.desk.clone())
                .unwrap_or_default();
            record(Topic::Alerts, &key, &name, KIND_ALERT, Some(cause), payload)
        }
        Output::Voucher {
            validation,
            currency,
            note,
        } => {
            // RULES.md V-8: an answer is named by its key, a fact by its cause, a lapse by
            // the voucher and its time: the same whichever message made it happen.
            let (party_kind, party) = match &note.party {
                Party::Machine(m) => ("machine", m.as_str()),
                Party::Desk(d) => ("desk", d.as_str()),
            };
            let op = note.op.name();
            match (&note.tx, note.op) {
                (Some(tx), _) => write_name(
                    &mut name,
                    format_args!("voucher {validation} {party_kind} {party} {tx}"),
                ),
                (None, VoucherOpKind::Expire) => {
                    write_name(&mut name, format_args!("voucher {validation} expire"))
                }
                (None, VoucherOpKind::Release) => write_name(
                    &mut name,
                    format_args!("voucher {validation} release {}", note.time.0),
                ),
                (None, _) => write_name(
                    &mut name,
                    format_args!("voucher {validation} {op} {}", note.cause),
                ),
            }
            let payload = VoucherPayload {
                validation: validation.as_str().into(),
                op: op.into(),
                party_kind: party_kind.into(),
                party: party.into(),
                tx: note.tx.as_ref().map(|t| t.as_str().into()),
                status: if note.refused.is_some() {
                    "refused"
                } else {
                    "applied"
                }
                .into(),
                code: note.refused.as_ref().map(|e| e.code().into()),
                reason: note.refused.as_ref().map(|e| e.to_string().into()),
                amount: note.amount,
                voucher_status: note.status.into(),
                voucher_amount: note.voucher.as_ref().map(|(a, _)| *a),
                issuing_hall: note.voucher.as_ref().map(|(_, h)| h.as_str().into()),
                time: note.time.0,
                currency: currency.as_str().into(),
            };
            let cause = note.cause.to_string();
            record(
                Topic::Vouchers,
                validation.as_str(),
                &name,
                KIND_VOUCHER,
                Some(cause),
                payload,
            )
        }
        Output::Shift {
            desk,
            currency,
            note,
        } => {
            // RULES.md D-7: an answer is named by its key, a revision by the shift and its
            // revision number.
            match &note.tx {
                Some(tx) => write_name(&mut name, format_args!("shift {desk} {tx}")),
                None => write_name(
                    &mut name,
                    format_args!(
                        "shift {desk} {} revise {}",
                        note.shift.number, note.shift.revision
                    ),
                ),
            }
            let s = &note.shift;
            let payload = ShiftPayload {
                desk: desk.as_str().into(),
                hall: note.hall.as_str().into(),
                op: note.op.name().into(),
                tx: note.tx.as_ref().map(|t| t.as_str().into()),
                status: if note.refused.is_some() {
                    "refused"
                } else {
                    "applied"
                }
                .into(),
                code: note.refused.as_ref().map(|e| e.code().into()),
                reason: note.refused.as_ref().map(|e| e.to_string().into()),
                amount: note.amount,
                shift: s.number,
                cashier: s.cashier.as_str().into(),
                opened_at: s.opened_at.0,
                closed_at: s.closed_at.map(|t| t.0),
                float: s.float,
                cash_in: s.cash_in,
                cash_out: s.cash_out,
                fills: s.fills,
                credits: s.credits,
                expected: s.expected(),
                counted: s.counted,
                variance: s.variance(),
                operations: s.operations,
                revision: s.revision,
                time: note.time.0,
                currency: currency.as_str().into(),
            };
            let cause = note.cause.to_string();
            record(
                Topic::Shifts,
                desk.as_str(),
                &name,
                KIND_SHIFT,
                Some(cause),
                payload,
            )
        }
        Output::AmlCase { case } => {
            // RULES.md W-11: a threshold's case once per patron, day and way; a structuring
            // case once per cash-in that completes it.
            let last = case.evidence.last().map(|m| m.cause.to_string());
            let (kind, dir) = (case.kind.name(), case.dir.name());
            match case.kind {
                CaseKind::Structuring => write_name(
                    &mut name,
                    format_args!(
                        "aml {} structuring {}",
                        case.player,
                        last.as_deref().unwrap_or("-")
                    ),
                ),
                _ => write_name(
                    &mut name,
                    format_args!("aml {} {} {dir} {kind}", case.player, case.day.0),
                ),
            }
            let payload = AmlCasePayload {
                player: case.player.as_str().into(),
                case: kind.into(),
                direction: dir.into(),
                day: case.day.0,
                total: case.total,
                threshold: case.threshold,
                evidence: case
                    .evidence
                    .iter()
                    .map(|m| CashMovePayload {
                        event_id: m.cause.to_string().into(),
                        amount: m.amount,
                        time: m.at.0,
                        direction: m.dir.name().into(),
                        machine: m.machine.as_ref().map(|x| x.as_str().into()),
                    })
                    .collect(),
                left_out: case.left_out,
                currency: case.currency.as_str().into(),
            };
            record(
                Topic::Compliance,
                case.player.as_str(),
                &name,
                KIND_CASE,
                last,
                payload,
            )
        }
        Output::RatedSession {
            machine,
            currency,
            session,
            cause,
        } => {
            // RULES.md M-12: one session ends per event at most.
            let cause = cause.to_string();
            write_name(&mut name, format_args!("{cause} rated_session"));
            let r = &session.rating;
            let payload = RatedSessionPayload {
                machine: machine.as_str().into(),
                player: session.player.as_str().into(),
                hall: session.hall.as_str().into(),
                start: r.start.0,
                end: session.end.0,
                started_by: r.started_by.to_string().into(),
                ended_by: session.ended_by.name().into(),
                coin_in: r.coin_in,
                coin_out: r.coin_out,
                games: r.games,
                average_bet: session.average_bet(),
                theoretical_win: session.theoretical_win,
                actual_win: session.actual_win(),
                points: session.points,
                currency: currency.as_str().into(),
            };
            record(
                Topic::Sessions,
                session.player.as_str(),
                &name,
                KIND_SESSION,
                Some(cause),
                payload,
            )
        }
        Output::Transfer {
            player,
            currency,
            settled: s,
            cause,
        } => {
            // RULES.md W-10: one settlement per acknowledgement applied.
            let cause = cause.to_string();
            write_name(&mut name, format_args!("{cause} transfer"));
            let payload = TransferPayload {
                player: player.as_str().into(),
                transfer: s.transfer.as_str().into(),
                machine: s.machine.as_str().into(),
                direction: s.direction.name().into(),
                amount: s.amount,
                held: s.held,
                delta: s.delta,
                unbacked: s.unbacked,
                repeated: s.repeated,
                balance: s.balance,
                currency: currency.as_str().into(),
                credit_type: s.credit.is_restricted().then(|| s.credit.name().into()),
            };
            record(
                Topic::WalletEvents,
                player.as_str(),
                &name,
                KIND_TRANSFER,
                Some(cause),
                payload,
            )
        }
        Output::Refused {
            entity,
            code,
            reason,
            cause,
        } => {
            let cause = cause.to_string();
            // As the `sequence_stale` alert's (above): an event refused when it was delivered
            // (a claim not eligible, say) can be stale when delivered again much later, and
            // that refusal must not take the first one's id.
            if *code == "sequence_stale" {
                write_name(&mut name, format_args!("{cause} refused sequence_stale"));
            } else {
                write_name(&mut name, format_args!("{cause} refused"));
            }
            let payload = RefusedPayload {
                entity: entity.as_str().into(),
                code: (*code).into(),
                reason: reason.as_str().into(),
            };
            record(
                Topic::Rejected,
                entity,
                &name,
                KIND_REFUSED,
                Some(cause),
                payload,
            )
        }
        Output::Rejected {
            reason,
            code,
            original,
            key,
            partition,
            offset,
        } => rejection(reason, code, original, key.as_deref(), *partition, *offset),
    }
}

/// The rejection of an input message that could not be decoded or validated: topic
/// `pitboss.rejected`, keyed by the message's own key (lossy UTF-8; empty if it had none),
/// with id v5 of `rejected <partition> <offset>`.
///
/// The id is unique only if positions are: a source outside Kafka must pass distinct
/// positions (a message counter as `offset`, say).
pub fn encode_rejection(
    reason: &WireError,
    original: &[u8],
    key: Option<&[u8]>,
    partition: i32,
    offset: i64,
) -> OutputRecord {
    rejection(
        &reason.to_string(),
        reason.code(),
        original,
        key,
        partition,
        offset,
    )
}

/// A hall's gaming-day report as an output on [`Topic::Reports`], keyed by hall (RULES.md
/// H-5). Its id is named by its content (see the table in [`super`]): publishing an
/// unchanged day again yields the same id, and two contents never share one.
pub fn encode_gaming_day(day: &GamingDayPayload<'_>) -> OutputRecord {
    let name = format!(
        "gaming-day {} {} {} {} {} {} {} {}",
        day.hall,
        day.date,
        day.revision,
        day.handle,
        day.wins,
        day.jackpots,
        day.games,
        day.windows
    );
    record(Topic::Reports, &day.hall, &name, KIND_GAMING_DAY, None, day)
}

/// A compliance officer's closing of an AML case as an output on [`Topic::Compliance`],
/// keyed by the case's player (so it follows the case on its partition). Named by what it
/// says (see the table in [`super`]): the same closing sent again has the same id.
pub fn encode_case_closed(c: &AmlCaseClosedPayload<'_>) -> OutputRecord {
    use sha2::Digest;
    let reason: String = sha2::Sha256::digest(c.reason.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = format!(
        "aml-close {} {} {} {reason}",
        c.case_id, c.closed_at, c.operator
    );
    record(
        Topic::Compliance,
        &c.player,
        &name,
        KIND_CASE_CLOSED,
        None,
        c,
    )
}

/// The Kafka key of the network's gaming day (one partition keeps its revisions in order).
pub const NETWORK_KEY: &str = "NETWORK";

/// The network's gaming day so far as an output on [`Topic::Reports`] (RULES.md H-5), named
/// by its content.
pub fn encode_gaming_day_network(day: &GamingDayNetworkPayload<'_>) -> OutputRecord {
    let name = format!(
        "gaming-day-network {} {} {} {} {} {} {} {} {} {}",
        day.date,
        day.halls_closed,
        day.halls_open,
        day.revision,
        day.handle,
        day.wins,
        day.jackpots,
        day.promo,
        day.games,
        day.windows
    );
    record(
        Topic::Reports,
        NETWORK_KEY,
        &name,
        KIND_GAMING_DAY_NETWORK,
        None,
        day,
    )
}

/// A machine's gaming day as an output on [`Topic::Reports`], keyed by machine (RULES.md
/// H-5), named by its content.
pub fn encode_gaming_day_machine(m: &GamingDayMachinePayload<'_>) -> OutputRecord {
    let amounts = [
        m.coin_in,
        m.coin_out,
        m.handpaid_wins,
        m.jackpots,
        m.promo_played,
        m.ggr,
        m.net_win,
        m.bills_in,
        m.tickets_in,
        m.drop,
        m.tickets_out,
        m.cashless_in,
        m.cashless_out,
        m.handpays,
        m.restricted_in,
        m.nonrestricted_in,
        m.theoretical_win,
        m.games,
    ];
    let mut name = format!("gaming-day-machine {} {} {}", m.machine, m.hall, m.date);
    for a in amounts {
        name.push_str(&format!(" {a}"));
    }
    name.push_str(&format!(" {}", m.movements));
    record(
        Topic::Reports,
        &m.machine,
        &name,
        KIND_GAMING_DAY_MACHINE,
        None,
        m,
    )
}

fn rejection(
    reason: &str,
    code: &str,
    original: &[u8],
    key: Option<&[u8]>,
    partition: i32,
    offset: i64,
) -> OutputRecord {
    let name = format!("rejected {partition} {offset}");
    let kept = &original[..original.len().min(REJECTED_ORIGINAL_BYTES_MAX)];
    let payload = RejectedPayload {
        reason: reason.into(),
        reason_code: code.into(),
        original: Bin(Cow::Borrowed(kept)),
        original_len: original.len() as u64,
        original_key: key.map(|k| Bin(Cow::Borrowed(k))),
        partition,
        offset,
    };
    let key = key.map(String::from_utf8_lossy).unwrap_or_default();
    record(Topic::Rejected, &key, &name, KIND_REJECTED, None, payload)
}

fn alert_payload(alert: &Alert) -> AlertPayload<'_> {
    let mut p = AlertPayload {
        kind: alert.code().into(),
        severity: alert.severity().name().into(),
        machine: alert.machine().map(|m| m.as_str().into()),
        validation: alert.voucher().map(|v| v.to_string().into()),
        ..AlertPayload::default()
    };
    match alert {
        Alert::SequenceGap { expected, got, .. } => {
            p.expected = Some(*expected);
            p.got = Some(*got);
        }
        Alert::SequenceReset {
            old_epoch,
            old_high,
            epoch,
            ..
        } => {
            p.epoch = Some(*epoch);
            p.previous_epoch = Some(*old_epoch);
            p.previous_high = Some(*old_high);
        }
        Alert::SequenceStale { epoch, seq, .. } => {
            p.epoch = Some(*epoch);
            p.seq = Some(*seq);
        }
        Alert::CreditVariance {
            op,
            amount,
            credits,
            shortfall,
            ..
        } => {
            p.op = Some(
                match op {
                    MachineOp::CashOut => "cash_out",
                    _ => "bet",
                }
                .into(),
            );
            p.amount = Some(*amount);
            p.credits = Some(*credits);
            p.shortfall = Some(*shortfall);
        }
        Alert::WinOutsideGame { amount, .. } | Alert::LargeCashIn { amount, .. } => {
            p.amount = Some(*amount);
        }
        Alert::CardSessionOverlap {
            player, previous, ..
        } => {
            p.player = Some(player.as_str().into());
            p.previous_player = Some(previous.as_str().into());
        }
        Alert::MachineMoved { from, to, .. } => {
            p.hall = Some(to.as_str().into());
            p.previous_hall = Some(from.as_str().into());
        }
        Alert::ClockSkew {
            event_time,
            receive_time,
            ..
        } => {
            p.event_time = Some(event_time.0);
            p.receive_time = Some(receive_time.0);
        }
        Alert::WrongCurrency { currency, .. } => {
            p.currency = Some(currency.to_string().into());
        }
        Alert::Overflow { total, .. } => p.total = Some(total.name().into()),
        Alert::Tilt { code, .. } => p.code = Some(*code),
        Alert::ClaimRefused { pool, level, .. } => {
            p.pool = Some(pool.as_str().into());
            p.level = Some(*level);
        }
        Alert::JackpotVariance {
            pool,
            level,
            level_amount,
            paid,
            ..
        } => {
            p.pool = Some(pool.as_str().into());
            p.level = Some(*level);
            p.level_amount = Some(*level_amount);
            p.amount = Some(*paid);
        }
        Alert::MeterVariance {
            reason,
            previous,
            previous_time,
            rows,
            ..
        } => {
            p.reason = Some(reason.name().into());
            p.previous_snapshot = Some(previous.to_string().into());
            p.previous_snapshot_time = Some(previous_time.0);
            p.meters = Some(
                rows.iter()
                    .map(|r| MeterVarianceRow {
                        meter: r.meter.name().into(),
                        reported: r.reported,
                        applied: r.applied,
                        variance: r.variance(),
                    })
                    .collect(),
            );
        }
        Alert::MeterReset {
            meter,
            previous,
            reported,
            ..
        } => {
            p.meter = Some(meter.name().into());
            p.previous_value = Some(*previous);
            p.reported = Some(*reported);
        }
        Alert::HandpayPending { kind, amount, .. } => {
            p.handpay_kind = Some(kind.name().into());
            p.amount = Some(*amount);
        }
        Alert::HandpayResetWithoutPending { attendant, .. } => {
            p.attendant = Some(attendant.as_str().into());
        }
        Alert::WinAboveHandpayThreshold {
            amount, threshold, ..
        } => {
            p.amount = Some(*amount);
            p.threshold = Some(*threshold);
        }
        Alert::GameEndWithoutBet { .. }
        | Alert::CardOutWithoutSession { .. }
        | Alert::DoorOpen { .. }
        | Alert::CommsLost { .. }
        | Alert::PowerOff { .. } => {}
        Alert::MachineSilent {
            hall,
            last_event_time,
            silent_secs,
            ..
        } => {
            p.hall = Some(hall.as_str().into());
            p.event_time = Some(last_event_time.0);
            p.silent_secs = Some(*silent_secs);
        }
        Alert::MachineSilenceCleared { hall, .. } | Alert::LocationOnline { hall, .. } => {
            p.hall = Some(hall.as_str().into());
        }
        Alert::LocationOffline { hall, machines, .. } => {
            p.hall = Some(hall.as_str().into());
            p.machines = Some(*machines);
        }
        Alert::VoucherNumberReused { amount, status, .. }
        | Alert::VoucherCreditUnbacked { amount, status, .. } => {
            p.amount = Some(*amount);
            p.voucher_status = Some((*status).into());
        }
        Alert::VoucherRedeemedWithoutHold { amount, holder, .. } => {
            p.amount = Some(*amount);
            p.holder = holder.as_ref().map(|h| h.as_str().into());
        }
        Alert::VoucherAmountVariance {
            voucher, credited, ..
        } => {
            p.amount = Some(*credited);
            p.voucher_amount = Some(*voucher);
        }
        Alert::ShiftVariance {
            desk,
            shift,
            expected,
            counted,
            variance,
        } => {
            p.desk = Some(desk.as_str().into());
            p.shift = Some(*shift);
            p.amount = Some(*expected);
            p.counted = Some(*counted);
            p.variance = Some(*variance);
        }
        Alert::DeskCashWithoutShift { desk, amount } => {
            p.desk = Some(desk.as_str().into());
            p.amount = Some(*amount);
        }
        Alert::VoucherHoldReleased { holder, amount, .. } => {
            p.amount = Some(*amount);
            p.holder = Some(holder.as_str().into());
        }
        Alert::TransferHoldReleased {
            player,
            transfer,
            amount,
            ..
        } => {
            p.player = Some(player.as_str().into());
            p.transfer = Some(transfer.as_str().into());
            p.amount = Some(*amount);
        }
        Alert::TransferWithoutHold {
            player,
            transfer,
            amount,
            unbacked,
            ..
        } => {
            p.player = Some(player.as_str().into());
            p.transfer = Some(transfer.as_str().into());
            p.amount = Some(*amount);
            p.unbacked = Some(*unbacked);
        }
        Alert::TransferAmountVariance {
            player,
            transfer,
            held,
            amount,
            unbacked,
            ..
        } => {
            p.player = Some(player.as_str().into());
            p.transfer = Some(transfer.as_str().into());
            p.amount = Some(*amount);
            p.held = Some(*held);
            p.unbacked = Some(*unbacked);
        }
        Alert::TransferAcknowledgedTwice {
            player,
            transfer,
            amount,
            direction,
            ..
        } => {
            p.player = Some(player.as_str().into());
            p.transfer = Some(transfer.as_str().into());
            p.amount = Some(*amount);
            p.direction = Some((*direction).into());
        }
        Alert::SelfExcludedCardIn { player, until, .. } => {
            p.player = Some(player.as_str().into());
            p.until = Some(until.0);
        }
    }
    p
}

fn write_name(name: &mut String, args: fmt::Arguments<'_>) {
    // Writing to a String cannot fail.
    let _ = name.write_fmt(args);
}

fn record<P: Serialize>(
    topic: Topic,
    key: &str,
    name: &str,
    kind: &str,
    cause: Option<String>,
    payload: P,
) -> OutputRecord {
    let id = Uuid::new_v5(&OUTPUT_ID_NAMESPACE, name.as_bytes());
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let envelope = OutputEnvelope {
        output_id: Cow::Borrowed(&*id.hyphenated().encode_lower(&mut text)),
        schema_version: SCHEMA_VERSION,
        kind: Cow::Borrowed(kind),
        cause_event_id: cause.as_deref().map(Cow::Borrowed),
        payload,
    };
    let mut bytes = Vec::with_capacity(256);
    // Strings, integers, bins and maps with string keys: writing into a Vec cannot fail.
    rmp_serde::encode::write_named(&mut bytes, &envelope).expect("an output always serializes");
    OutputRecord {
        topic,
        key: key.to_owned(),
        id,
        cause,
        causes: None,
        bytes,
    }
}
