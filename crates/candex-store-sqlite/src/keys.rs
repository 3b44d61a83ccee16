//! Token signing keys: the current one, and the race-safe first store of one.

use candex_store::rows;
use candex_store::{SigningKey, StoreError, StoreResult};
use sqlx::SqlitePool;

use crate::codec::{millis, Db};
use crate::error::map_err;

/// The current key is the oldest one; ties (same millisecond) break on the key id so that
/// every reader agrees.
const CURRENT_KEY: &str =
    "select kid, algorithm, secret, created_at from signing_keys order by created_at, kid limit 1";

pub(crate) async fn signing_key(reader: &SqlitePool) -> StoreResult<Option<SigningKey>> {
    let row = sqlx::query(CURRENT_KEY).fetch_optional(reader).await.map_err(map_err)?;
    row.as_ref().map(rows::signing_key::<Db>).transpose()
}

pub(crate) async fn insert_signing_key_if_absent(writer: &SqlitePool, key: SigningKey) -> StoreResult<SigningKey> {
    let mut tx = writer.begin_with("begin immediate").await.map_err(map_err)?;
    // One statement that inserts only into an empty table: SQLite runs writers one at a time
    // (and `begin immediate` holds the write lock until commit), so of several instances
    // starting together exactly one key lands and all of them read that one back.
    sqlx::query(
        "insert into signing_keys (kid, algorithm, secret, created_at)
         select ?1, ?2, ?3, ?4 where not exists (select 1 from signing_keys)",
    )
    .bind(&key.kid)
    .bind(&key.algorithm)
    .bind(&key.secret)
    .bind(millis(&key.created_at))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let row = sqlx::query(CURRENT_KEY).fetch_optional(&mut *tx).await.map_err(map_err)?;
    let current = row.as_ref().map(rows::signing_key::<Db>).transpose()?.ok_or(StoreError::NotFound("signing key"))?;
    tx.commit().await.map_err(map_err)?;
    Ok(current)
}

#[async_trait::async_trait]
impl candex_store::KeyStore for crate::SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn signing_key(&self) -> StoreResult<Option<SigningKey>> {
        crate::keys::signing_key(&self.reader).await
    }

    #[tracing::instrument(skip_all)]
    async fn insert_signing_key_if_absent(&self, key: SigningKey) -> StoreResult<SigningKey> {
        crate::keys::insert_signing_key_if_absent(&self.writer, key).await
    }
}
