//! Promotional credits (RULES.md M-13) mixed into machine play: a host puts restricted or
//! non-restricted credits on a machine; now and then a version 1 producer sends a credit type
//! (ignored, E-2), or a version 2 one sends a bad one (rejected). Its own random draws, so
//! that adding it left the rest of every seed's draws as they were (the play of a machine it
//! credited changes with its credits).

use rand::Rng;

use crate::wire::InputPayload;

use super::{World, CURRENCY};

/// How often, per thousand machine steps, a promotional flow is mixed in.
const PROMO_FLOWS_PER_MILLE: u32 = 12;

/// A cashless cash-in with a credit type.
pub(super) fn promo_in(amount: i64, credit_type: &str, kind: &str) -> InputPayload {
    InputPayload::CashIn {
        kind: kind.to_owned(),
        amount,
        currency: CURRENCY.to_owned(),
        validation: None,
        credit_type: Some(credit_type.to_owned()),
    }
}

impl World {
    /// Maybe a promotional flow on machine `m`, after its step.
    pub(super) fn promo_flow(&mut self, m: usize) {
        if self.promo_rng.gen_range(0..1000) >= PROMO_FLOWS_PER_MILLE {
            return;
        }
        let amount = [500, 1_000, 2_500][self.promo_rng.gen_range(0..3)];
        let roll = self.promo_rng.gen_range(0..20);
        if !self.machines[m].v2 {
            // E-2: version 1 has no credit type: a cashable transfer.
            self.case("promo_in_version_1");
            self.machines[m].credits += amount;
            self.send_machine(m, promo_in(amount, "restricted", "cashless"));
        } else if roll == 0 {
            // A credit type the rules do not know, or on a bill: rejected, nothing counted.
            self.case("promo_malformed");
            let payload = if self.promo_rng.gen_bool(0.5) {
                promo_in(amount, "freeplay", "cashless")
            } else {
                promo_in(amount, "restricted", "bill")
            };
            let env = self.machine_event(m, payload);
            self.deliver_machine(m, env);
        } else if roll < 14 {
            self.case("promo_restricted");
            self.machines[m].restricted += amount;
            self.send_machine(m, promo_in(amount, "restricted", "cashless"));
        } else {
            self.case("promo_nonrestricted");
            self.machines[m].credits += amount;
            self.send_machine(m, promo_in(amount, "nonrestricted", "cashless"));
        }
    }
}
