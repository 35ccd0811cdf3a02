//! JSON forms of the ledger's receipts and events, as the API, the stored
//! block records and the SSE stream carry them: one object per event with
//! its `kind` and its fields (addresses and commitments in full hex,
//! amounts as decimal strings, ids and epochs as numbers).

use cairn_ledger::{Event, Receipt};
use serde_json::{Value, json};

fn amount(a: u128) -> Value {
    Value::String(a.to_string())
}

/// An event as JSON.
pub fn event_json(e: &Event) -> Value {
    match e {
        Event::Transferred {
            from,
            to,
            amount: a,
        } => json!({
            "kind": "Transferred", "from": from.to_string(), "to": to.to_string(), "amount": amount(*a),
        }),
        Event::EscrowAdded { who, amount: a } => json!({
            "kind": "EscrowAdded", "who": who.to_string(), "amount": amount(*a),
        }),
        Event::EscrowWithdrawn { who, amount: a } => json!({
            "kind": "EscrowWithdrawn", "who": who.to_string(), "amount": amount(*a),
        }),
        Event::ProviderRegistered {
            provider,
            owner,
            seal_proof,
        } => json!({
            "kind": "ProviderRegistered", "provider": provider.0, "owner": owner.to_string(),
            "seal_proof": seal_proof.name(),
        }),
        Event::ProviderUpdated { provider } => json!({
            "kind": "ProviderUpdated", "provider": provider.0,
        }),
        Event::CollateralChanged {
            provider,
            added,
            withdrawn,
        } => json!({
            "kind": "CollateralChanged", "provider": provider.0, "added": amount(*added),
            "withdrawn": amount(*withdrawn),
        }),
        Event::DealPublished {
            deal,
            client,
            provider,
        } => json!({
            "kind": "DealPublished", "deal": deal.0, "client": client.to_string(), "provider": provider.0,
        }),
        Event::ManifestPublished { manifest } => json!({
            "kind": "ManifestPublished", "manifest": manifest.0,
        }),
        Event::SectorPreCommitted {
            provider,
            sector,
            seed_epoch,
        } => json!({
            "kind": "SectorPreCommitted", "provider": provider.0, "sector": sector.0,
            "seed_epoch": seed_epoch.0,
        }),
        Event::SectorActivated {
            provider,
            sector,
            deadline,
        } => json!({
            "kind": "SectorActivated", "provider": provider.0, "sector": sector.0, "deadline": deadline,
        }),
        Event::DealActivated { deal } => json!({ "kind": "DealActivated", "deal": deal.0 }),
        Event::WindowPostAccepted {
            provider,
            deadline,
            sectors,
        } => json!({
            "kind": "WindowPostAccepted", "provider": provider.0, "deadline": deadline, "sectors": sectors,
        }),
        Event::DealPaid {
            deal,
            amount: a,
            until,
        } => json!({
            "kind": "DealPaid", "deal": deal.0, "amount": amount(*a), "until": until.0,
        }),
        Event::DealSkipped {
            deal,
            returned,
            until,
        } => json!({
            "kind": "DealSkipped", "deal": deal.0, "returned": amount(*returned), "until": until.0,
        }),
        Event::SectorFaulty {
            provider,
            sector,
            fee,
            faults,
        } => json!({
            "kind": "SectorFaulty", "provider": provider.0, "sector": sector.0, "fee": amount(*fee),
            "faults": faults,
        }),
        Event::SectorFaultDeclared { provider, sector } => json!({
            "kind": "SectorFaultDeclared", "provider": provider.0, "sector": sector.0,
        }),
        Event::SectorRecovering { provider, sector } => json!({
            "kind": "SectorRecovering", "provider": provider.0, "sector": sector.0,
        }),
        Event::SectorTerminated { provider, sector } => json!({
            "kind": "SectorTerminated", "provider": provider.0, "sector": sector.0,
        }),
        Event::DealTerminated { deal, compensation } => json!({
            "kind": "DealTerminated", "deal": deal.0, "compensation": amount(*compensation),
        }),
        Event::DealCancelled { deal, slashed } => json!({
            "kind": "DealCancelled", "deal": deal.0, "slashed": amount(*slashed),
        }),
        Event::DealExpired { deal } => json!({ "kind": "DealExpired", "deal": deal.0 }),
        Event::SectorExpired { provider, sector } => json!({
            "kind": "SectorExpired", "provider": provider.0, "sector": sector.0,
        }),
        Event::PreCommitExpired {
            provider,
            sector,
            burnt,
        } => json!({
            "kind": "PreCommitExpired", "provider": provider.0, "sector": sector.0,
            "burnt": amount(*burnt),
        }),
        Event::Reward {
            provider,
            epoch,
            amount: a,
        } => json!({
            "kind": "Reward", "provider": provider.0, "epoch": epoch.0, "amount": amount(*a),
        }),
        // The ledger's event enum is non-exhaustive: a kind added later is
        // still reported, in its debug form, until it gets fields here.
        other => {
            let detail = format!("{other:?}");
            let kind = detail
                .split([' ', '{', '('])
                .next()
                .unwrap_or_default()
                .to_owned();
            json!({ "kind": kind, "detail": detail })
        }
    }
}

/// A receipt as JSON, with where the transaction was included.
pub fn receipt_json(r: &Receipt, height: u64, index: usize) -> Value {
    match &r.result {
        Ok(events) => json!({
            "tx": hex::encode(r.tx),
            "height": height,
            "index": index,
            "ok": true,
            "events": events.iter().map(event_json).collect::<Vec<_>>(),
        }),
        Err(refusal) => json!({
            "tx": hex::encode(r.tx),
            "height": height,
            "index": index,
            "ok": false,
            "refusal": refusal.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_ledger::{Address, DealId, Epoch, Refusal};

    #[test]
    fn events_and_receipts_carry_full_fields() {
        let e = Event::Transferred {
            from: Address([0xab; 20]),
            to: Address([0xcd; 20]),
            amount: u128::MAX,
        };
        let j = event_json(&e);
        assert_eq!(j["kind"], "Transferred");
        assert_eq!(j["from"], "ab".repeat(20));
        assert_eq!(j["amount"], u128::MAX.to_string());
        let paid = event_json(&Event::DealPaid {
            deal: DealId(3),
            amount: 10,
            until: Epoch(50),
        });
        assert_eq!(
            (paid["deal"].as_u64(), paid["until"].as_u64()),
            (Some(3), Some(50))
        );
        let r = Receipt {
            tx: [1; 32],
            result: Err(Refusal::BadSignature),
        };
        let j = receipt_json(&r, 7, 2);
        assert_eq!(
            (j["ok"].as_bool(), j["height"].as_u64()),
            (Some(false), Some(7))
        );
        assert_eq!(j["refusal"], Refusal::BadSignature.to_string());
    }
}
