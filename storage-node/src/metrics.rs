//! The node's Prometheus metrics, served on their own address.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Every metric the node exports.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// The registry `/metrics` renders.
    pub registry: Registry,
    /// Deal requests by kind and outcome (`ok` or the refusal).
    pub deal_requests: IntCounterVec,
    /// Payload bytes received in pushes.
    pub bytes_received: IntCounter,
    /// Retrieval requests by outcome.
    pub retrievals: IntCounterVec,
    /// Payload bytes served.
    pub bytes_served: IntCounter,
    /// Pieces held and countersigned.
    pub pieces: IntGauge,
    /// The ledger epoch last seen.
    pub ledger_epoch: IntGauge,
    /// Connected peers.
    pub peers: IntGauge,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("cairn_node".into()), None)?;
        let deal_requests = IntCounterVec::new(
            Opts::new(
                "deal_requests_total",
                "Deal protocol requests by kind and outcome",
            ),
            &["kind", "outcome"],
        )?;
        let bytes_received = IntCounter::new("bytes_received_total", "Piece bytes received")?;
        let retrievals = IntCounterVec::new(
            Opts::new("retrievals_total", "Retrieval requests by outcome"),
            &["outcome"],
        )?;
        let bytes_served = IntCounter::new("bytes_served_total", "Piece bytes served")?;
        let pieces = IntGauge::new("pieces", "Pieces held and countersigned")?;
        let ledger_epoch = IntGauge::new("ledger_epoch", "The ledger epoch last seen")?;
        let peers = IntGauge::new("peers", "Connected libp2p peers")?;
        registry.register(Box::new(deal_requests.clone()))?;
        registry.register(Box::new(bytes_received.clone()))?;
        registry.register(Box::new(retrievals.clone()))?;
        registry.register(Box::new(bytes_served.clone()))?;
        registry.register(Box::new(pieces.clone()))?;
        registry.register(Box::new(ledger_epoch.clone()))?;
        registry.register(Box::new(peers.clone()))?;
        Ok(Self {
            registry,
            deal_requests,
            bytes_received,
            retrievals,
            bytes_served,
            pieces,
            ledger_epoch,
            peers,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = String::new();
        let encoder = prometheus::TextEncoder::new();
        if let Err(e) = encoder.encode_utf8(&self.registry.gather(), &mut buf) {
            tracing::warn!("rendering metrics: {e}");
        }
        buf
    }
}
