//! One validator, wired: the authenticated p2p network (commonware
//! `lookup`: peers and their addresses come from genesis), marshal with
//! its block buffer, backfill resolver and archives, the
//! `marshal::standard::Deferred` wrapper around [`App`], simplex with the
//! BLS12-381 threshold VRF scheme and a random leader, the finalizer task,
//! the HTTP API and the metrics listener.
//!
//! [`start_consensus`] is everything from marshal to gossip, generic over
//! commonware's runtime and p2p network, so that the same code runs in
//! production ([`run`]: the tokio runtime, `lookup` over TCP, plus the
//! tokio-only API and metrics listeners) and in the deterministic
//! simulation of `tests/sim.rs` (the deterministic runtime and the
//! simulated network, with loss, partitions, crashes and an equivocator).
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
use commonware_p2p::{Address, AddressableManager as _, Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{
    Clock, Handle, Metrics as RuntimeMetrics, Quota, Spawner, Storage, Supervisor as _,
};
use commonware_storage::archive::immutable;
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{NZDuration, NZU16, NZU32, NZU64, NZUsize, ordered::Map};
use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use rand_core::CryptoRng;
use tracing::{error, info};

use crate::app::{App, Finalizer, SeedTap, run_finalizer};
use crate::chain::{Chain, ChainError};
use crate::config::{ConfigError, Home};
use crate::metrics::{Metrics, MetricsError};
use crate::store::{Store, StoreError};
use crate::{PublicKey, Scheme};
use crate::{api, gossip};

/// Largest p2p message: a full block plus framing.
pub const MAX_MESSAGE: u32 = 6 << 20;
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

    // The API and the metrics listener, bound before p2p dials out: a
    // port taken is reported before anything else starts.
    let bind = |addr: std::net::SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| NodeError::Bind { addr, source })
    };
    let api_listener = bind(home.file.api_listen).await?;
    let metrics_listener = bind(home.file.metrics_listen).await?;

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
    let channels = Channels {
        votes: network.register(0, quota),
        certificates: network.register(1, quota),
        resolver: network.register(2, quota),
        backfill: network.register(3, quota),
        broadcast: network.register(4, quota),
        txs: network.register(5, quota),
    };
    let network_handle = network.start();
    let wiring = Wiring {
        scheme,
        me,
        peers: oracle.clone(),
        blocker: oracle,
        partition_prefix: String::new(),
    };
    let mut running = start_consensus(context, chain.clone(), wiring, channels).await?;
    running.push("network", network_handle);

    info!(api = %home.file.api_listen, metrics = %home.file.metrics_listen, p2p = %home.file.p2p_listen, "validator running");
    let api_task = tokio::spawn(api::serve(api_listener, chain.clone()));
    let metrics_task = tokio::spawn(api::serve_metrics(metrics_listener, chain.clone()));

    let result = tokio::select! {
        () = shutdown => {
            info!("shutting down");
            Ok(())
        }
        e = running.stopped() => Err(e),
        _ = api_task => Err(NodeError::Stopped { actor: "api" }),
        _ = metrics_task => Err(NodeError::Stopped { actor: "metrics" }),
    };
    if let Err(e) = &result {
        error!(error = %e, "validator stopping");
    }
    result
}

/// One (sender, receiver) pair per p2p channel the validator uses.
#[derive(Debug)]
pub struct Channels<S, R> {
    /// 0: simplex votes.
    pub votes: (S, R),
    /// 1: simplex certificates.
    pub certificates: (S, R),
    /// 2: simplex's resolver.
    pub resolver: (S, R),
    /// 3: marshal's backfill.
    pub backfill: (S, R),
    /// 4: marshal's block broadcast.
    pub broadcast: (S, R),
    /// 5: transaction gossip.
    pub txs: (S, R),
}

/// What the consensus wiring needs besides the runtime and the channels.
#[derive(Debug)]
pub struct Wiring<P, B> {
    /// This validator's threshold signer.
    pub scheme: Scheme,
    /// This validator's identity.
    pub me: PublicKey,
    /// The peer sets (the p2p oracle).
    pub peers: P,
    /// Where misbehaving peers are reported (the p2p oracle).
    pub blocker: B,
    /// Prepended to every commonware storage partition name: empty for a
    /// validator with a storage directory of its own, distinct per
    /// validator where several share one storage (the simulation).
    pub partition_prefix: String,
}

/// The running consensus tasks of one validator.
pub struct Running {
    tasks: Vec<(&'static str, Handle<()>)>,
    finalizer: Handle<Result<(), ChainError>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.tasks.iter().map(|(n, _)| *n).collect();
        f.debug_struct("Running").field("tasks", &names).finish()
    }
}

impl Running {
    /// Adds a task whose end stops the validator.
    pub fn push(&mut self, actor: &'static str, handle: Handle<()>) {
        self.tasks.push((actor, handle));
    }

    /// Resolves when the first task ends, with why.
    pub async fn stopped(self) -> NodeError {
        let mut all: FuturesUnordered<BoxFuture<'static, NodeError>> = FuturesUnordered::new();
        for (actor, handle) in self.tasks {
            all.push(Box::pin(async move {
                let _ = handle.await;
                NodeError::Stopped { actor }
            }));
        }
        let finalizer = self.finalizer;
        all.push(Box::pin(async move {
            match finalizer.await {
                Ok(Err(e)) => NodeError::Chain(e),
                Ok(Ok(())) | Err(_) => NodeError::Stopped { actor: "finalizer" },
            }
        }));
        all.next()
            .await
            .unwrap_or(NodeError::Stopped { actor: "consensus" })
    }
}

/// Starts marshal (block buffer, backfill, archives), simplex over
/// [`App`], the finalizer and transaction gossip on `context`'s runtime,
/// over any p2p network: commonware's `lookup` in [`run`], its simulated
/// network in the deterministic simulation (`tests/sim.rs`).
pub async fn start_consensus<E, P, B, S, R>(
    context: E,
    chain: Arc<Chain>,
    wiring: Wiring<P, B>,
    channels: Channels<S, R>,
) -> Result<Running, NodeError>
where
    E: Clock + CryptoRng + Spawner + Storage + RuntimeMetrics,
    P: Provider<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    let Wiring {
        scheme,
        me,
        peers,
        blocker,
        partition_prefix: prefix,
    } = wiring;
    let marshal_prefix = format!("{prefix}marshal");
    let page_cache = CacheRef::new(NZU16!(4096), NZUsize!(256));
    let (buffer_engine, buffer) = commonware_broadcast::buffered::Engine::new(
        context.child("buffer"),
        commonware_broadcast::buffered::Config {
            public_key: me.clone(),
            mailbox_size: NZUsize!(1024),
            deque_size: 64,
            priority: false,
            codec_config: (),
            peer_provider: peers.clone(),
            strategy: Sequential,
        },
    );
    let buffer_handle = buffer_engine.start(channels.broadcast);
    let backfill = marshal_resolver::init(
        context.child("backfill"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: peers,
            blocker: blocker.clone(),
            mailbox_size: NZUsize!(1024),
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(200),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );
    let finalizations = immutable::Archive::init(
        context.child("finalizations"),
        archive_config(
            &marshal_prefix,
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
        archive_config(&marshal_prefix, "blocks", &page_cache, ()),
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
            partition_prefix: marshal_prefix.clone(),
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
            blocker,
            automaton: deferred.clone(),
            relay: deferred,
            reporter,
            strategy: Sequential,
            partition: format!("{prefix}simplex"),
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
    let engine_handle = engine.start(channels.votes, channels.certificates, channels.resolver);

    // The finalizer task and transaction gossip.
    let finalizer = context.child("finalizer").spawn({
        let chain = chain.clone();
        move |_| run_finalizer(chain, finalized_rx)
    });
    let (gossip_out, gossip_rx) = tokio::sync::mpsc::unbounded_channel();
    chain.set_gossip(gossip_out);
    let gossip_handle = context
        .child("gossip")
        .spawn(move |_| gossip::run(chain, gossip_rx, channels.txs));
    Ok(Running {
        tasks: vec![
            ("simplex", engine_handle),
            ("marshal", marshal_handle),
            ("buffer", buffer_handle),
            ("gossip", gossip_handle),
        ],
        finalizer,
    })
}
