//! Key files: one ed25519 key as the JSON `cairn wallet` writes
//! (`{"address", "public_key", "secret_key"}`, hex, mode 0600), so a
//! provider's owner and worker keys are wallets an operator can use with
//! `cairn wallet balance --wallet FILE`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use cairn_ledger::codec::Encode as _;
use cairn_ledger::ids::{Address, PublicKey, Signature, signing_bytes};
use cairn_ledger::tx::{SignedTx, TX_DOMAIN, Tx, TxBody};
use ed25519_dalek::{Signer as _, SigningKey};
use serde::{Deserialize, Serialize};

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading or writing it failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Its contents are not a key file.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// It exists and would be overwritten.
    #[error("{0} already exists; refusing to replace a key")]
    Exists(PathBuf),
}

/// An ed25519 signing key.
pub struct Keypair {
    key: SigningKey,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        write!(f, "Keypair({})", self.address())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    address: String,
    public_key: String,
    secret_key: String,
}

impl Keypair {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        Self::from_secret(secret)
    }

    /// The key with this secret.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&secret),
        }
    }

    /// The secret's bytes.
    pub fn secret(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Its public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }

    /// Its ledger address.
    pub fn address(&self) -> Address {
        self.public_key().address()
    }

    /// Signs `msg` in `domain` (the ledger's domain-separated bytes).
    pub fn sign(&self, domain: &[u8], msg: &[u8]) -> Signature {
        Signature(self.key.sign(&signing_bytes(domain, msg)).to_bytes())
    }

    /// `body` as this account's transaction at `nonce` on `chain_id`.
    pub fn sign_tx(&self, chain_id: u64, nonce: u64, body: TxBody) -> SignedTx {
        let tx = Tx {
            chain_id,
            nonce,
            signer: self.public_key(),
            body,
        };
        let signature = self.sign(TX_DOMAIN, &tx.to_bytes());
        SignedTx { tx, signature }
    }

    /// Reads a key file, checking that its address and public key are its
    /// secret's.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let malformed = |reason: String| KeyError::Malformed {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: KeyFile =
            serde_json::from_str(&text).map_err(|e| malformed(format!("not a key file: {e}")))?;
        let secret = hex::decode(file.secret_key.trim())
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| malformed("secret_key is not 64 hex digits".into()))?;
        let k = Self::from_secret(secret);
        if file.public_key != hex::encode(k.public_key().0)
            || file.address != k.address().to_string()
        {
            return Err(malformed(
                "its address or public key is not the secret key's (was the file edited?)".into(),
            ));
        }
        Ok(k)
    }

    /// Writes the key file with mode 0600, refusing to replace one.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = KeyFile {
            address: self.address().to_string(),
            public_key: hex::encode(self.public_key().0),
            secret_key: hex::encode(self.secret()),
        };
        let mut text = serde_json::to_string_pretty(&file).map_err(|e| io(e.into()))?;
        text.push('\n');
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists(path.to_path_buf())
            } else {
                io(e)
            }
        })?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_key_loads_back_and_is_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("cairn-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("owner.json");
        let _ = std::fs::remove_file(&path);
        let k = Keypair::generate();
        k.save(&path).unwrap();
        assert_eq!(Keypair::load(&path).unwrap().address(), k.address());
        assert!(matches!(
            Keypair::generate().save(&path),
            Err(KeyError::Exists(_))
        ));
        // An edited address is caught.
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replace(&k.address().to_string(), &"0".repeat(40));
        std::fs::write(&path, edited).unwrap();
        let err = Keypair::load(&path).unwrap_err().to_string();
        assert!(err.contains("not the secret key's"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
