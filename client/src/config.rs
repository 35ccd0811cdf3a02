//! Configuration: a TOML file, environment variables and flags, in rising
//! order of precedence.
//!
//! ```toml
//! data_dir = "/var/lib/cairn"
//! ledger = "http://127.0.0.1:26657"   # a validator's API (cairn wallet/market/chain)
//! wallet = "/home/me/.config/cairn/wallet.json"
//! [gateway]
//! s3_addr = "127.0.0.1:9000"
//! http_addr = "127.0.0.1:8080"
//! metrics_addr = "127.0.0.1:9100"
//! access_key = "..."
//! secret_key = "..."
//! domains = ["s3.localhost"]      # virtual-host addressing: BUCKET.s3.localhost
//! default_profile = "unixfs-v1-2025"
//! hot_cache_bytes = 10737418240  # local copies kept once placed (default: all)
//! [buckets.archive]
//! profile = "kubo-legacy"
//! k = 6                           # placement: data shards
//! m = 3                           # parity shards
//! duration = 100000               # epochs per deal
//! max_price = 5                   # per padded byte per epoch
//! ```
//!
//! The gateway places objects on the storage network when a ledger is
//! named (`--ledger`, `$CAIRN_LEDGER` or `ledger`), paying from the wallet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use cairn_dag::Profile;
use serde::Deserialize;

/// The config file's contents.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Where the store lives.
    pub data_dir: Option<PathBuf>,
    /// A validator's API base URL.
    pub ledger: Option<String>,
    /// The wallet file.
    pub wallet: Option<PathBuf>,
    /// Gateway settings.
    #[serde(default)]
    pub gateway: GatewaySection,
    /// Per-bucket settings.
    #[serde(default)]
    pub buckets: BTreeMap<String, BucketSection>,
}

/// `[gateway]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// S3 listen address.
    pub s3_addr: Option<String>,
    /// Trustless gateway listen address.
    pub http_addr: Option<String>,
    /// Metrics listen address.
    pub metrics_addr: Option<String>,
    /// S3 access key id.
    pub access_key: Option<String>,
    /// S3 secret key.
    pub secret_key: Option<String>,
    /// Virtual-host base domains.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Profile of buckets created without one.
    pub default_profile: Option<String>,
    /// Bytes of local copies kept once their objects are placed.
    pub hot_cache_bytes: Option<u64>,
}

/// `[buckets.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketSection {
    /// The bucket's UnixFS profile.
    pub profile: Option<String>,
    /// Data shards.
    pub k: Option<u8>,
    /// Parity shards.
    pub m: Option<u8>,
    /// Epochs per deal.
    pub duration: Option<u64>,
    /// Highest price per padded byte per epoch.
    pub max_price: Option<u128>,
}

/// Refuses shard counts the erasure code cannot take.
pub fn check_placement(p: &cairn_store::BucketPlacement) -> Result<()> {
    anyhow::ensure!(
        p.k >= 1 && usize::from(p.k) + usize::from(p.m) <= 255,
        "k={} m={}: k must be at least 1 and k+m at most 255",
        p.k,
        p.m
    );
    anyhow::ensure!(p.duration > 0, "duration must be at least one epoch");
    Ok(())
}

impl BucketSection {
    /// The section's placement settings over `default`.
    pub fn placement(
        &self,
        default: &cairn_gateway::net::place::Policy,
    ) -> cairn_store::BucketPlacement {
        cairn_store::BucketPlacement {
            k: self.k.unwrap_or(default.k),
            m: self.m.unwrap_or(default.m),
            duration: self.duration.unwrap_or(default.duration),
            max_price: self.max_price.unwrap_or(default.max_price_per_byte_epoch),
        }
    }
}

impl ConfigFile {
    /// Loads `explicit`, else `$CAIRN_CONFIG`, else `~/.config/cairn/config.toml`
    /// if it exists, else the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<ConfigFile> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => std::env::var_os("CAIRN_CONFIG")
                .map(PathBuf::from)
                .or_else(|| {
                    let p = home()?.join(".config/cairn/config.toml");
                    p.exists().then_some(p)
                }),
        };
        let Some(path) = path else {
            return Ok(ConfigFile::default());
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let config: ConfigFile =
            toml::from_str(&text).with_context(|| format!("parsing config {}", path.display()))?;
        for (name, bucket) in &config.buckets {
            if let Some(p) = &bucket.profile {
                p.parse::<Profile>()
                    .with_context(|| format!("[buckets.{name}] in {}", path.display()))?;
            }
            check_placement(&bucket.placement(&cairn_gateway::net::place::Policy::default()))
                .with_context(|| format!("[buckets.{name}] in {}", path.display()))?;
        }
        Ok(config)
    }

    /// The data dir: the flag, else `$CAIRN_DATA_DIR`, else the file's, else
    /// `~/.local/share/cairn`.
    pub fn data_dir(&self, flag: Option<&Path>) -> Result<PathBuf> {
        if let Some(p) = flag {
            return Ok(p.to_path_buf());
        }
        if let Some(p) = std::env::var_os("CAIRN_DATA_DIR") {
            return Ok(PathBuf::from(p));
        }
        if let Some(p) = &self.data_dir {
            return Ok(p.clone());
        }
        home()
            .map(|h| h.join(".local/share/cairn"))
            .context("no data dir: pass --data-dir or set CAIRN_DATA_DIR")
    }

    /// Bucket profiles from `[buckets.*]`.
    pub fn bucket_profiles(&self) -> BTreeMap<String, Profile> {
        self.buckets
            .iter()
            .filter_map(|(name, b)| {
                b.profile
                    .as_deref()?
                    .parse()
                    .ok()
                    .map(|p| (name.clone(), p))
            })
            .collect()
    }

    /// Placement policies of `[buckets.*]` that set any placement field,
    /// the rest taken from `default`.
    pub fn bucket_policies(
        &self,
        default: &cairn_gateway::net::place::Policy,
    ) -> BTreeMap<String, cairn_gateway::net::place::Policy> {
        self.buckets
            .iter()
            .filter(|(_, b)| {
                b.k.is_some() || b.m.is_some() || b.duration.is_some() || b.max_price.is_some()
            })
            .map(|(name, b)| {
                let p = b.placement(default);
                let mut policy = default.clone();
                policy.k = p.k;
                policy.m = p.m;
                policy.duration = p.duration;
                policy.max_price_per_byte_epoch = p.max_price;
                (name.clone(), policy)
            })
            .collect()
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}
