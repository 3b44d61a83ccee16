//! The keys area of the store: the token signing keys.

use async_trait::async_trait;

use crate::*;

/// The token signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The current token signing key, if one was ever stored.
    async fn signing_key(&self) -> StoreResult<Option<SigningKey>>;
    /// Stores `key` unless a key already exists; returns whichever key is current, so that
    /// concurrent first starts of several instances agree on one key.
    async fn insert_signing_key_if_absent(&self, key: SigningKey) -> StoreResult<SigningKey>;
}
