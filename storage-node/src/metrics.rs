//! The node's Prometheus metrics, served on their own address.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

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
    /// Sectors by state (`packing`, `pc1`, ... `terminated`).
    pub sectors: IntGaugeVec,
    /// Sealing phase durations by phase (`pc1`, `pc2`, `c1`, `c2`).
    pub phase_seconds: HistogramVec,
    /// Proofs submitted by kind (`porep`, `window_post`) and outcome
    /// (`accepted`, `refused`).
    pub proofs: IntCounterVec,
    /// Seconds a WindowPoSt took from the window's opening to its proof.
    pub post_seconds: HistogramVec,
    /// Epochs left in the window when a WindowPoSt landed.
    pub post_margin_epochs: IntGauge,
    /// Windows of this node's deadlines that closed with neither a proof
    /// nor their failing sectors declared faulty.
    pub deadlines_missed: IntCounter,
    /// Sectors declared faulty by the node's own check.
    pub faults_declared: IntCounter,
    /// The owner's spendable balance.
    pub balance: IntGauge,
    /// The owner's free market escrow (payments land here).
    pub escrow_free: IntGauge,
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
        let sectors = IntGaugeVec::new(Opts::new("sectors", "Sectors by state"), &["state"])?;
        let phase_seconds = HistogramVec::new(
            HistogramOpts::new("seal_phase_seconds", "Sealing phase durations").buckets(vec![
                0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
            ]),
            &["phase"],
        )?;
        let proofs = IntCounterVec::new(
            Opts::new(
                "proofs_submitted_total",
                "Proofs submitted by kind and the ledger's verdict",
            ),
            &["kind", "outcome"],
        )?;
        let post_seconds = HistogramVec::new(
            HistogramOpts::new(
                "window_post_seconds",
                "WindowPoSt: seconds from starting a deadline's proof to its submission",
            )
            .buckets(vec![0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0]),
            &["outcome"],
        )?;
        let post_margin_epochs = IntGauge::new(
            "window_post_margin_epochs",
            "Epochs left in the window when the last WindowPoSt landed",
        )?;
        let deadlines_missed = IntCounter::new(
            "deadlines_missed_total",
            "Windows of this node's deadlines that closed with neither a proof nor their sectors declared faulty",
        )?;
        let faults_declared = IntCounter::new(
            "faults_declared_total",
            "Sectors whose files failed the node's own check before a WindowPoSt",
        )?;
        let balance = IntGauge::new("owner_balance", "The owner's spendable balance")?;
        let escrow_free = IntGauge::new("owner_escrow_free", "The owner's free market escrow")?;
        for s in cairn_sectors::sector::State::ALL {
            sectors.with_label_values(&[s.name()]).set(0);
        }
        registry.register(Box::new(deal_requests.clone()))?;
        registry.register(Box::new(bytes_received.clone()))?;
        registry.register(Box::new(retrievals.clone()))?;
        registry.register(Box::new(bytes_served.clone()))?;
        registry.register(Box::new(pieces.clone()))?;
        registry.register(Box::new(ledger_epoch.clone()))?;
        registry.register(Box::new(peers.clone()))?;
        registry.register(Box::new(sectors.clone()))?;
        registry.register(Box::new(phase_seconds.clone()))?;
        registry.register(Box::new(proofs.clone()))?;
        registry.register(Box::new(post_seconds.clone()))?;
        registry.register(Box::new(post_margin_epochs.clone()))?;
        registry.register(Box::new(deadlines_missed.clone()))?;
        registry.register(Box::new(faults_declared.clone()))?;
        registry.register(Box::new(balance.clone()))?;
        registry.register(Box::new(escrow_free.clone()))?;
        Ok(Self {
            registry,
            deal_requests,
            bytes_received,
            retrievals,
            bytes_served,
            pieces,
            ledger_epoch,
            peers,
            sectors,
            phase_seconds,
            proofs,
            post_seconds,
            post_margin_epochs,
            deadlines_missed,
            faults_declared,
            balance,
            escrow_free,
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
