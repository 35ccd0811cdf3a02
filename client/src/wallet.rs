//! The wallet file: one ed25519 key that signs ledger transactions.
//!
//! A wallet is a JSON file `{"address", "public_key", "secret_key"}` (all
//! hex; the address is the ledger's `PublicKey::address()` of the key),
//! written with mode 0600 and never overwritten by accident. Its path is
//! `--wallet`, else `$CAIRN_WALLET`, else the config file's `wallet`, else
//! `~/.config/cairn/wallet.json`. The secret key is kept in plain text, as
//! a development network's demo accounts are: there is no passphrase yet.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cairn_ledger::codec::Encode as _;
use cairn_ledger::ids::{Address, PublicKey, Signature, signing_bytes};
use cairn_ledger::tx::{SignedTx, TX_DOMAIN, Tx, TxBody};
use ed25519_dalek::{Signer as _, SigningKey};
use serde::{Deserialize, Serialize};

/// A loaded wallet: its key and where it lives.
#[derive(Debug)]
pub struct Wallet {
    key: SigningKey,
    path: PathBuf,
}

/// The file's JSON form.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WalletFile {
    address: String,
    public_key: String,
    secret_key: String,
}

/// The wallet path: `flag` (already merged with `$CAIRN_WALLET` by the
/// argument parser), else the config file's, else the default.
pub fn path(flag: Option<&Path>, config: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = flag.or(config) {
        return Ok(p.to_path_buf());
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".config/cairn/wallet.json"))
        .context("no wallet path: pass --wallet FILE or set CAIRN_WALLET")
}

/// Parses an address: 40 hex digits.
pub fn parse_address(s: &str) -> Result<Address> {
    let s = s.trim();
    let bytes = hex::decode(s.strip_prefix("0x").unwrap_or(s))
        .ok()
        .and_then(|v| <[u8; 20]>::try_from(v).ok());
    match bytes {
        Some(b) => Ok(Address(b)),
        None => bail!(
            "malformed address {s:?}: an address is 40 hex digits, as `cairn wallet show` prints it"
        ),
    }
}

fn parse_secret(hex_key: &str) -> Result<SigningKey> {
    let bytes = hex::decode(hex_key.trim())
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .context("a secret key is 64 hex digits (32 bytes)")?;
    Ok(SigningKey::from_bytes(&bytes))
}

impl Wallet {
    /// A wallet with a fresh key from the operating system's randomness.
    pub fn generate(path: PathBuf) -> Wallet {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        Wallet {
            key: SigningKey::from_bytes(&secret),
            path,
        }
    }

    /// A wallet holding an existing secret key (64 hex digits).
    pub fn import(secret_hex: &str, path: PathBuf) -> Result<Wallet> {
        Ok(Wallet {
            key: parse_secret(secret_hex).context("--secret-key")?,
            path,
        })
    }

    /// Reads the wallet at `path`, checking that its address and public key
    /// are the secret key's.
    pub fn load(path: &Path) -> Result<Wallet> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "no wallet at {}: create one with `cairn wallet new`, or import a key with \
                 `cairn wallet import --secret-key HEX` (or pass --wallet FILE)",
                path.display()
            ),
            Err(e) => {
                return Err(e).with_context(|| format!("reading wallet {}", path.display()));
            }
        };
        let file: WalletFile = serde_json::from_str(&text)
            .with_context(|| format!("parsing wallet {}", path.display()))?;
        let key = parse_secret(&file.secret_key)
            .with_context(|| format!("wallet {}: secret_key", path.display()))?;
        let w = Wallet {
            key,
            path: path.to_path_buf(),
        };
        if file.public_key != hex::encode(w.public_key().0)
            || file.address != w.address().to_string()
        {
            bail!(
                "wallet {}: its address or public key is not the secret key's (the file was edited?)",
                path.display()
            );
        }
        Ok(w)
    }

    /// Writes the wallet with mode 0600 (its directory 0700 if created).
    /// An existing file is replaced only if `force`, and then atomically.
    pub fn save(&self, force: bool) -> Result<()> {
        let path = &self.path;
        if !force && path.exists() {
            bail!(
                "{} already exists; pass --force to replace it (its key is lost unless saved elsewhere)",
                path.display()
            );
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let file = WalletFile {
            address: self.address().to_string(),
            public_key: hex::encode(self.public_key().0),
            secret_key: hex::encode(self.key.to_bytes()),
        };
        let mut text = serde_json::to_string_pretty(&file)?;
        text.push('\n');
        // Write beside the target, then rename: a crash leaves the old
        // wallet or the new one, never half of either.
        let name = path
            .file_name()
            .with_context(|| format!("{} is not a file path", path.display()))?;
        let mut tmp_name = name.to_os_string();
        tmp_name.push(format!(".tmp{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let write = || -> std::io::Result<()> {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            if force {
                std::fs::rename(&tmp, path)
            } else {
                // hard_link fails if the target appeared meanwhile.
                std::fs::hard_link(&tmp, path)?;
                std::fs::remove_file(&tmp)
            }
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            anyhow::Error::new(e).context(format!("writing wallet {}", path.display()))
        })
    }

    /// Where the wallet lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }

    /// The account this key controls.
    pub fn address(&self) -> Address {
        self.public_key().address()
    }

    /// `body` as a transaction of this account at `nonce` on `chain_id`,
    /// signed over the ledger's transaction domain.
    pub fn sign(&self, chain_id: u64, nonce: u64, body: TxBody) -> SignedTx {
        let tx = Tx {
            chain_id,
            nonce,
            signer: self.public_key(),
            body,
        };
        let sig = self.key.sign(&signing_bytes(TX_DOMAIN, &tx.to_bytes()));
        SignedTx {
            tx,
            signature: Signature(sig.to_bytes()),
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_ledger::codec::Decode as _;

    #[test]
    fn saved_wallets_load_back_private_and_are_not_overwritten() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("sub/w.json");
        let w = Wallet::generate(path.clone());
        w.save(false)?;
        let back = Wallet::load(&path)?;
        assert_eq!(back.address(), w.address());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path)?.permissions().mode() & 0o777,
                0o600
            );
        }
        let other = Wallet::generate(path.clone());
        let err = other.save(false).err().context("overwrote")?;
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(Wallet::load(&path)?.address(), w.address());
        other.save(true)?;
        assert_eq!(Wallet::load(&path)?.address(), other.address());
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(dir.path().join("sub"))?.count(), 1);
        Ok(())
    }

    #[test]
    fn an_edited_or_missing_wallet_is_refused_by_name() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("w.json");
        let err = Wallet::load(&path).err().context("loaded nothing")?;
        assert!(format!("{err:#}").contains("cairn wallet new"), "{err:#}");
        Wallet::generate(path.clone()).save(false)?;
        let text = std::fs::read_to_string(&path)?;
        let other = Wallet::generate(dir.path().join("x")).address().to_string();
        let start = text.find("\"address\": \"").context("address")? + 12;
        let edited = format!("{}{}{}", &text[..start], other, &text[start + 40..]);
        std::fs::write(&path, edited)?;
        let err = Wallet::load(&path)
            .err()
            .context("loaded an edited wallet")?;
        assert!(err.to_string().contains("not the secret key's"), "{err}");
        Ok(())
    }

    #[test]
    fn signatures_verify_under_the_ledger_rules() -> Result<()> {
        let w = Wallet::import(&"07".repeat(32), PathBuf::from("unused"))?;
        let to = parse_address(&"ab".repeat(20))?;
        let signed = w.sign(9, 4, TxBody::Transfer { to, amount: 5 });
        let decoded = SignedTx::from_bytes(&signed.to_bytes())?;
        assert_eq!(decoded.tx.nonce, 4);
        assert_eq!(decoded.tx.chain_id, 9);
        assert!(
            w.public_key()
                .verify(TX_DOMAIN, &decoded.tx.to_bytes(), &decoded.signature)
        );
        // Another chain's bytes do not carry this signature.
        let mut other = decoded.tx.clone();
        other.chain_id = 10;
        assert!(
            !w.public_key()
                .verify(TX_DOMAIN, &other.to_bytes(), &decoded.signature)
        );
        Ok(())
    }

    #[test]
    fn addresses_and_keys_are_checked() {
        assert!(parse_address(&"ab".repeat(20)).is_ok());
        assert!(parse_address(&format!("0x{}", "ab".repeat(20))).is_ok());
        for bad in ["", "xyz", &"ab".repeat(19), &"ab".repeat(21)] {
            let err = parse_address(bad).err().map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("malformed address")),
                "{bad}: {err:?}"
            );
        }
        assert!(Wallet::import("00", PathBuf::new()).is_err());
        assert!(Wallet::import(&"zz".repeat(32), PathBuf::new()).is_err());
    }
}
