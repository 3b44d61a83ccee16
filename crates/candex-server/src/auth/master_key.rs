//! The key-encryption key (KEK, "master key") the operator supplies, and the sealing of the
//! secrets candex keeps in its database with it: token signing keys and webhook subscription
//! secrets. A copy of the database alone then mints no token and forges no webhook signature.
//!
//! A sealed value is text: `cdxk1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`, where the
//! cipher is XChaCha20-Poly1305 with a random 192-bit nonce per value, and the associated data
//! names what the value is and whose it is (`<purpose>\0<row id>`), so a sealed value moved to
//! another row or purpose does not open. The key id (the first 8 bytes of the key's SHA-256
//! under a domain label, hex) says which master key sealed it, so that a wrong key is named
//! clearly and the key can be rotated (values sealed under an older key are resealed).

use std::path::Path;

use anyhow::Context;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use candex_store::{KeyStore, SecretKind, SecretUpdate};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix of every sealed value (format version 1).
pub const SEALED_PREFIX: &str = "cdxk1.";
/// Bytes of a master key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

/// What a sealed value is, bound into its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A token signing key (row id: its `kid`).
    SigningKey,
    /// A webhook subscription's signing secret (row id: the subscription id).
    WebhookSecret,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::SigningKey => "candex signing key",
            Purpose::WebhookSecret => "candex webhook secret",
        }
    }
}

/// One master key. `Debug` shows only its id.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Why a sealed value did not open. Messages name key ids, never key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Sealed under a master key that is not configured.
    #[error(
        "it was sealed with master key {sealed_with}, but the configured master key is {configured}: start with \
         the master key this database was created with (--master-key-file / CANDEX_MASTER_KEY_FILE)"
    )]
    WrongKey {
        /// The key id in the sealed value.
        sealed_with: String,
        /// The configured key's id.
        configured: String,
    },
    /// Not a sealed value of this format, or altered, or moved from another row.
    #[error("it is not a valid sealed value (altered, truncated or copied from another row)")]
    Corrupt,
}

impl MasterKey {
    /// A master key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            bytes.len() == KEY_BYTES,
            "a master key is exactly {KEY_BYTES} bytes (base64: 44 characters); this one has {} bytes. Generate \
             one with `candex admin master-key generate > FILE` or `openssl rand -base64 32 > FILE`",
            bytes.len()
        );
        let mut label = Sha256::new();
        label.update(b"candex master key id\0");
        label.update(bytes);
        let id = hex::encode(&label.finalize()[..8]);
        let cipher = XChaCha20Poly1305::new_from_slice(bytes).context("invalid master key")?;
        Ok(Self { id, cipher })
    }

    /// A master key from its base64 text (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> anyhow::Result<Self> {
        let bytes = zeroize::Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .context("a master key is 32 bytes in base64 (e.g. `openssl rand -base64 32`)")?,
        );
        Self::from_bytes(&bytes)
    }

    /// Reads a master key file (base64 text).
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("failed to read the master key file {}", path.display()))?,
        );
        Self::from_base64(&text).with_context(|| format!("bad master key file {}", path.display()))
    }

    /// A new random master key and its base64 text, for `master-key generate` and `--demo`.
    pub fn generate() -> (Self, zeroize::Zeroizing<String>) {
        let mut bytes = zeroize::Zeroizing::new([0u8; KEY_BYTES]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        let text = zeroize::Zeroizing::new(STANDARD.encode(bytes.as_ref()));
        (Self::from_bytes(bytes.as_ref()).expect("32 bytes"), text)
    }

    /// The key id: what sealed values name.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plaintext` as `purpose` of row `row`.
    pub fn seal(&self, purpose: Purpose, row: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(purpose, row);
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
            .expect("XChaCha20-Poly1305 encrypts any message of sane length");
        let mut blob = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        format!("{SEALED_PREFIX}{}.{}", self.id, URL_SAFE_NO_PAD.encode(blob))
    }

    /// Opens a value sealed as `purpose` of row `row`.
    pub fn open(&self, purpose: Purpose, row: &str, sealed: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, SealError> {
        let rest = sealed.strip_prefix(SEALED_PREFIX).ok_or(SealError::Corrupt)?;
        let (key_id, body) = rest.split_once('.').ok_or(SealError::Corrupt)?;
        if key_id != self.id {
            return Err(SealError::WrongKey { sealed_with: key_id.to_owned(), configured: self.id.clone() });
        }
        let blob = URL_SAFE_NO_PAD.decode(body).map_err(|_| SealError::Corrupt)?;
        if blob.len() < NONCE_BYTES {
            return Err(SealError::Corrupt);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_BYTES);
        let aad = associated_data(purpose, row);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map(zeroize::Zeroizing::new)
            .map_err(|_| SealError::Corrupt)
    }
}

/// Whether a stored value is sealed (rather than a plain-text value from before sealing).
pub fn is_sealed(value: &[u8]) -> bool {
    value.starts_with(SEALED_PREFIX.as_bytes())
}

/// The key id a sealed value names, if it is one.
pub fn sealed_key_id(value: &str) -> Option<&str> {
    value.strip_prefix(SEALED_PREFIX)?.split_once('.').map(|(id, _)| id)
}

impl Purpose {
    /// The purpose of a stored secret's column.
    pub fn of(kind: SecretKind) -> Self {
        match kind {
            SecretKind::SigningKey => Purpose::SigningKey,
            SecretKind::WebhookSecret => Purpose::WebhookSecret,
        }
    }
}

/// At start: seals every secret kept in plain text (rows from before sealing) with `key`, and
/// checks that every sealed one opens with it, so a wrong master key is refused at once
/// rather than at the first webhook. Returns how many were sealed now.
pub async fn seal_plaintext_secrets(store: &dyn KeyStore, key: &MasterKey) -> anyhow::Result<u64> {
    let secrets = store.stored_secrets().await.context("failed to read the secrets kept in the database")?;
    let mut updates = Vec::new();
    for secret in secrets {
        let purpose = Purpose::of(secret.kind);
        if is_sealed(&secret.value) {
            let text = std::str::from_utf8(&secret.value).map_err(|_| SealError::Corrupt);
            text.and_then(|text| key.open(purpose, &secret.row, text).map(drop)).with_context(|| {
                format!("cannot open the {} of {} kept in the database", purpose.noun(), secret.row)
            })?;
        } else {
            let new = key.seal(purpose, &secret.row, &secret.value).into_bytes();
            updates.push(SecretUpdate { old: secret, new });
        }
    }
    if updates.is_empty() {
        return Ok(0);
    }
    let sealed = store.replace_secrets(&updates).await.context("failed to seal the secrets kept in plain text")?;
    tracing::info!(sealed, master_key = %key.id(), "sealed secrets kept in plain text with the master key");
    Ok(sealed)
}

/// Reseals every secret kept in the database from `old` to `new` in one transaction (KEK
/// rotation). Values already sealed with `new` are left; plain-text ones are sealed. Returns
/// how many were resealed.
pub async fn reseal_secrets(store: &dyn KeyStore, old: &MasterKey, new: &MasterKey) -> anyhow::Result<u64> {
    let secrets = store.stored_secrets().await.context("failed to read the secrets kept in the database")?;
    let mut updates = Vec::new();
    for secret in secrets {
        let purpose = Purpose::of(secret.kind);
        let plain = if is_sealed(&secret.value) {
            let text = std::str::from_utf8(&secret.value).map_err(|_| SealError::Corrupt)?;
            if sealed_key_id(text) == Some(new.id()) {
                continue;
            }
            old.open(purpose, &secret.row, text).with_context(|| {
                format!("cannot open the {} of {} with the current master key", purpose.noun(), secret.row)
            })?
        } else {
            zeroize::Zeroizing::new(secret.value.clone())
        };
        let sealed = new.seal(purpose, &secret.row, &plain).into_bytes();
        updates.push(SecretUpdate { old: secret, new: sealed });
    }
    store.replace_secrets(&updates).await.context("failed to store the resealed secrets")
}

impl Purpose {
    fn noun(self) -> &'static str {
        match self {
            Purpose::SigningKey => "token signing key",
            Purpose::WebhookSecret => "webhook secret of subscription",
        }
    }
}

fn associated_data(purpose: Purpose, row: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(purpose.label().len() + 1 + row.len());
    aad.extend_from_slice(purpose.label().as_bytes());
    aad.push(0);
    aad.extend_from_slice(row.as_bytes());
    aad
}

/// Writes a new master key to `path` as base64, readable by its owner only (0600), refusing
/// to overwrite an existing file.
pub fn write_new_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    use std::io::Write;
    let (key, text) = MasterKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("failed to create {}", path.display()))?;
    writeln!(file, "{}", text.as_str()).with_context(|| format!("failed to write {}", path.display()))?;
    file.sync_all().with_context(|| format!("failed to write {}", path.display()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_purpose_and_row() {
        let (key, _) = MasterKey::generate();
        let sealed = key.seal(Purpose::WebhookSecret, "sub-1", b"s3cret-value");
        assert!(is_sealed(sealed.as_bytes()));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(sealed_key_id(&sealed), Some(key.id()));
        assert_eq!(key.open(Purpose::WebhookSecret, "sub-1", &sealed).unwrap().as_slice(), b"s3cret-value");
        // Another row, another purpose, another key: nothing opens.
        assert_eq!(key.open(Purpose::WebhookSecret, "sub-2", &sealed), Err(SealError::Corrupt));
        assert_eq!(key.open(Purpose::SigningKey, "sub-1", &sealed), Err(SealError::Corrupt));
        let (other, _) = MasterKey::generate();
        assert!(matches!(other.open(Purpose::WebhookSecret, "sub-1", &sealed), Err(SealError::WrongKey { .. })));
        // Two seals of one value differ (random nonce).
        assert_ne!(sealed, key.seal(Purpose::WebhookSecret, "sub-1", b"s3cret-value"));
        // A flipped byte is refused.
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(key.open(Purpose::WebhookSecret, "sub-1", &altered), Err(SealError::Corrupt));
    }

    #[test]
    fn keys_are_32_bytes_of_base64_and_debug_shows_only_the_id() {
        assert!(MasterKey::from_base64("c2hvcnQ=").unwrap_err().to_string().contains("exactly 32 bytes"));
        let (key, text) = MasterKey::generate();
        let again = MasterKey::from_base64(&format!("  {}\n", text.as_str())).unwrap();
        assert_eq!(again.id(), key.id());
        assert!(!format!("{key:?}").contains(text.as_str()));
    }
}
