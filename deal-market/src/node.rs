//! One validator, wired: the authenticated p2p network (commonware
//! `lookup`: peers and their addresses come from genesis), marshal with
//! its block buffer, backfill resolver and archives, the
//! `marshal::standard::Deferred` wrapper around [`App`], simplex with the
//! BLS12-381 threshold VRF scheme and a random leader, the finalizer task,
//! the HTTP API and the metrics listener.
//!
//! p2p channels: 0 votes, 1 certificates, 2 simplex's resolver, 3
//! marshal's backfill, 4 marshal's block broadcast, 5 transaction gossip.
//!
//! Storage: commonware's journals and archives (simplex's vote log,
//! marshal's finalized blocks and certificates) live under
//! `<home>/consensus`, the ledger's blocks and state in RocksDB under
//! `<home>/ledger`. On restart simplex replays its log, marshal redelivers
//! every finalized block not yet acknowledged, and the finalizer skips the
//! ones RocksDB already holds; a validator that was down receives the
//! missing finalized blocks by marshal's backfill from its peers.

use std::future::Future;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use commonware_consensus::marshal::standard::Deferred;
use commonware_consensus::marshal::{
    self, core::Actor as Marshal, resolver::p2p as marshal_resolver,
};
use commonware_consensus::simplex::{
    self, ForwardPolicy, SkipBudget, SkipPolicy,
    elector::{Random, RandomVersion},
};
use commonware_consensus::types::{Epoch, FixedEpocher, ViewDelta};
use commonware_cryptography::certificate::ConstantProvider;
use commonware_cryptography::{ChaCha20Poly1305, Digestible, Sha256, Signer as _};
use commonware_p2p::authenticated::lookup;
use commonware_p2p::{Address, AddressableManager as _};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Quota, Supervisor as _};
use commonware_storage::archive::immutable;
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{NZDuration, NZU16, NZU32, NZU64, NZUsize, ordered::Map};
use tracing::{error, info};

use crate::Scheme;
use crate::app::{App, Finalizer, SeedTap, run_finalizer};
use crate::chain::{Chain, ChainError};
use crate::config::{ConfigError, Home};
use crate::metrics::{Metrics, MetricsError};
use crate::store::{Store, StoreError};
use crate::{api, gossip};

/// Largest p2p message: a full block plus framing.
const MAX_MESSAGE: u32 = 6 << 20;
/// Commonware's epoch length. The committee is fixed at genesis, so one
/// epoch covers every height we will see.
const EPOCH_LENGTH: NonZeroU64 = NZU64!(1 << 40);

/// Why a validator stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// Its configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Its store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Its chain.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// Its metrics.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// The share does not belong to this validator.
    #[error("the share in validator.json is not this validator's")]
    Share,
    /// A listener could not bind.
    #[error("bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A consensus actor stopped on its own.
    #[error("{actor} stopped")]
    Stopped {
        /// Which.
        actor: &'static str,
    },
}

fn archive_config<C>(
    prefix: &str,
    name: &str,
    page_cache: &CacheRef,
    codec_config: C,
) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: 1024,
        freezer_table_resize_frequency: 4,
        freezer_table_resize_chunk_size: 1024,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: 64 << 20,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: NZU64!(4096),
        freezer_key_write_buffer: NZUsize!(1 << 20),
        freezer_value_write_buffer: NZUsize!(1 << 20),
        ordinal_write_buffer: NZUsize!(1 << 20),
        replay_buffer: NZUsize!(1 << 20),
        codec_config,
    }
}

/// Runs the validator of `home` until `shutdown` resolves or a part of it
/// fails. `context` is commonware's tokio runtime context, whose storage
/// directory must be `<home>/consensus`.
pub async fn run(
    context: commonware_runtime::tokio::Context,
    home: Home,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), NodeError> {
    let spec = home.spec.clone();
    let namespace = spec.file.namespace.as_bytes().to_vec();
    let me = home.key.public_key();
    let scheme = Scheme::signer(
        &namespace,
        spec.participants.clone(),
        spec.polynomial.clone(),
        home.share.clone(),
    )
    .ok_or(NodeError::Share)?;
    let seed_verifier = Scheme::verifier(
        &namespace,
        spec.participants.clone(),
        spec.polynomial.clone(),
    );
    let metrics = Metrics::new()?;
    let store = Store::open(&home.dir.join("ledger"))?;
    let chain = Arc::new(Chain::open(
        spec.clone(),
        &home.keys,
        store,
        metrics.clone(),
        seed_verifier,
    )?);
    let (tip, state) = chain.finalized();
    info!(height = tip.height, root = %hex::encode(tip.root), epoch = state.epoch().0, "ledger loaded");

    // p2p: every genesis validator at its genesis address.
    let p2p_cfg = lookup::Config::local(
        Cups::<_, ChaCha20Poly1305>::new(
            Sake {
                signer: home.key.clone(),
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        ),
        &namespace,
        home.file.p2p_listen,
        NZUsize!(spec.participants.len()),
        MAX_MESSAGE,
        NZUsize!(1024),
    );
    let (mut network, mut oracle) = lookup::Network::new(context.child("network"), p2p_cfg);
    let peers: Map<_, Address> = spec
        .peers
        .iter()
        .map(|(k, a)| (k.clone(), Address::from(*a)))
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|_| ConfigError::Field {
            field: "validators",
            reason: "duplicate public key".into(),
        })?;
    let _ = oracle.track(0, peers);
    let quota = Quota::per_second(NZU32!(10_000));
    let votes = network.register(0, quota);
    let certificates = network.register(1, quota);
    let resolver = network.register(2, quota);
    let backfill = network.register(3, quota);
    let broadcast = network.register(4, quota);
    let txs = network.register(5, quota);
    let network_handle = network.start();

    // Marshal: block buffer, backfill resolver, archives.
    let page_cache = CacheRef::new(NZU16!(4096), NZUsize!(256));
    let (buffer_engine, buffer) = commonware_broadcast::buffered::Engine::new(
        context.child("buffer"),
        commonware_broadcast::buffered::Config {
            public_key: me.clone(),
            mailbox_size: NZUsize!(1024),
            deque_size: 64,
            priority: false,
            codec_config: (),
            peer_provider: oracle.clone(),
            strategy: Sequential,
        },
    );
    let buffer_handle = buffer_engine.start(broadcast);
    let backfill = marshal_resolver::init(
        context.child("backfill"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: oracle.clone(),
            blocker: oracle.clone(),
            mailbox_size: NZUsize!(1024),
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(200),
            priority_requests: false,
            priority_responses: false,
        },
        backfill,
    );
    let finalizations = immutable::Archive::init(
        context.child("finalizations"),
        archive_config(
            "marshal",
            "finalizations",
            &page_cache,
            // The threshold scheme's certificates decode with no bound to
            // configure (`certificate_codec_config_unbounded()` is `()`).
            (),
        ),
    )
    .await
    .map_err(|_| NodeError::Stopped {
        actor: "finalizations archive",
    })?;
    let blocks = immutable::Archive::init(
        context.child("blocks"),
        archive_config("marshal", "blocks", &page_cache, ()),
    )
    .await
    .map_err(|_| NodeError::Stopped {
        actor: "blocks archive",
    })?;
    let epocher = FixedEpocher::new(EPOCH_LENGTH);
    let (marshal_actor, marshal_mailbox, _floor) = Marshal::init(
        context.child("marshal"),
        finalizations,
        blocks,
        marshal::Config {
            provider: ConstantProvider::new(scheme.clone()),
            epocher: epocher.clone(),
            start: marshal::Start::Genesis(chain.genesis().clone()),
            partition_prefix: "marshal".into(),
            mailbox_size: NZUsize!(1024),
            view_retention: ViewDelta::new(1024),
            prunable_items_per_section: NZU64!(256),
            page_cache: page_cache.clone(),
            replay_buffer: NZUsize!(1 << 20),
            key_write_buffer: NZUsize!(1 << 20),
            value_write_buffer: NZUsize!(1 << 20),
            block_codec_config: (),
            max_repair: NZUsize!(32),
            max_pending_acks: NZUsize!(16),
            strategy: Sequential,
        },
    )
    .await;
    let (finalizer, finalized_rx) = Finalizer::new();
    let marshal_handle = marshal_actor.start(finalizer, buffer, backfill);

    // The application, wrapped for marshal, and simplex.
    let deferred = Deferred::new(
        context.child("deferred"),
        App::new(chain.clone()),
        marshal_mailbox,
        epocher,
    );
    let reporter = SeedTap::new(chain.clone(), deferred.clone());
    let engine = simplex::Engine::new(
        context.child("simplex"),
        simplex::Config {
            scheme,
            elector: Random::<Sha256>::new(RandomVersion::V1),
            blocker: oracle.clone(),
            automaton: deferred.clone(),
            relay: deferred,
            reporter,
            strategy: Sequential,
            partition: "simplex".into(),
            mailbox_size: NZUsize!(1024),
            epoch: Epoch::zero(),
            floor: simplex::Floor::Genesis(chain.genesis().digest()),
            leader_timeout: Duration::from_secs(2),
            certification_timeout: Duration::from_secs(3),
            timeout_retry: Duration::from_secs(2),
            fetch_timeout: NZDuration!(Duration::from_secs(1)),
            fetch_retry_delay: Duration::from_millis(200),
            view_retention: ViewDelta::new(1024),
            skip: SkipPolicy::Enabled {
                timeout: Duration::from_secs(10),
                budget: SkipBudget::Participants,
            },
            replay_buffer: NZUsize!(1 << 20),
            write_buffer: NZUsize!(1 << 20),
            page_cache,
            forward: ForwardPolicy::Disabled,
            track_historical_votes: false,
        },
    );
    let engine_handle = engine.start(votes, certificates, resolver);

    // The finalizer task, transaction gossip, the API and the metrics listener.
    let finalizer_task = tokio::spawn(run_finalizer(chain.clone(), finalized_rx));
    let (gossip_out, gossip_rx) = tokio::sync::mpsc::unbounded_channel();
    chain.set_gossip(gossip_out);
    let gossip_task = tokio::spawn(gossip::run(chain.clone(), gossip_rx, txs));
    let api_listener = tokio::net::TcpListener::bind(home.file.api_listen)
        .await
        .map_err(|source| NodeError::Bind {
            addr: home.file.api_listen,
            source,
        })?;
    let metrics_listener = tokio::net::TcpListener::bind(home.file.metrics_listen)
        .await
        .map_err(|source| NodeError::Bind {
            addr: home.file.metrics_listen,
            source,
        })?;
    info!(api = %home.file.api_listen, metrics = %home.file.metrics_listen, p2p = %home.file.p2p_listen, "validator running");
    let api_task = tokio::spawn(api::serve(api_listener, chain.clone()));
    let metrics_task = tokio::spawn(api::serve_metrics(metrics_listener, chain.clone()));

    let result = tokio::select! {
        () = shutdown => {
            info!("shutting down");
            Ok(())
        }
        r = finalizer_task => match r {
            Ok(Ok(())) => Err(NodeError::Stopped { actor: "finalizer" }),
            Ok(Err(e)) => Err(NodeError::Chain(e)),
            Err(_) => Err(NodeError::Stopped { actor: "finalizer" }),
        },
        _ = engine_handle => Err(NodeError::Stopped { actor: "simplex" }),
        _ = marshal_handle => Err(NodeError::Stopped { actor: "marshal" }),
        _ = buffer_handle => Err(NodeError::Stopped { actor: "buffer" }),
        _ = network_handle => Err(NodeError::Stopped { actor: "network" }),
        _ = api_task => Err(NodeError::Stopped { actor: "api" }),
        _ = gossip_task => Err(NodeError::Stopped { actor: "gossip" }),
        _ = metrics_task => Err(NodeError::Stopped { actor: "metrics" }),
    };
    if let Err(e) = &result {
        error!(error = %e, "validator stopping");
    }
    result
}
