//! Prometheus metrics of a validator (`cairn_deal_market_*`), served on its
//! metrics address, and the proof verifier wrapper that times every
//! Groth16 verification the ledger runs.

use std::time::Instant;

use cairn_ledger::verifier::{ProofVerifier, VerifyError};
use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::porep::PorepPublic;
use cairn_proofs::post::PublicSector;
use cairn_proofs::sector::{SealProof, WindowPostProof};
use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge, Registry};

/// A metric could not be registered.
#[derive(Debug, thiserror::Error)]
#[error("metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

/// The validator's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// Its registry (what `/metrics` renders).
    pub registry: Registry,
    /// Height of the last finalized block.
    pub height: IntGauge,
    /// Ledger epoch after the last finalized block.
    pub epoch: IntGauge,
    /// Transactions applied in finalized blocks.
    pub txs_applied: IntCounter,
    /// Transactions refused in finalized blocks.
    pub txs_refused: IntCounter,
    /// Transactions waiting in this validator's mempool.
    pub mempool: IntGauge,
    /// Seconds per proof verification (PoRep and WindowPoSt).
    pub proof_verify: Histogram,
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> Result<Self, MetricsError> {
        let registry = Registry::new();
        let height = IntGauge::new(
            "cairn_deal_market_height_blocks",
            "Height of the last finalized block",
        )?;
        let epoch = IntGauge::new(
            "cairn_deal_market_epoch",
            "Ledger epoch after the last finalized block",
        )?;
        let txs_applied = IntCounter::new(
            "cairn_deal_market_txs_applied_total",
            "Transactions applied in finalized blocks",
        )?;
        let txs_refused = IntCounter::new(
            "cairn_deal_market_txs_refused_total",
            "Transactions refused in finalized blocks",
        )?;
        let mempool = IntGauge::new(
            "cairn_deal_market_mempool_txs",
            "Transactions waiting in this validator's mempool",
        )?;
        let proof_verify = Histogram::with_opts(
            HistogramOpts::new(
                "cairn_deal_market_proof_verify_seconds",
                "Time to verify one PoRep or WindowPoSt proof",
            )
            .buckets(vec![0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]),
        )?;
        registry.register(Box::new(height.clone()))?;
        registry.register(Box::new(epoch.clone()))?;
        registry.register(Box::new(txs_applied.clone()))?;
        registry.register(Box::new(txs_refused.clone()))?;
        registry.register(Box::new(mempool.clone()))?;
        registry.register(Box::new(proof_verify.clone()))?;
        Ok(Self {
            registry,
            height,
            epoch,
            txs_applied,
            txs_refused,
            mempool,
            proof_verify,
        })
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Encoding into a String only fails on a metric with invalid
        // names, which `new` would have refused.
        let _ = prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out);
        out
    }
}

/// A [`ProofVerifier`] that records each verification's duration.
#[derive(Debug)]
pub struct TimedVerifier<V> {
    inner: V,
    histogram: Histogram,
}

impl<V> TimedVerifier<V> {
    /// Wraps `inner`.
    pub fn new(inner: V, histogram: Histogram) -> Self {
        Self { inner, histogram }
    }
}

impl<V: ProofVerifier> ProofVerifier for TimedVerifier<V> {
    fn verify_porep(
        &self,
        seal_proof: SealProof,
        public: &PorepPublic,
        proof: &[u8],
    ) -> Result<(), VerifyError> {
        let t = Instant::now();
        let r = self.inner.verify_porep(seal_proof, public, proof);
        self.histogram.observe(t.elapsed().as_secs_f64());
        r
    }

    fn verify_window_post(
        &self,
        post_proof: WindowPostProof,
        randomness: &PostRandomness,
        sectors: &[PublicSector],
        proof: &[u8],
    ) -> Result<(), VerifyError> {
        let t = Instant::now();
        let r = self
            .inner
            .verify_window_post(post_proof, randomness, sectors, proof);
        self.histogram.observe(t.elapsed().as_secs_f64());
        r
    }
}
