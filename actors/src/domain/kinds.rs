//! Closed sets of names the core, the shell and the store share: which entity, which id,
//! which operation, which running total. Each is an enum with the stable text the outputs, the
//! refusals and the store spell. A leaf module, so the error type, the wallet and the machine
//! can all name them without importing each other.

use std::fmt;

macro_rules! named {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $(#[doc = concat!("`", $text, "`")] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable text (outputs, refusals, the store).
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value whose [`Self::name`] is `text`.
            pub fn from_name(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.name() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named! {
    /// The five kinds of entity, each a state machine of its own. The names are stored (the
    /// ledger's `entity_kind`) and are metric labels: they never change.
    EntityKind {
        Machine => "machine",
        Wallet => "wallet",
        Pool => "pool",
        Hall => "hall",
        Voucher => "voucher",
        Desk => "desk",
    }
}

impl EntityKind {
    /// How many there are (the length of per-kind arrays).
    pub const COUNT: usize = 6;

    /// The position in [`EntityKind::ALL`], for per-kind arrays of counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

named! {
    /// Which kind of id failed validation.
    IdKind {
        Machine => "machine id",
        Player => "player id",
        Pool => "pool id",
        Hall => "hall id",
        Tx => "transaction id",
        Server => "server id",
        Round => "round id",
        Attendant => "attendant id",
        Validation => "validation number",
    }
}

named! {
    /// A wallet operation, as wallet outputs and the ledger name it.
    WalletOpKind {
        Deposit => "deposit",
        Withdrawal => "withdrawal",
        Bet => "bet",
        Win => "win",
        Rollback => "rollback",
        KycStatus => "kyc_status",
        DepositLimit => "deposit_limit",
        LossLimit => "loss_limit",
        SessionLimit => "session_limit",
        SelfExclusion => "self_exclusion",
        TransferRequest => "transfer_request",
        TransferCancel => "transfer_cancel",
        TransferRelease => "transfer_release",
        TransferSettle => "transfer_settle",
        TransferFromMachine => "transfer_from_machine",
        BonusAward => "bonus_award",
        BonusConvert => "bonus_convert",
        BonusExpire => "bonus_expire",
    }
}

named! {
    /// Where a player stands with identity checks (RULES.md W-8), as the KYC provider's
    /// `kyc_status` event says.
    KycStatus {
        Unverified => "unverified",
        Verified => "verified",
        Blocked => "blocked",
    }
}

impl Default for KycStatus {
    /// A player no KYC event has named yet is unverified (W-8).
    fn default() -> Self {
        KycStatus::Unverified
    }
}

named! {
    /// A voucher command or fact, as voucher outputs name it (RULES.md V-2..V-7).
    VoucherOpKind {
        Issue => "issue",
        Redeem => "redeem",
        Commit => "commit",
        Cancel => "cancel",
        Void => "void",
        Printed => "printed",
        Credited => "credited",
        Expire => "expire",
        Release => "release",
    }
}

named! {
    /// Why a voucher command is refused (RULES.md V-2..V-6): the stable codes.
    VoucherRefusal {
        Unknown => "voucher_unknown",
        AlreadyRedeemed => "voucher_already_redeemed",
        PendingElsewhere => "voucher_pending_elsewhere",
        Expired => "voucher_expired",
        Voided => "voucher_voided",
        AmountMismatch => "voucher_amount_mismatch",
        Exists => "voucher_exists",
        NotHeld => "voucher_not_held",
        WrongHall => "voucher_wrong_hall",
    }
}

named! {
    /// Why a desk command is refused (RULES.md D-1, D-2, D-4): the stable codes.
    DeskRefusal {
        AlreadyOpen => "shift_already_open",
        NotOpen => "shift_not_open",
    }
}

named! {
    /// A machine operation a refusal can name.
    MachineOp {
        Bet => "bet",
        Win => "win",
        GameEnd => "game end",
        CashOut => "cash out",
    }
}

named! {
    /// A running total the core refuses to overflow.
    Total {
        Credits => "credits",
        CoinInMeter => "coin in meter",
        CoinOutMeter => "coin out meter",
        CashInMeter => "cash in meter",
        CashOutMeter => "cash out meter",
        JackpotPaidMeter => "jackpot paid meter",
        JackpotHandpaidMeter => "jackpot handpaid meter",
        WalletBalance => "wallet balance",
        WalletDeposits => "wallet deposits",
        WalletTotals => "wallet totals",
        WalletWins => "wallet wins",
        GgrBets => "GGR bets",
        GgrWins => "GGR wins",
        GgrJackpots => "GGR jackpots",
        GgrPromo => "GGR promo",
        PromoMeter => "promo meter",
        JackpotLevel => "jackpot level",
        JackpotPaid => "jackpot paid",
        JackpotSeeds => "jackpot seeds",
        MeterVariance => "meter variance",
        VoucherVariance => "voucher variance",
        DeskCash => "desk cash",
    }
}

named! {
    /// What an entry of a machine's event log records (RULES.md M-9). Stored and on the
    /// API: the names never change.
    LogCode {
        DoorOpen => "door_open",
        DoorClose => "door_close",
        Tilt => "tilt",
        TiltClear => "tilt_clear",
        CommsLost => "comms_lost",
        CommsRestored => "comms_restored",
        MeterSnapshot => "meter_snapshot",
        MeterVariance => "meter_variance",
        MeterReset => "meter_reset",
        HandpayPending => "handpay_pending",
        HandpayReset => "handpay_reset",
        PowerOff => "power_off",
        PowerOn => "power_on",
        SequenceReset => "sequence_reset",
    }
}

named! {
    /// What a machine locked up to pay by hand (RULES.md M-10).
    HandpayKind {
        CancelledCredits => "cancelled_credits",
        Jackpot => "jackpot",
    }
}

named! {
    /// Why a machine reported its absolute meters (RULES.md M-8).
    SnapshotReason {
        Periodic => "periodic",
        DoorClose => "door_close",
        DayEnd => "day_end",
        Request => "request",
    }
}

named! {
    /// The meters a machine reports in a snapshot (RULES.md M-8), in the order of
    /// [`MeterReport`](crate::domain::machine::MeterReport)'s values. The names are on the wire
    /// (the snapshot's `meters` map, the variance alert's rows) and in the store.
    ReportedMeter {
        CoinIn => "coin_in",
        CoinOut => "coin_out",
        Jackpot => "jackpot",
        Handpaid => "handpaid",
        GamesPlayed => "games_played",
        GamesWon => "games_won",
        BillsIn => "bills_in",
        TicketsIn => "tickets_in",
        TicketsOut => "tickets_out",
        CashlessIn => "cashless_in",
        CashlessOut => "cashless_out",
    }
}

impl ReportedMeter {
    /// How many there are.
    pub const COUNT: usize = 11;

    /// The position in [`ReportedMeter::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether a snapshot's change in this meter is compared with what pitboss applied
    /// (RULES.md M-8): every meter but `jackpot`, whose awards reach the machine from its
    /// pools asynchronously (P-6 reconciles jackpot money).
    pub fn compared(self) -> bool {
        self != ReportedMeter::Jackpot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (i, k) in EntityKind::ALL.iter().enumerate() {
            assert_eq!(EntityKind::from_name(k.name()), Some(*k));
            assert_eq!(k.index(), i);
        }
        for k in IdKind::ALL {
            assert_eq!(IdKind::from_name(k.name()), Some(*k));
        }
        for k in WalletOpKind::ALL {
            assert_eq!(WalletOpKind::from_name(k.name()), Some(*k));
        }
        for k in KycStatus::ALL {
            assert_eq!(KycStatus::from_name(k.name()), Some(*k));
        }
        for k in VoucherRefusal::ALL {
            assert_eq!(VoucherRefusal::from_name(k.name()), Some(*k));
        }
        for k in DeskRefusal::ALL {
            assert_eq!(DeskRefusal::from_name(k.name()), Some(*k));
        }
        for k in VoucherOpKind::ALL {
            assert_eq!(VoucherOpKind::from_name(k.name()), Some(*k));
        }
        assert_eq!(EntityKind::ALL.len(), EntityKind::COUNT);
        for k in MachineOp::ALL {
            assert_eq!(MachineOp::from_name(k.name()), Some(*k));
        }
        for k in Total::ALL {
            assert_eq!(Total::from_name(k.name()), Some(*k));
        }
        for k in HandpayKind::ALL {
            assert_eq!(HandpayKind::from_name(k.name()), Some(*k));
        }
        for k in LogCode::ALL {
            assert_eq!(LogCode::from_name(k.name()), Some(*k));
        }
        for k in SnapshotReason::ALL {
            assert_eq!(SnapshotReason::from_name(k.name()), Some(*k));
        }
        assert_eq!(ReportedMeter::ALL.len(), ReportedMeter::COUNT);
        for (i, k) in ReportedMeter::ALL.iter().enumerate() {
            assert_eq!(ReportedMeter::from_name(k.name()), Some(*k));
            assert_eq!(k.index(), i);
        }
        assert_eq!(Total::from_name("no such total"), None);
    }
}
