//! The libp2p side: request-response codecs for both protocols and the
//! one host shape every Cairn peer uses (storage nodes serve, clients
//! only ask).
//!
//! Transport: TCP (no Nagle: a small request must not wait behind a
//! delayed ACK) and QUIC, noise, yamux; identify for listen addresses;
//! Kademlia (`/cairn/kad/1`) for provider records of upload roots.

use std::collections::HashMap;
use std::io;
use std::marker::PhantomData;
use std::time::Duration;

use cairn_ledger::codec::{Decode, Encode};
use futures::StreamExt as _;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{
    Multiaddr, PeerId, StreamProtocol, Swarm, connection_limits, identify, identity, kad, noise,
    tcp, yamux,
};
use tokio::sync::{mpsc, oneshot};

use crate::deal::{DealRequest, DealResponse};
use crate::frame::{self, FrameError};
use crate::retrieve::{RetrieveRequest, RetrieveResponse};
use crate::{DEAL_PROTOCOL, RETRIEVE_PROTOCOL};

/// Kademlia's protocol name on Cairn's DHT.
pub const KAD_PROTOCOL: &str = "/cairn/kad/1";
/// identify's protocol version string.
pub const IDENTIFY_VERSION: &str = "/cairn/1";

/// Frames `Req` and `Resp` with [`crate::frame`] on a libp2p stream.
pub struct FramedCodec<Req, Resp>(PhantomData<fn() -> (Req, Resp)>);

impl<Req, Resp> std::fmt::Debug for FramedCodec<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FramedCodec")
    }
}

impl<Req, Resp> Clone for FramedCodec<Req, Resp> {
    fn clone(&self) -> Self {
        Self(PhantomData)
    }
}

impl<Req, Resp> Default for FramedCodec<Req, Resp> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

/// A request as a server reads it: a message, or why the bytes were not
/// one (answered with a `Malformed` refusal, so the peer learns why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound<T> {
    /// A well-formed request.
    Valid(T),
    /// Not a request: too long, truncated or undecodable.
    Malformed(String),
}

/// `/cairn/deal/1`'s codec.
pub type DealCodec = FramedCodec<DealRequest, DealResponse>;
/// `/cairn/retrieve/1`'s codec.
pub type RetrieveCodec = FramedCodec<RetrieveRequest, RetrieveResponse>;

fn invalid(e: FrameError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// Reads one frame: the length is checked before the body is allocated.
pub async fn read_frame<T: Decode, R: AsyncRead + Unpin + Send>(io: &mut R) -> io::Result<T> {
    let mut prefix = [0u8; 4];
    io.read_exact(&mut prefix).await?;
    let n = frame::body_len(prefix).map_err(invalid)?;
    let mut body = vec![0u8; n];
    io.read_exact(&mut body).await?;
    T::from_bytes(&body).map_err(|e| invalid(FrameError::Malformed(e)))
}

/// Writes one frame and closes the write side.
pub async fn write_frame<T: Encode, W: AsyncWrite + Unpin + Send>(
    io: &mut W,
    msg: &T,
) -> io::Result<()> {
    let bytes = frame::encode(msg).map_err(invalid)?;
    io.write_all(&bytes).await?;
    io.close().await
}

impl<Req, Resp> request_response::Codec for FramedCodec<Req, Resp>
where
    Req: Encode + Decode + Send + Sync,
    Resp: Encode + Decode + Send + Sync,
{
    type Protocol = StreamProtocol;
    type Request = Inbound<Req>;
    type Response = Resp;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Inbound<Req>>
    where
        T: AsyncRead + Unpin + Send,
    {
        match read_frame(io).await {
            Ok(r) => Ok(Inbound::Valid(r)),
            // Bytes that are not a message get an answer that says so.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
                ) =>
            {
                Ok(Inbound::Malformed(e.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Resp>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Inbound<Req>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match req {
            Inbound::Valid(r) => write_frame(io, &r).await,
            Inbound::Malformed(why) => Err(io::Error::new(io::ErrorKind::InvalidInput, why)),
        }
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Resp,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res).await
    }
}

pub use behaviour::{Behaviour, BehaviourEvent};

mod behaviour {
    // The derive writes `BehaviourEvent` without docs.
    #![allow(missing_docs)]

    use libp2p::swarm::NetworkBehaviour;
    use libp2p::{identify, kad, request_response};

    use super::{DealCodec, RetrieveCodec};

    /// Every Cairn peer's behaviour.
    #[derive(NetworkBehaviour)]
    #[allow(missing_debug_implementations)]
    pub struct Behaviour {
        /// Caps connections: per peer, and inbound ones in all.
        pub limits: libp2p::connection_limits::Behaviour,
        /// Exchanges listen addresses and protocols.
        pub identify: identify::Behaviour,
        /// Provider records of upload roots, peer routing.
        pub kad: kad::Behaviour<kad::store::MemoryStore>,
        /// `/cairn/deal/1`.
        pub deal: request_response::Behaviour<DealCodec>,
        /// `/cairn/retrieve/1`.
        pub retrieve: request_response::Behaviour<RetrieveCodec>,
    }
}

/// Connections one peer may hold to a host: a misbehaving client cannot
/// take every slot (request-response multiplexes all its requests over one).
pub const MAX_CONNECTIONS_PER_PEER: u32 = 4;
/// Inbound connections still in their handshake.
pub const MAX_PENDING_INCOMING: u32 = 128;
/// Inbound connections in all.
pub const MAX_INCOMING: u32 = 1024;

/// Whether a host answers the protocols (a storage node) or only asks (a
/// client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Serves deals and retrievals.
    Provider,
    /// Sends requests only.
    Client,
}

/// Why a host could not be built.
#[derive(Debug, thiserror::Error)]
#[error("building the libp2p host: {0}")]
pub struct HostError(String);

/// A host with Cairn's transports and behaviour; `request_timeout` bounds
/// every request (a vanished peer fails its requests after it).
pub fn host(
    key: identity::Keypair,
    role: Role,
    request_timeout: Duration,
) -> Result<Swarm<Behaviour>, HostError> {
    let support = match role {
        Role::Provider => ProtocolSupport::Full,
        Role::Client => ProtocolSupport::Outbound,
    };
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::new().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| HostError(e.to_string()))?
        .with_quic()
        .with_behaviour(|key| {
            let peer = key.public().to_peer_id();
            let mut kad = kad::Behaviour::with_config(
                peer,
                kad::store::MemoryStore::new(peer),
                kad::Config::new(StreamProtocol::new(KAD_PROTOCOL)),
            );
            kad.set_mode(Some(match role {
                Role::Provider => kad::Mode::Server,
                Role::Client => kad::Mode::Client,
            }));
            let rr = request_response::Config::default()
                .with_request_timeout(request_timeout)
                .with_max_concurrent_streams(256);
            Behaviour {
                limits: connection_limits::Behaviour::new(
                    connection_limits::ConnectionLimits::default()
                        .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER))
                        .with_max_pending_incoming(Some(MAX_PENDING_INCOMING))
                        .with_max_established_incoming(Some(MAX_INCOMING)),
                ),
                identify: identify::Behaviour::new(identify::Config::new(
                    IDENTIFY_VERSION.to_string(),
                    key.public(),
                )),
                kad,
                deal: request_response::Behaviour::with_codec(
                    DealCodec::default(),
                    [(StreamProtocol::new(DEAL_PROTOCOL), support.clone())],
                    rr.clone(),
                ),
                retrieve: request_response::Behaviour::with_codec(
                    RetrieveCodec::default(),
                    [(StreamProtocol::new(RETRIEVE_PROTOCOL), support)],
                    rr,
                ),
            }
        })
        .map_err(|e| HostError(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    Ok(swarm)
}

/// Why a request got no answer.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The peer could not be reached, the stream broke, the answer did not
    /// decode, or the timeout passed.
    #[error("peer {peer}: {reason}")]
    Failed {
        /// The peer.
        peer: PeerId,
        /// What happened.
        reason: String,
    },
    /// The client's host task has stopped.
    #[error("the libp2p client has stopped")]
    Stopped,
}

enum ClientCmd {
    Deal(
        PeerId,
        Vec<Multiaddr>,
        Box<DealRequest>,
        oneshot::Sender<Result<DealResponse, RequestError>>,
    ),
    Retrieve(
        PeerId,
        Vec<Multiaddr>,
        RetrieveRequest,
        oneshot::Sender<Result<RetrieveResponse, RequestError>>,
    ),
    FindPeer(
        PeerId,
        Vec<Multiaddr>,
        Vec<(PeerId, Vec<Multiaddr>)>,
        oneshot::Sender<Vec<Multiaddr>>,
    ),
}

/// A Kademlia lookup of one peer's addresses in progress.
struct Lookup {
    peer: PeerId,
    /// Addresses that are not news.
    stale: Vec<Multiaddr>,
    reply: oneshot::Sender<Vec<Multiaddr>>,
}

impl Lookup {
    fn fresh<'a>(&self, addrs: impl Iterator<Item = &'a Multiaddr>) -> Vec<Multiaddr> {
        let mut out: Vec<Multiaddr> = Vec::new();
        for a in addrs {
            if !self.stale.contains(a) && !out.contains(a) {
                out.push(a.clone());
            }
        }
        out
    }
}

/// A handle to a client host running in its own task: many requests may
/// be in flight at once, to many providers, from clones of the handle.
#[derive(Debug, Clone)]
pub struct Client {
    tx: mpsc::Sender<ClientCmd>,
    peer_id: PeerId,
}

impl Client {
    /// Starts a client host (must be called inside a tokio runtime); it
    /// runs until every handle is dropped.
    pub fn spawn(key: identity::Keypair, request_timeout: Duration) -> Result<Self, HostError> {
        let mut swarm = host(key, Role::Client, request_timeout)?;
        let peer_id = *swarm.local_peer_id();
        let (tx, mut rx) = mpsc::channel::<ClientCmd>(256);
        tokio::spawn(async move {
            let mut deals = HashMap::new();
            let mut retrievals = HashMap::new();
            let mut lookups: HashMap<kad::QueryId, Lookup> = HashMap::new();
            loop {
                tokio::select! {
                    cmd = rx.recv() => match cmd {
                        None => break,
                        Some(ClientCmd::Deal(peer, addrs, req, reply)) => {
                            let id = swarm.behaviour_mut().deal.send_request_with_addresses(&peer, Inbound::Valid(*req), addrs);
                            deals.insert(id, (peer, reply));
                        }
                        Some(ClientCmd::Retrieve(peer, addrs, req, reply)) => {
                            let id = swarm.behaviour_mut().retrieve.send_request_with_addresses(&peer, Inbound::Valid(req), addrs);
                            retrievals.insert(id, (peer, reply));
                        }
                        Some(ClientCmd::FindPeer(peer, stale, bootstrap, reply)) => {
                            let kad = &mut swarm.behaviour_mut().kad;
                            for (p, addrs) in bootstrap {
                                if p != peer {
                                    for a in addrs {
                                        kad.add_address(&p, a);
                                    }
                                }
                            }
                            let id = kad.get_closest_peers(peer);
                            lookups.insert(id, Lookup { peer, stale, reply });
                        }
                    },
                    ev = swarm.select_next_some() => match ev {
                        SwarmEvent::Behaviour(BehaviourEvent::Deal(ev)) => {
                            settle(ev, &mut deals);
                        }
                        SwarmEvent::Behaviour(BehaviourEvent::Retrieve(ev)) => {
                            settle(ev, &mut retrievals);
                        }
                        SwarmEvent::Behaviour(BehaviourEvent::Kad(
                            kad::Event::OutboundQueryProgressed { id, result: kad::QueryResult::GetClosestPeers(r), step, .. },
                        )) => {
                            let found = match &r {
                                Ok(ok) => lookups.get(&id).map(|l| {
                                    l.fresh(ok.peers.iter().filter(|p| p.peer_id == l.peer).flat_map(|p| p.addrs.iter()))
                                }),
                                Err(_) => None,
                            };
                            if found.as_ref().is_some_and(|a| !a.is_empty()) || step.last {
                                if let Some(l) = lookups.remove(&id) {
                                    let _ = l.reply.send(found.unwrap_or_default());
                                }
                                if let Some(mut q) = swarm.behaviour_mut().kad.query_mut(&id) {
                                    q.finish();
                                }
                            }
                        }
                        _ => {}
                    },
                }
            }
        });
        Ok(Self { tx, peer_id })
    }

    /// Asks the Kademlia network (entered through `bootstrap`: peers and
    /// their addresses, e.g. the ledger's registry) for `peer`'s current
    /// addresses other than `stale` (those that failed): what a reader
    /// does when a provider does not answer at the addresses it
    /// registered. Empty when nobody knows better.
    pub async fn find_peer(
        &self,
        peer: PeerId,
        stale: Vec<Multiaddr>,
        bootstrap: Vec<(PeerId, Vec<Multiaddr>)>,
    ) -> Result<Vec<Multiaddr>, RequestError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(ClientCmd::FindPeer(peer, stale, bootstrap, reply))
            .await
            .map_err(|_| RequestError::Stopped)?;
        rx.await.map_err(|_| RequestError::Stopped)
    }
}

impl Client {
    /// The client's own peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Sends a deal request to `peer` (dialing `addrs` if not connected).
    pub async fn deal(
        &self,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        req: DealRequest,
    ) -> Result<DealResponse, RequestError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(ClientCmd::Deal(peer, addrs, Box::new(req), reply))
            .await
            .map_err(|_| RequestError::Stopped)?;
        rx.await.map_err(|_| RequestError::Stopped)?
    }

    /// Asks `peer` for a byte range of a piece.
    pub async fn retrieve(
        &self,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        req: RetrieveRequest,
    ) -> Result<RetrieveResponse, RequestError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(ClientCmd::Retrieve(peer, addrs, req, reply))
            .await
            .map_err(|_| RequestError::Stopped)?;
        rx.await.map_err(|_| RequestError::Stopped)?
    }
}

type Pending<T> = HashMap<
    request_response::OutboundRequestId,
    (PeerId, oneshot::Sender<Result<T, RequestError>>),
>;

fn settle<Req, Resp>(ev: request_response::Event<Req, Resp>, pending: &mut Pending<Resp>) {
    match ev {
        request_response::Event::Message {
            message:
                request_response::Message::Response {
                    request_id,
                    response,
                },
            ..
        } => {
            if let Some((_, reply)) = pending.remove(&request_id) {
                let _ = reply.send(Ok(response));
            }
        }
        request_response::Event::OutboundFailure {
            request_id, error, ..
        } => {
            if let Some((peer, reply)) = pending.remove(&request_id) {
                let _ = reply.send(Err(RequestError::Failed {
                    peer,
                    reason: error.to_string(),
                }));
            }
        }
        _ => {}
    }
}
