//! The running node: the libp2p host's event loop, the ledger follower
//! and the metrics server, wired around the synchronous [`Intake`] and
//! retrieval cores.
//!
//! Requests are decoded by the protocol codecs (bounded frames), handled on
//! blocking workers (they touch disk), and answered from the event loop.
//! A peer that sends garbage only fails its own stream: the failure is
//! logged with the peer and counted, and the node keeps serving.

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn_ledger::tx::{Registration, TxBody};
use cairn_ledger::{DealId, ProviderId};
use cairn_proofs::sector::SealProof;
use cairn_types::keys::Keypair;
use cairn_types::ledger::{LedgerClient, LedgerError, ProviderInfo};
use cairn_types::p2p::{self, Behaviour, BehaviourEvent, Inbound, Role};
use cairn_types::{DealRequest, DealResponse, ProposalId, RetrieveResponse};
use futures::StreamExt as _;
use libp2p::request_response::{self, Message, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, identity, kad};
use tokio::sync::{mpsc, watch};

use crate::config::Home;
use crate::intake::{Intake, LedgerView, Terms};
use crate::metrics::Metrics;
use crate::store::{PieceStore, ProposalState};

/// How often the follower reads the ledger.
const POLL: Duration = Duration::from_secs(1);
/// A transfer with no push for this long gives up its slot.
const IDLE_TRANSFER: Duration = Duration::from_secs(600);
/// A request that takes longer fails (a vanished peer's requests end).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the node stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The home's config or keys.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A key file.
    #[error(transparent)]
    Key(#[from] cairn_types::keys::KeyError),
    /// The piece store.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The libp2p host.
    #[error("libp2p: {0}")]
    Host(String),
    /// The ledger URL.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A socket or file.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Writes a fresh libp2p identity (mode 0600, never overwriting).
pub fn write_identity(path: &Path) -> std::io::Result<()> {
    let bytes = identity::Keypair::generate_ed25519()
        .to_protobuf_encoding()
        .map_err(std::io::Error::other)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(&bytes)?;
    f.sync_all()
}

/// Reads the libp2p identity.
pub fn read_identity(path: &Path) -> std::io::Result<identity::Keypair> {
    let bytes = std::fs::read(path)?;
    identity::Keypair::from_protobuf_encoding(&bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

enum Done {
    Deal(ResponseChannel<DealResponse>, DealResponse),
    Retrieve(ResponseChannel<RetrieveResponse>, RetrieveResponse),
}

/// What the follower asks of the host.
enum Command {
    /// Other providers, for the DHT's routing table.
    Peers(Vec<(PeerId, Vec<Multiaddr>)>),
    /// Announce this node as a provider of an upload root.
    Provide(Vec<u8>),
}

fn request_kind(r: &DealRequest) -> &'static str {
    match r {
        DealRequest::Ask => "ask",
        DealRequest::Propose(_) => "propose",
        DealRequest::Push { .. } => "push",
        DealRequest::Status { .. } => "status",
        DealRequest::Finish { .. } => "finish",
        _ => "other",
    }
}

fn outcome(r: &DealResponse) -> String {
    match r {
        DealResponse::Refused(f) => {
            let s = format!("{f:?}");
            s.split([' ', '(', '{'])
                .next()
                .unwrap_or("refused")
                .to_owned()
        }
        _ => "ok".into(),
    }
}

/// Runs the node until `shutdown` resolves. `ready` receives the listen
/// addresses once the host is listening (tests and `cairn devnet` wait on
/// it through the log line too).
pub async fn run(home: Home, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
    let cfg = home.config.clone();
    let store = PieceStore::open(&home.data_dir())?;
    let owner = Keypair::load(&home.path(&cfg.owner_key))?;
    let worker = Keypair::load(&home.path(&cfg.worker_key))?;
    let identity = read_identity(&home.path(&cfg.p2p_key)).map_err(|source| NodeError::Io {
        what: format!("reading {}", home.path(&cfg.p2p_key).display()),
        source,
    })?;
    let seal_proof = SealProof::from_sector_size(home.sector_size).map_err(|_| {
        NodeError::Config(crate::config::ConfigError::Invalid {
            path: home.dir.join("config.toml"),
            reason: format!("no seal proof has sector size {}", home.sector_size),
        })
    })?;
    let ledger = LedgerClient::new(&cfg.ledger)?;
    let metrics = Metrics::new().map_err(|e| NodeError::Host(format!("metrics: {e}")))?;
    let pieces = store
        .records()?
        .iter()
        .filter(|(_, r)| r.provider_sig.is_some() && r.state.holds_space())
        .count();
    metrics
        .pieces
        .set(i64::try_from(pieces).unwrap_or(i64::MAX));

    let terms = Terms {
        price_per_byte_epoch: u128::from(cfg.price_per_byte_epoch),
        sector_size: home.sector_size,
        capacity: home.capacity,
        start_delay: cfg.start_delay,
        max_start_delay: cfg.max_start_delay,
        min_duration: cfg.min_duration,
        max_duration: cfg.max_duration,
        max_transfers: cfg.max_transfers,
    };
    let worker_pub = worker.public_key();
    let store = Arc::new(store);
    let intake = Arc::new(Mutex::new(Intake::new(store.clone(), worker, terms)));

    // Metrics first: an operator sees the node even while it registers.
    let metrics_addr: SocketAddr = cfg.metrics_addr.parse().map_err(|_| {
        NodeError::Config(crate::config::ConfigError::Invalid {
            path: home.dir.join("config.toml"),
            reason: format!("metrics_addr {:?} is not host:port", cfg.metrics_addr),
        })
    })?;
    let metrics_listener = tokio::net::TcpListener::bind(metrics_addr)
        .await
        .map_err(|source| NodeError::Io {
            what: format!("binding metrics on {metrics_addr}"),
            source,
        })?;
    let m = metrics.clone();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let m = m.clone();
            async move { m.render() }
        }),
    );
    tracing::info!(
        "metrics on http://{}/metrics",
        metrics_listener.local_addr().map_or(metrics_addr, |a| a)
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(metrics_listener, app).await {
            tracing::error!("metrics server: {e}");
        }
    });

    let mut swarm = p2p::host(identity, Role::Provider, REQUEST_TIMEOUT)
        .map_err(|e| NodeError::Host(e.to_string()))?;
    let peer_id = *swarm.local_peer_id();
    for a in &cfg.listen {
        let addr: Multiaddr = a
            .parse()
            .map_err(|e| NodeError::Host(format!("listen address {a:?}: {e}")))?;
        swarm
            .listen_on(addr)
            .map_err(|e| NodeError::Host(format!("listening on {a}: {e}")))?;
    }
    // Wait for every listener's address (ports chosen by the OS).
    let mut addrs: Vec<Multiaddr> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while addrs.len() < cfg.listen.len() {
        match tokio::time::timeout_at(deadline, swarm.select_next_some()).await {
            Ok(SwarmEvent::NewListenAddr { address, .. }) => addrs.push(address),
            Ok(SwarmEvent::ListenerError { error, .. }) => {
                return Err(NodeError::Host(format!("listener: {error}")));
            }
            Ok(_) => {}
            Err(_) => return Err(NodeError::Host("no listen address within 10 s".into())),
        }
    }
    let announce: Vec<String> = if cfg.announce.is_empty() {
        addrs.iter().map(ToString::to_string).collect()
    } else {
        cfg.announce.clone()
    };
    for a in &announce {
        tracing::info!("listening on {a}/p2p/{peer_id}");
    }

    let (view_tx, view_rx) = watch::channel(LedgerView::default());
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Command>(16);
    let follower = Follower {
        ledger,
        owner,
        worker: worker_pub,
        registration: Registration {
            worker: worker_pub,
            peer_id: peer_id.to_bytes(),
            multiaddrs: announce,
            seal_proof,
            price_per_byte_epoch: u128::from(cfg.price_per_byte_epoch),
            capacity: home.capacity,
            collateral: u128::from(cfg.collateral),
        },
        escrow: u128::from(cfg.escrow),
        intake: intake.clone(),
        view: view_tx,
        metrics: metrics.clone(),
        commands: cmd_tx,
        provided: Default::default(),
        peers_known: 0,
    };
    let follower = tokio::spawn(follower.run());

    // Sealing and proving share the worker key's submissions.
    let sealing_cfg = cfg.sealing.clone();
    let params_dir = if sealing_cfg.params_dir.as_os_str().is_empty() {
        cairn_proofs::snark::params::default_dir()
    } else {
        home.path(&sealing_cfg.params_dir)
    };
    let c2_lock = if sealing_cfg.c2_lock.as_os_str().is_empty() {
        params_dir.join("c2.lock")
    } else {
        home.path(&sealing_cfg.c2_lock)
    };
    std::fs::create_dir_all(&params_dir).map_err(|source| NodeError::Io {
        what: format!("creating {}", params_dir.display()),
        source,
    })?;
    let threads = if sealing_cfg.threads == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        sealing_cfg.threads
    };
    let shared = Arc::new(crate::sealing::Shared {
        store: store.clone(),
        ledger: LedgerClient::new(&cfg.ledger)?,
        submitter: crate::sealing::submit::Submitter::new(
            Keypair::load(&home.path(&cfg.worker_key))?,
            LedgerClient::new(&cfg.ledger)?,
        ),
        sealing: crate::sealing::phases::Sealing {
            files: crate::sealing::phases::SectorFiles::new(home.data_dir().join("sectors")),
            proof: seal_proof,
            threads,
        },
        metrics: metrics.clone(),
        post_busy: std::sync::atomic::AtomicBool::new(false),
        params_dir,
        c2_lock,
    });
    let (note_tx, note_rx) = mpsc::channel(64);
    let enabled = sealing_cfg.enabled;
    let (sealer_shared, sealer_view) = (shared.clone(), view_rx.clone());
    let sealer = tokio::spawn(async move {
        if enabled {
            crate::sealing::Sealer::new(sealer_shared, sealing_cfg, sealer_view, note_rx)
                .run()
                .await;
        } else {
            tracing::info!(
                "sealing is off ([sealing] enabled = false): deals are stored, not sealed"
            );
        }
    });
    let prover = tokio::spawn(crate::proving::Prover::new(shared, view_rx.clone(), note_tx).run());

    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(done) = done_rx.recv() => match done {
                Done::Deal(ch, resp) => {
                    if swarm.behaviour_mut().deal.send_response(ch, resp).is_err() {
                        tracing::debug!("a deal answer found its peer gone");
                    }
                }
                Done::Retrieve(ch, resp) => {
                    if swarm.behaviour_mut().retrieve.send_response(ch, resp).is_err() {
                        tracing::debug!("a retrieval answer found its peer gone");
                    }
                }
            },
            Some(cmd) = cmd_rx.recv() => match cmd {
                Command::Peers(peers) => {
                    for (p, addrs) in peers {
                        if p == peer_id {
                            continue;
                        }
                        for a in addrs {
                            swarm.behaviour_mut().kad.add_address(&p, a);
                        }
                    }
                    let _ = swarm.behaviour_mut().kad.bootstrap();
                }
                Command::Provide(key) => {
                    if let Err(e) = swarm.behaviour_mut().kad.start_providing(kad::RecordKey::new(&key)) {
                        tracing::warn!("announcing a provider record: {e}");
                    }
                }
            },
            ev = swarm.select_next_some() => {
                handle_event(ev, &mut swarm, &intake, &store, &view_rx, &metrics, &done_tx);
            }
        }
    }
    follower.abort();
    sealer.abort();
    prover.abort();
    tracing::info!("stopped");
    Ok(())
}

fn handle_event(
    ev: SwarmEvent<BehaviourEvent>,
    swarm: &mut Swarm<Behaviour>,
    intake: &Arc<Mutex<Intake>>,
    store: &Arc<PieceStore>,
    view: &watch::Receiver<LedgerView>,
    metrics: &Metrics,
    done: &mpsc::UnboundedSender<Done>,
) {
    match ev {
        SwarmEvent::Behaviour(BehaviourEvent::Deal(request_response::Event::Message {
            peer,
            message: Message::Request {
                request, channel, ..
            },
            ..
        })) => {
            let request = match request {
                Inbound::Valid(r) => r,
                Inbound::Malformed(why) => {
                    tracing::warn!(%peer, "malformed deal request: {why}");
                    metrics
                        .deal_requests
                        .with_label_values(&["unknown", "malformed"])
                        .inc();
                    let _ = done.send(Done::Deal(
                        channel,
                        DealResponse::Refused(cairn_types::DealRefusal::Malformed(why)),
                    ));
                    return;
                }
            };
            let intake = intake.clone();
            let view = *view.borrow();
            let metrics = metrics.clone();
            let done = done.clone();
            tokio::task::spawn_blocking(move || {
                let kind = request_kind(&request);
                let pushed = match &request {
                    DealRequest::Push { data, .. } => data.len() as u64,
                    _ => 0,
                };
                let resp = match intake.lock() {
                    Ok(mut i) => i.handle(request, &view),
                    Err(_) => DealResponse::Refused(cairn_types::DealRefusal::Internal(
                        "intake poisoned by an earlier panic; restart the node".into(),
                    )),
                };
                let out = outcome(&resp);
                if out != "ok" {
                    tracing::info!(%peer, kind, "deal request refused: {resp:?}");
                } else if matches!(resp, DealResponse::Received { .. }) {
                    metrics.bytes_received.inc_by(pushed);
                } else if matches!(resp, DealResponse::Signed { .. }) && kind == "finish" {
                    metrics.pieces.inc();
                }
                metrics.deal_requests.with_label_values(&[kind, &out]).inc();
                let _ = done.send(Done::Deal(channel, resp));
            });
        }
        SwarmEvent::Behaviour(BehaviourEvent::Retrieve(request_response::Event::Message {
            peer,
            message: Message::Request {
                request, channel, ..
            },
            ..
        })) => {
            let request = match request {
                Inbound::Valid(r) => r,
                Inbound::Malformed(why) => {
                    tracing::warn!(%peer, "malformed retrieval request: {why}");
                    metrics.retrievals.with_label_values(&["malformed"]).inc();
                    let _ = done.send(Done::Retrieve(
                        channel,
                        RetrieveResponse::Refused(cairn_types::RetrieveRefusal::Malformed(why)),
                    ));
                    return;
                }
            };
            // Retrieval reads the store directly: it never waits behind
            // deal intake (transfers, fsyncs, CommP).
            let store = store.clone();
            let metrics = metrics.clone();
            let done = done.clone();
            tokio::task::spawn_blocking(move || {
                let resp = crate::retrieve::serve(&store, &request);
                match &resp {
                    RetrieveResponse::Data(d) => {
                        metrics.bytes_served.inc_by(d.len() as u64);
                        metrics.retrievals.with_label_values(&["ok"]).inc();
                    }
                    _ => metrics.retrievals.with_label_values(&["refused"]).inc(),
                }
                let _ = done.send(Done::Retrieve(channel, resp));
            });
        }
        SwarmEvent::Behaviour(BehaviourEvent::Deal(request_response::Event::InboundFailure {
            peer,
            error,
            ..
        })) => {
            tracing::warn!(%peer, "bad deal request: {error}");
            metrics
                .deal_requests
                .with_label_values(&["unknown", "malformed"])
                .inc();
        }
        SwarmEvent::Behaviour(BehaviourEvent::Retrieve(
            request_response::Event::InboundFailure { peer, error, .. },
        )) => {
            tracing::warn!(%peer, "bad retrieval request: {error}");
            metrics.retrievals.with_label_values(&["malformed"]).inc();
        }
        SwarmEvent::ConnectionEstablished { .. } | SwarmEvent::ConnectionClosed { .. } => {
            metrics
                .peers
                .set(i64::try_from(swarm.connected_peers().count()).unwrap_or(i64::MAX));
        }
        _ => {}
    }
}

/// Follows the ledger: registers (or updates) the provider, tracks the
/// epoch and collateral, marks countersigned proposals published.
struct Follower {
    ledger: LedgerClient,
    owner: Keypair,
    worker: cairn_ledger::PublicKey,
    registration: Registration,
    escrow: cairn_ledger::Amount,
    intake: Arc<Mutex<Intake>>,
    view: watch::Sender<LedgerView>,
    metrics: Metrics,
    commands: mpsc::Sender<Command>,
    provided: std::collections::BTreeSet<Vec<u8>>,
    peers_known: usize,
}

impl Follower {
    async fn run(mut self) {
        let mut last_error = String::new();
        loop {
            match self.step().await {
                Ok(()) => last_error.clear(),
                Err(e) => {
                    // Log a persistent problem once, not every second.
                    if e != last_error {
                        tracing::warn!("ledger: {e}");
                        last_error = e;
                    }
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn step(&mut self) -> Result<(), String> {
        let status = self.ledger.status().await.map_err(|e| e.to_string())?;
        self.metrics
            .ledger_epoch
            .set(i64::try_from(status.epoch).unwrap_or(i64::MAX));
        let providers = self.ledger.providers().await.map_err(|e| e.to_string())?;
        let owner = self.owner.address().to_string();
        let worker = self.worker.to_string();
        let mine = providers
            .iter()
            .filter(|p| p.owner == owner && p.worker == worker)
            .max_by_key(|p| p.id);
        let Some(me) = mine else {
            self.register(status.chain_id).await?;
            return Ok(());
        };
        self.update_if_changed(me, status.chain_id).await?;
        let mut account = self
            .ledger
            .account(&self.owner.address())
            .await
            .map_err(|e| e.to_string())?;
        let held = account.escrow.free.saturating_add(account.escrow.locked);
        if held < self.escrow {
            let top_up = (self.escrow - held).min(account.balance);
            if top_up > 0 {
                tracing::info!(amount = %top_up, "adding market escrow for deal collateral");
                self.submit(
                    status.chain_id,
                    TxBody::EscrowAdd { amount: top_up },
                    "escrow top-up",
                )
                .await?;
                account = self
                    .ledger
                    .account(&self.owner.address())
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        let provider = ProviderId(me.id);
        self.metrics
            .balance
            .set(i64::try_from(account.balance).unwrap_or(i64::MAX));
        self.metrics
            .escrow_free
            .set(i64::try_from(account.escrow.free).unwrap_or(i64::MAX));
        self.view.send_replace(LedgerView {
            provider: Some(provider),
            epoch: status.epoch,
            free_collateral: account.escrow.free,
        });
        if providers.len() != self.peers_known {
            self.peers_known = providers.len();
            let peers = providers
                .iter()
                .filter_map(|p| {
                    let peer = PeerId::from_bytes(&hex::decode(&p.peer_id).ok()?).ok()?;
                    let addrs = p.multiaddrs.iter().filter_map(|a| a.parse().ok()).collect();
                    Some((peer, addrs))
                })
                .collect();
            let _ = self.commands.send(Command::Peers(peers)).await;
        }
        self.track_deals(provider).await?;
        let intake = self.intake.clone();
        let epoch = status.epoch;
        tokio::task::spawn_blocking(move || {
            intake
                .lock()
                .map_err(|_| "intake poisoned".to_string())?
                .expire(epoch, std::time::Instant::now(), IDLE_TRANSFER)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
        Ok(())
    }

    async fn submit(
        &self,
        chain_id: u64,
        body: TxBody,
        what: &str,
    ) -> Result<Vec<serde_json::Value>, String> {
        let nonce = self
            .ledger
            .account(&self.owner.address())
            .await
            .map_err(|e| e.to_string())?
            .nonce;
        let tx = self.owner.sign_tx(chain_id, nonce, body);
        let r = self.ledger.submit(&tx).await.map_err(|e| e.to_string())?;
        r.events()
            .map(<[_]>::to_vec)
            .map_err(|why| format!("{what} refused: {why} (owner {})", self.owner.address()))
    }

    async fn register(&self, chain_id: u64) -> Result<(), String> {
        tracing::info!(owner = %self.owner.address(), "registering with the ledger");
        let events = self
            .submit(
                chain_id,
                TxBody::RegisterProvider(self.registration.clone()),
                "registration",
            )
            .await?;
        let id = events
            .iter()
            .find(|e| e.get("kind").and_then(|k| k.as_str()) == Some("ProviderRegistered"))
            .and_then(|e| e.get("provider"))
            .and_then(serde_json::Value::as_u64);
        tracing::info!(provider = ?id, "registered");
        Ok(())
    }

    async fn update_if_changed(&self, me: &ProviderInfo, chain_id: u64) -> Result<(), String> {
        let r = &self.registration;
        let same = me.peer_id == hex::encode(&r.peer_id)
            && me.multiaddrs == r.multiaddrs
            && me.price_per_byte_epoch == r.price_per_byte_epoch
            && me.capacity == r.capacity;
        if same {
            return Ok(());
        }
        tracing::info!(
            provider = me.id,
            "updating the registration (addresses, ask or capacity changed)"
        );
        self.submit(
            chain_id,
            TxBody::UpdateProvider {
                provider: ProviderId(me.id),
                peer_id: r.peer_id.clone(),
                multiaddrs: r.multiaddrs.clone(),
                price_per_byte_epoch: r.price_per_byte_epoch,
                capacity: r.capacity,
            },
            "registration update",
        )
        .await
        .map(|_| ())
    }

    async fn track_deals(&mut self, provider: ProviderId) -> Result<(), String> {
        let deals = self
            .ledger
            .deals_of_provider(provider.0)
            .await
            .map_err(|e| e.to_string())?;
        let mut changes = Vec::new();
        for d in deals {
            let Some(id) = hex::decode(&d.proposal)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
                .map(ProposalId)
            else {
                continue;
            };
            let ended = matches!(d.state.as_str(), "Expired" | "Terminated" | "Cancelled");
            changes.push((id, DealId(d.id), ended, d.label.into_bytes()));
        }
        let intake = self.intake.clone();
        let provide = tokio::task::spawn_blocking(move || -> Result<Vec<Vec<u8>>, String> {
            let i = intake.lock().map_err(|_| "intake poisoned".to_string())?;
            let store = i.store();
            let mut labels = Vec::new();
            for (id, deal, ended, label) in changes {
                let Some(mut rec) = store.record(&id).map_err(|e| e.to_string())? else {
                    continue;
                };
                let next = if ended {
                    ProposalState::Ended(deal)
                } else {
                    ProposalState::Published(deal)
                };
                if rec.state != next && rec.provider_sig.is_some() {
                    tracing::info!(proposal = %id, deal = %deal, state = next.name(), "deal on the ledger");
                    rec.state = next;
                    store.put_record(&rec).map_err(|e| e.to_string())?;
                }
                if !ended {
                    labels.push(label);
                }
            }
            Ok(labels)
        })
        .await
        .map_err(|e| e.to_string())??;
        for label in provide {
            if !label.is_empty() && self.provided.insert(label.clone()) {
                let _ = self.commands.send(Command::Provide(label)).await;
            }
        }
        Ok(())
    }
}
