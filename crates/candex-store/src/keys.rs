//! The keys area of the store: the token signing keys.

use async_trait::async_trait;

use crate::sql::{Exec, Lock, SqlBackend, Transaction};
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

#[async_trait]
impl<B: SqlBackend> KeyStore for B {
    #[tracing::instrument(skip_all)]
    async fn signing_key(&self) -> StoreResult<Option<SigningKey>> {
        self.reader().optional(stmt!(current_key::<B>()), rows::signing_key::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn insert_signing_key_if_absent(&self, key: SigningKey) -> StoreResult<SigningKey> {
        let mut tx = self.begin().await?;
        // One statement that inserts only into an empty table. Instances starting together
        // take turns (SQLite's one writer; PostgreSQL's advisory lock, without which each
        // would find the table empty and insert its own key): the first key lands, every
        // later statement finds the table no longer empty, and all read that one key back.
        tx.lock(Lock::SigningKeys).await?;
        let insert = "insert into signing_keys (kid, algorithm, secret, created_at)
                      select $1, $2, $3, $4 where not exists (select 1 from signing_keys)";
        tx.execute(stmt!(insert, &key.kid, &key.algorithm, &key.secret[..], key.created_at)).await?;
        let current = tx.optional(stmt!(current_key::<B>()), rows::signing_key::<B::Db>).await?;
        let current = current.ok_or(StoreError::NotFound("signing key"))?;
        tx.commit().await?;
        Ok(current)
    }
}

/// The current key is the oldest one; ties (same millisecond) break on the key id, in binary
/// order, so that every reader agrees.
fn current_key<B: SqlBackend>() -> String {
    format!("select kid, algorithm, secret, created_at from signing_keys order by created_at, kid{} limit 1", B::BINARY)
}
