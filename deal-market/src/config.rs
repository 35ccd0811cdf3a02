//! The files a validator runs from: the chain's genesis file (the ledger's
//! [`cairn_ledger::Genesis`] plus the consensus committee) and each
//! validator's home (its keys, its share, its addresses), and
//! `cairn-validator testnet`, which writes a whole local network of them.
//!
//! Everything is JSON with hex bytes, so an operator can read it; amounts
//! are decimal strings (they are `u128`, beyond JSON's safe integers).
//! Keys and shares travel in commonware's canonical encoding.
//!
//! The testnet is dealer-made: one process draws the threshold polynomial
//! and hands out the shares (commonware's `deal`). That is right for a
//! development network on one machine and wrong for a real one, where the
//! validators run a DKG; the genesis format does not change.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use cairn_ledger::genesis::{Genesis, Params, PinnedKeys};
use cairn_ledger::ids::Address;
use cairn_ledger::verifier::{SizeKeys, vk_digest};
use cairn_proofs::sector::SealProof;
use cairn_proofs::snark::params;
use commonware_codec::{Decode as _, DecodeExt as _, Encode as _};
use commonware_cryptography::bls12381::dkg::feldman_desmedt::deal;
use commonware_cryptography::bls12381::primitives::group::Share;
use commonware_cryptography::bls12381::primitives::sharing::{Mode, ModeVersion, Sharing};
use commonware_cryptography::{Signer as _, ed25519};
use commonware_math::algebra::Random;
use commonware_utils::{N3f1, ordered::Set};
use serde::{Deserialize, Serialize};

use crate::{PublicKey, Variant};

/// A configuration failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not the JSON expected.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A verifying key file genesis needs is missing or unreadable.
    #[error("verifying key {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A field holds a bad value.
    #[error("{field}: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn field(field: &'static str, reason: impl ToString) -> ConfigError {
    ConfigError::Field {
        field,
        reason: reason.to_string(),
    }
}

fn unhex<const N: usize>(name: &'static str, s: &str) -> Result<[u8; N], ConfigError> {
    let v = hex::decode(s).map_err(|e| field(name, e))?;
    v.try_into()
        .map_err(|v: Vec<u8>| field(name, format!("{} bytes, expected {N}", v.len())))
}

fn amount(name: &'static str, s: &str) -> Result<u128, ConfigError> {
    s.parse().map_err(|e| field(name, e))
}

/// The ledger parameters as they appear in the genesis file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct ParamsFile {
    pub blocks_per_epoch: u64,
    pub deadlines_per_period: u64,
    pub deadline_window: u64,
    pub min_deal_duration: u64,
    pub max_deal_duration: u64,
    pub max_deal_start_delay: u64,
    pub seed_wait: u64,
    pub max_prove_commit_wait: u64,
    pub max_ticket_age: u64,
    pub min_precommit_deposit: String,
    pub min_provider_collateral: String,
    pub fault_fee: String,
    pub max_consecutive_faults: u64,
    pub reward_per_epoch: String,
}

impl From<&Params> for ParamsFile {
    fn from(p: &Params) -> Self {
        Self {
            blocks_per_epoch: p.blocks_per_epoch,
            deadlines_per_period: p.deadlines_per_period,
            deadline_window: p.deadline_window,
            min_deal_duration: p.min_deal_duration,
            max_deal_duration: p.max_deal_duration,
            max_deal_start_delay: p.max_deal_start_delay,
            seed_wait: p.seed_wait,
            max_prove_commit_wait: p.max_prove_commit_wait,
            max_ticket_age: p.max_ticket_age,
            min_precommit_deposit: p.min_precommit_deposit.to_string(),
            min_provider_collateral: p.min_provider_collateral.to_string(),
            fault_fee: p.fault_fee.to_string(),
            max_consecutive_faults: p.max_consecutive_faults,
            reward_per_epoch: p.reward_per_epoch.to_string(),
        }
    }
}

impl ParamsFile {
    /// The checked parameters.
    pub fn params(&self) -> Result<Params, ConfigError> {
        Ok(Params {
            blocks_per_epoch: self.blocks_per_epoch,
            deadlines_per_period: self.deadlines_per_period,
            deadline_window: self.deadline_window,
            min_deal_duration: self.min_deal_duration,
            max_deal_duration: self.max_deal_duration,
            max_deal_start_delay: self.max_deal_start_delay,
            seed_wait: self.seed_wait,
            max_prove_commit_wait: self.max_prove_commit_wait,
            max_ticket_age: self.max_ticket_age,
            min_precommit_deposit: amount("min_precommit_deposit", &self.min_precommit_deposit)?,
            min_provider_collateral: amount(
                "min_provider_collateral",
                &self.min_provider_collateral,
            )?,
            fault_fee: amount("fault_fee", &self.fault_fee)?,
            max_consecutive_faults: self.max_consecutive_faults,
            reward_per_epoch: amount("reward_per_epoch", &self.reward_per_epoch)?,
        })
    }
}

/// A funded account in the genesis file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccountFile {
    /// Hex address.
    pub address: String,
    /// Decimal balance.
    pub balance: String,
}

/// Pinned verifying-key digests of one sector size.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SectorKeysFile {
    /// The registered seal proof id (e.g. 5 for 2 KiB).
    pub seal_proof: u64,
    /// Hex digest of the PoRep verifying key.
    pub porep: String,
    /// Hex digest of the WindowPoSt verifying key.
    pub window_post: String,
}

/// A consensus participant in the genesis file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ValidatorFile {
    /// Hex of its ed25519 public key (commonware encoding).
    pub public_key: String,
    /// Where its p2p listener is dialled.
    pub p2p: SocketAddr,
    /// Its HTTP API (informational: clients use it).
    pub api: SocketAddr,
}

/// The genesis file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GenesisFile {
    /// The chain id transactions name.
    pub chain_id: u64,
    /// Consensus namespace (domain separation of every signature).
    pub namespace: String,
    /// The ledger's rules.
    pub params: ParamsFile,
    /// Funded accounts.
    pub accounts: Vec<AccountFile>,
    /// Tokens in the reward pool.
    pub reward_pool: String,
    /// Hex of the first randomness (epoch 0).
    pub randomness: String,
    /// Allowed sector sizes with their pinned key digests.
    pub sector_sizes: Vec<SectorKeysFile>,
    /// The committee, in any order (consensus sorts it).
    pub validators: Vec<ValidatorFile>,
    /// Hex of the threshold public polynomial (commonware `Sharing`).
    pub polynomial: String,
}

/// The genesis file, parsed and checked.
#[derive(Debug, Clone)]
pub struct ChainSpec {
    /// The file as read.
    pub file: GenesisFile,
    /// The ledger's genesis.
    pub genesis: Genesis,
    /// The committee, sorted.
    pub participants: Set<PublicKey>,
    /// p2p address of each participant.
    pub peers: BTreeMap<PublicKey, SocketAddr>,
    /// The threshold public polynomial.
    pub polynomial: Sharing<Variant>,
}

/// Most validators a genesis may name.
pub const MAX_VALIDATORS: u32 = 1024;

impl GenesisFile {
    /// Parses and checks every field.
    pub fn spec(self) -> Result<ChainSpec, ConfigError> {
        let mut accounts = BTreeMap::new();
        for a in &self.accounts {
            let addr = Address(unhex::<20>("accounts.address", &a.address)?);
            if accounts
                .insert(addr, amount("accounts.balance", &a.balance)?)
                .is_some()
            {
                return Err(field("accounts", format!("{} listed twice", a.address)));
            }
        }
        let mut sector_sizes = BTreeMap::new();
        for s in &self.sector_sizes {
            let p = SealProof::from_id(s.seal_proof).map_err(|e| field("sector_sizes", e))?;
            sector_sizes.insert(
                p,
                PinnedKeys {
                    porep: unhex::<32>("sector_sizes.porep", &s.porep)?,
                    window_post: unhex::<32>("sector_sizes.window_post", &s.window_post)?,
                },
            );
        }
        let genesis = Genesis {
            chain_id: self.chain_id,
            params: self.params.params()?,
            accounts,
            reward_pool: amount("reward_pool", &self.reward_pool)?,
            randomness: unhex::<32>("randomness", &self.randomness)?,
            sector_sizes,
        };
        genesis.validate().map_err(|e| field("params", e))?;
        let mut peers = BTreeMap::new();
        for v in &self.validators {
            let bytes =
                hex::decode(&v.public_key).map_err(|e| field("validators.public_key", e))?;
            let pk = PublicKey::decode(bytes).map_err(|e| field("validators.public_key", e))?;
            if peers.insert(pk, v.p2p).is_some() {
                return Err(field("validators", "a public key is listed twice"));
            }
        }
        if peers.is_empty() {
            return Err(field("validators", "empty"));
        }
        let participants = Set::from_iter_dedup(peers.keys().cloned());
        let poly_bytes = hex::decode(&self.polynomial).map_err(|e| field("polynomial", e))?;
        let max = NonZeroU32::new(MAX_VALIDATORS).ok_or_else(|| field("polynomial", "bound"))?;
        let polynomial = Sharing::<Variant>::decode_cfg(poly_bytes, &(max, ModeVersion::v0()))
            .map_err(|e| field("polynomial", e))?;
        if polynomial.total().get() as usize != participants.len() {
            return Err(field(
                "polynomial",
                format!(
                    "for {} participants, genesis names {}",
                    polynomial.total(),
                    participants.len()
                ),
            ));
        }
        Ok(ChainSpec {
            file: self,
            genesis,
            participants,
            peers,
            polynomial,
        })
    }
}

/// A validator's home: `<home>/validator.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HomeFile {
    /// The genesis file, relative to the home directory or absolute.
    pub genesis: PathBuf,
    /// Hex of its ed25519 private key (commonware encoding). Secret.
    pub private_key: String,
    /// Hex of its threshold share (commonware encoding). Secret.
    pub share: String,
    /// p2p listen address.
    pub p2p_listen: SocketAddr,
    /// HTTP API listen address.
    pub api_listen: SocketAddr,
    /// Prometheus `/metrics` listen address.
    pub metrics_listen: SocketAddr,
    /// The folder of the verifying keys genesis pins, relative to the home
    /// directory or absolute: `<seal proof>-porep.vk` and
    /// `<seal proof>-window-post.vk` per allowed sector size.
    #[serde(default = "default_keys_dir")]
    pub keys_dir: PathBuf,
}

fn default_keys_dir() -> PathBuf {
    PathBuf::from("keys")
}

/// The file names of a sector size's verifying keys in a keys folder
/// (PoRep, WindowPoSt).
pub fn key_file_names(proof: SealProof) -> (String, String) {
    (
        format!("{}-porep.vk", proof.name()),
        format!("{}-window-post.vk", proof.name()),
    )
}

/// Reads the verifying keys of every size `spec` allows from `dir`. Their
/// digests are checked against genesis when the chain opens.
pub fn read_keys(
    spec: &ChainSpec,
    dir: &Path,
) -> Result<BTreeMap<SealProof, SizeKeys>, ConfigError> {
    let mut keys = BTreeMap::new();
    for &proof in spec.genesis.sector_sizes.keys() {
        let (porep, post) = key_file_names(proof);
        let read = |name: &str| {
            let path = dir.join(name);
            params::read_vk(&path).map_err(|e| ConfigError::Key {
                path: path.clone(),
                reason: e.to_string(),
            })
        };
        keys.insert(
            proof,
            SizeKeys {
                porep: read(&porep)?,
                window_post: read(&post)?,
            },
        );
    }
    Ok(keys)
}

/// A validator's home, loaded.
#[derive(Debug)]
pub struct Home {
    /// Its directory.
    pub dir: PathBuf,
    /// The file.
    pub file: HomeFile,
    /// The chain.
    pub spec: ChainSpec,
    /// Its identity.
    pub key: ed25519::PrivateKey,
    /// Its share.
    pub share: Share,
    /// The verifying keys of the sizes genesis allows (not yet checked
    /// against the pinned digests: `Chain::open` does).
    pub keys: BTreeMap<SealProof, SizeKeys>,
}

/// Reads a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ConfigError::Json {
        path: path.to_owned(),
        source,
    })
}

/// Writes a JSON file (pretty).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ConfigError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|source| ConfigError::Json {
        path: path.to_owned(),
        source,
    })?;
    std::fs::write(path, bytes).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })
}

impl Home {
    /// Loads `<dir>/validator.json` and the genesis it names.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let file: HomeFile = read_json(&dir.join("validator.json"))?;
        let gpath = if file.genesis.is_absolute() {
            file.genesis.clone()
        } else {
            dir.join(&file.genesis)
        };
        let spec = read_json::<GenesisFile>(&gpath)?.spec()?;
        let kb = hex::decode(&file.private_key).map_err(|e| field("private_key", e))?;
        let key = ed25519::PrivateKey::decode(kb).map_err(|e| field("private_key", e))?;
        let sb = hex::decode(&file.share).map_err(|e| field("share", e))?;
        let share = Share::decode(sb).map_err(|e| field("share", e))?;
        if !spec.peers.contains_key(&key.public_key()) {
            return Err(field(
                "private_key",
                "its public key is not a genesis validator",
            ));
        }
        let keys_dir = if file.keys_dir.is_absolute() {
            file.keys_dir.clone()
        } else {
            dir.join(&file.keys_dir)
        };
        let keys = read_keys(&spec, &keys_dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            file,
            spec,
            key,
            share,
            keys,
        })
    }
}

/// A demo account `testnet` funds, with its secret key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DemoAccount {
    /// Hex address.
    pub address: String,
    /// Hex ed25519 secret key (32 bytes). Secret: a demo network only.
    pub secret_key: String,
    /// Decimal balance at genesis.
    pub balance: String,
}

/// How `testnet` picks ports.
#[derive(Debug, Clone, Copy)]
pub enum Ports {
    /// API `api + i`, p2p `p2p + i`, metrics `metrics + i`.
    Base {
        /// First API port (26657 by default).
        api: u16,
        /// First p2p port.
        p2p: u16,
        /// First metrics port (9100 by default).
        metrics: u16,
    },
    /// Ports free on 127.0.0.1 now, below the kernel's ephemeral range
    /// (`cairn_types::ports::free_ports`).
    Free,
}

fn port(base: u16, i: usize) -> Result<u16, ConfigError> {
    u16::try_from(i)
        .ok()
        .and_then(|i| base.checked_add(i))
        .ok_or_else(|| field("ports", "port overflow"))
}

/// Balance of each demo account.
pub const DEMO_BALANCE: u128 = 1_000_000_000;

/// Writes `dir/genesis.json`, `dir/accounts.json` and `dir/0..n-1/validator.json`,
/// for a ledger that allows no sector size (no proofs).
pub fn write_testnet(
    dir: &Path,
    validators: usize,
    accounts: usize,
    ports: Ports,
    params: Params,
) -> Result<GenesisFile, ConfigError> {
    let mut rng = commonware_utils::sys_rng();
    write_testnet_with(dir, validators, accounts, ports, params, &[], &mut rng)
}

/// The verifying-key files of one sector size a testnet allows (from the
/// parameter cache: [`params::porep_vk_file`]).
#[derive(Debug, Clone)]
pub struct KeyFiles {
    /// The sector size's seal proof.
    pub proof: SealProof,
    /// Its PoRep verifying key file.
    pub porep: PathBuf,
    /// Its WindowPoSt verifying key file.
    pub window_post: PathBuf,
}

/// [`write_testnet`], allowing the sector sizes of `key_files` (genesis
/// pins their digests; `dir/keys/` holds copies every home points at),
/// with the keys, shares and randomness drawn from `rng` (the simulation
/// passes its seeded runtime, so a seed fixes the genesis).
pub fn write_testnet_with(
    dir: &Path,
    validators: usize,
    accounts: usize,
    ports: Ports,
    params: Params,
    key_files: &[KeyFiles],
    rng: &mut impl rand_core::CryptoRng,
) -> Result<GenesisFile, ConfigError> {
    write_testnet_funded(
        dir,
        validators,
        (accounts, DEMO_BALANCE),
        ports,
        params,
        key_files,
        rng,
    )
}

/// [`write_testnet_with`], each of the `accounts.0` demo accounts funded
/// with `accounts.1` (a devnet whose deals pay by the byte needs more than
/// [`DEMO_BALANCE`]).
pub fn write_testnet_funded(
    dir: &Path,
    validators: usize,
    (accounts, demo_balance): (usize, u128),
    ports: Ports,
    params: Params,
    key_files: &[KeyFiles],
    mut rng: &mut impl rand_core::CryptoRng,
) -> Result<GenesisFile, ConfigError> {
    if validators == 0 || validators > MAX_VALIDATORS as usize {
        return Err(field(
            "validators",
            format!("must be in 1..={MAX_VALIDATORS}"),
        ));
    }
    let keys: Vec<ed25519::PrivateKey> = (0..validators)
        .map(|_| <ed25519::PrivateKey as Random>::random(&mut rng))
        .collect();
    let participants = Set::from_iter_dedup(keys.iter().map(|k| k.public_key()));
    let (output, shares) = deal::<Variant, _, N3f1>(&mut rng, Mode::NonZeroCounter, participants)
        .map_err(|e| field("polynomial", format!("{e:?}")))?;
    let mut vfiles = Vec::new();
    let mut homes = Vec::new();
    let free = match ports {
        Ports::Free => {
            cairn_types::ports::free_ports(IpAddr::V4(Ipv4Addr::LOCALHOST), 3 * validators)
                .map_err(|source| ConfigError::Io {
                    path: PathBuf::from("127.0.0.1:0"),
                    source,
                })?
        }
        Ports::Base { .. } => Vec::new(),
    };
    let mut free = free.chunks_exact(3);
    for (i, key) in keys.iter().enumerate() {
        let (api, p2p, metrics) = match (ports, free.next()) {
            (Ports::Base { api, p2p, metrics }, _) => {
                (port(api, i)?, port(p2p, i)?, port(metrics, i)?)
            }
            (Ports::Free, Some(&[api, p2p, metrics])) => (api, p2p, metrics),
            (Ports::Free, _) => return Err(field("ports", "too few free ports")),
        };
        let local = |p| SocketAddr::from(([127, 0, 0, 1], p));
        let share = shares
            .get_value(&key.public_key())
            .ok_or_else(|| field("shares", "a validator got no share"))?;
        vfiles.push(ValidatorFile {
            public_key: hex::encode(key.public_key().encode()),
            p2p: local(p2p),
            api: local(api),
        });
        homes.push(HomeFile {
            genesis: PathBuf::from("../genesis.json"),
            private_key: hex::encode(key.encode()),
            share: hex::encode(share.encode()),
            p2p_listen: local(p2p),
            api_listen: local(api),
            metrics_listen: local(metrics),
            keys_dir: PathBuf::from("../keys"),
        });
    }
    let mut demo = Vec::new();
    for _ in 0..accounts {
        let mut sk = [0u8; 32];
        rng.fill_bytes(&mut sk);
        let signing = ed25519_dalek::SigningKey::from_bytes(&sk);
        let addr = cairn_ledger::PublicKey(signing.verifying_key().to_bytes()).address();
        demo.push(DemoAccount {
            address: hex::encode(addr.0),
            secret_key: hex::encode(sk),
            balance: demo_balance.to_string(),
        });
    }
    let mut randomness = [0u8; 32];
    rng.fill_bytes(&mut randomness);
    let mut sector_sizes = Vec::new();
    let mut key_bytes = Vec::new();
    for k in key_files {
        let (porep_name, post_name) = key_file_names(k.proof);
        let mut digests = Vec::new();
        for (src, name) in [(&k.porep, porep_name), (&k.window_post, post_name)] {
            let vk = params::read_vk(src).map_err(|e| ConfigError::Key {
                path: src.clone(),
                reason: e.to_string(),
            })?;
            digests.push(hex::encode(vk_digest(&vk)));
            let bytes = std::fs::read(src).map_err(|source| ConfigError::Io {
                path: src.clone(),
                source,
            })?;
            key_bytes.push((name, bytes));
        }
        sector_sizes.push(SectorKeysFile {
            seal_proof: k.proof.id(),
            porep: digests.remove(0),
            window_post: digests.remove(0),
        });
    }
    let genesis = GenesisFile {
        chain_id: 1,
        namespace: "cairn-testnet".into(),
        params: ParamsFile::from(&params),
        accounts: demo
            .iter()
            .map(|a| AccountFile {
                address: a.address.clone(),
                balance: a.balance.clone(),
            })
            .collect(),
        reward_pool: "1000000000000".into(),
        randomness: hex::encode(randomness),
        sector_sizes,
        validators: vfiles,
        polynomial: hex::encode(output.public().encode()),
    };
    // Check it before writing anything.
    genesis.clone().spec()?;
    std::fs::create_dir_all(dir).map_err(|source| ConfigError::Io {
        path: dir.to_owned(),
        source,
    })?;
    write_json(&dir.join("genesis.json"), &genesis)?;
    write_json(&dir.join("accounts.json"), &demo)?;
    let kdir = dir.join("keys");
    std::fs::create_dir_all(&kdir).map_err(|source| ConfigError::Io {
        path: kdir.clone(),
        source,
    })?;
    for (name, bytes) in &key_bytes {
        let path = kdir.join(name);
        std::fs::write(&path, bytes).map_err(|source| ConfigError::Io { path, source })?;
    }
    for (i, home) in homes.iter().enumerate() {
        let h = dir.join(i.to_string());
        std::fs::create_dir_all(&h).map_err(|source| ConfigError::Io {
            path: h.clone(),
            source,
        })?;
        write_json(&h.join("validator.json"), home)?;
    }
    Ok(genesis)
}
