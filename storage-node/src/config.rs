//! `cairn-node`'s home: `config.toml` plus its keys.
//!
//! `cairn-node init --home DIR` writes:
//!
//! - `config.toml` (below), every path in it relative to DIR;
//! - `owner.json`, `worker.json`: ed25519 keys in the wallet format (the
//!   owner pays collateral and receives payments; the worker signs deals);
//! - `p2p.key`: the libp2p identity (protobuf-encoded ed25519 keypair).
//!
//! Every key file is mode 0600 and never overwritten. Environment variables
//! override the file: `CAIRN_NODE_LEDGER`, `CAIRN_NODE_LISTEN` (comma-
//! separated multiaddrs), `CAIRN_NODE_METRICS_ADDR`, `CAIRN_NODE_DATA_DIR`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why a home could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The config does not parse or holds a bad value.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `init` over an existing home.
    #[error("{0} already holds a node (config.toml exists); refusing to overwrite it")]
    Exists(PathBuf),
    /// A key file.
    #[error(transparent)]
    Key(#[from] cairn_types::keys::KeyError),
}

/// The config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The validator API to follow and submit to.
    pub ledger: String,
    /// libp2p listen addresses.
    pub listen: Vec<String>,
    /// Addresses to register instead of the listen addresses (behind NAT).
    #[serde(default)]
    pub announce: Vec<String>,
    /// Prometheus `/metrics` address.
    pub metrics_addr: String,
    /// Pieces, transfers and metadata (relative to the home).
    pub data_dir: PathBuf,
    /// Sector size, e.g. `"8MiB"` (one genesis allows).
    pub sector_size: String,
    /// Lowest price per padded byte per epoch.
    pub price_per_byte_epoch: u64,
    /// Padded bytes of deals to take, e.g. `"100GiB"`.
    pub capacity: String,
    /// Collateral to lock at registration (pays fault fees and deposits).
    pub collateral: u64,
    /// Market escrow the owner keeps for deals' provider collateral: the
    /// node tops the owner's escrow up to this from its balance.
    pub escrow: u64,
    /// Epochs a deal's start must leave for sealing.
    pub start_delay: u64,
    /// The furthest ahead a deal may start, in epochs.
    #[serde(default = "default_max_start_delay")]
    pub max_start_delay: u64,
    /// Shortest deal accepted, in epochs.
    pub min_duration: u64,
    /// Longest deal accepted, in epochs.
    pub max_duration: u64,
    /// Transfers in flight at once.
    pub max_transfers: usize,
    /// Owner key file.
    pub owner_key: PathBuf,
    /// Worker key file.
    pub worker_key: PathBuf,
    /// libp2p identity file.
    pub p2p_key: PathBuf,
    /// Sealing and proving.
    #[serde(default)]
    pub sealing: SealingConfig,
}

/// `[sealing]`: how the node packs, seals and proves sectors.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SealingConfig {
    /// Seal and prove deals (off: the node only stores and serves pieces,
    /// and its deals are cancelled at their start).
    pub enabled: bool,
    /// Epochs a partly filled sector waits for more pieces before it is
    /// sealed with zero padding.
    pub max_wait: u64,
    /// Epochs sealing and prove-commit need before a deal's start: a
    /// sector closes when one of its deals starts within this many epochs,
    /// and a deal starting sooner is reported unsealable.
    pub lead: u64,
    /// PreCommit 1 runs at once.
    pub pc1_slots: usize,
    /// PreCommit 2 runs at once.
    pub pc2_slots: usize,
    /// Commit 2 runs at once (also bounded machine-wide, see `c2_lock`).
    pub c2_slots: usize,
    /// Worker threads for one phase (0: every core).
    pub threads: usize,
    /// Groth16 parameters (empty: `$CAIRN_PARAMS_DIR`, else
    /// `~/.cache/cairn/params`).
    pub params_dir: PathBuf,
    /// A file every node on the machine locks for Commit 2, so that nodes
    /// sharing a machine (a devnet) run one Commit 2 at a time (empty:
    /// `c2.lock` in the parameter folder).
    pub c2_lock: PathBuf,
}

impl Default for SealingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_wait: 30,
            lead: 120,
            pc1_slots: 1,
            pc2_slots: 1,
            c2_slots: 1,
            threads: 0,
            params_dir: PathBuf::new(),
            c2_lock: PathBuf::new(),
        }
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            ledger: "http://127.0.0.1:26657".into(),
            listen: vec![
                "/ip4/127.0.0.1/tcp/0".into(),
                "/ip4/127.0.0.1/udp/0/quic-v1".into(),
            ],
            announce: Vec::new(),
            metrics_addr: "127.0.0.1:9101".into(),
            data_dir: "data".into(),
            sector_size: "8MiB".into(),
            price_per_byte_epoch: 1,
            capacity: "64GiB".into(),
            collateral: 10_000_000,
            escrow: 10_000_000,
            // An hour of a devnet's 10-second epochs to seal, inside the
            // ledger's limit on how far ahead a deal may start (1,000).
            start_delay: 360,
            max_start_delay: default_max_start_delay(),
            min_duration: 10,
            max_duration: 10_000_000,
            max_transfers: 64,
            owner_key: "owner.json".into(),
            worker_key: "worker.json".into(),
            p2p_key: "p2p.key".into(),
            sealing: SealingConfig::default(),
        }
    }
}

/// The ledger's default `max_deal_start_delay`.
fn default_max_start_delay() -> u64 {
    1_000
}

/// Parses `"8MiB"`, `"2KiB"`, `"100GiB"`, `"512"` (bytes).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: u64 = num.parse().ok()?;
    let mul: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mul)
}

/// A loaded home: config with overrides applied and paths resolved.
#[derive(Debug, Clone)]
pub struct Home {
    /// The home directory.
    pub dir: PathBuf,
    /// The config.
    pub config: NodeConfig,
    /// Sector size in bytes.
    pub sector_size: u64,
    /// Capacity in bytes.
    pub capacity: u64,
}

impl Home {
    /// `path` resolved against the home.
    pub fn path(&self, p: &Path) -> PathBuf {
        self.dir.join(p)
    }

    /// The data dir.
    pub fn data_dir(&self) -> PathBuf {
        self.path(&self.config.data_dir)
    }

    /// Reads `DIR/config.toml`, then the environment's overrides.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let path = dir.join("config.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        let invalid = |reason: String| ConfigError::Invalid {
            path: path.clone(),
            reason,
        };
        let mut config: NodeConfig = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if let Ok(v) = std::env::var("CAIRN_NODE_LEDGER") {
            config.ledger = v;
        }
        if let Ok(v) = std::env::var("CAIRN_NODE_LISTEN") {
            config.listen = v.split(',').map(|s| s.trim().to_owned()).collect();
        }
        if let Ok(v) = std::env::var("CAIRN_NODE_METRICS_ADDR") {
            config.metrics_addr = v;
        }
        if let Ok(v) = std::env::var("CAIRN_NODE_DATA_DIR") {
            config.data_dir = v.into();
        }
        let sector_size = parse_size(&config.sector_size)
            .filter(|s| s.is_power_of_two())
            .ok_or_else(|| {
                invalid(format!(
                    "sector_size {:?} is not a size like \"8MiB\"",
                    config.sector_size
                ))
            })?;
        let capacity = parse_size(&config.capacity).ok_or_else(|| {
            invalid(format!(
                "capacity {:?} is not a size like \"100GiB\"",
                config.capacity
            ))
        })?;
        if config.min_duration > config.max_duration {
            return Err(invalid("min_duration is over max_duration".into()));
        }
        if config.start_delay > config.max_start_delay {
            return Err(invalid("start_delay is over max_start_delay".into()));
        }
        if config.sealing.lead > 0 && config.sealing.lead >= config.start_delay {
            return Err(invalid(format!(
                "sealing.lead ({}) must be under start_delay ({}): deals must leave time to seal",
                config.sealing.lead, config.start_delay
            )));
        }
        let s = &config.sealing;
        if s.pc1_slots == 0 || s.pc2_slots == 0 || s.c2_slots == 0 {
            return Err(invalid("sealing slots must be at least 1".into()));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            sector_size,
            capacity,
        })
    }

    /// Writes a new home: the config and fresh keys. Refuses an existing one.
    pub fn init(dir: &Path, config: &NodeConfig) -> Result<Self, ConfigError> {
        let path = dir.join("config.toml");
        if path.exists() {
            return Err(ConfigError::Exists(dir.to_path_buf()));
        }
        std::fs::create_dir_all(dir).map_err(|source| ConfigError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        cairn_types::keys::Keypair::generate().save(&dir.join(&config.owner_key))?;
        cairn_types::keys::Keypair::generate().save(&dir.join(&config.worker_key))?;
        crate::host::write_identity(&dir.join(&config.p2p_key)).map_err(|source| {
            ConfigError::Io {
                path: dir.join(&config.p2p_key),
                source,
            }
        })?;
        let text = toml::to_string_pretty(config).map_err(|e| ConfigError::Invalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        std::fs::write(&path, text).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        Self::load(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8MiB"), Some(8 << 20));
        assert_eq!(parse_size("2KiB"), Some(2048));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("1 GiB"), Some(1 << 30));
        assert_eq!(parse_size("8MB"), None);
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("99999999999TiB"), None);
    }
}
