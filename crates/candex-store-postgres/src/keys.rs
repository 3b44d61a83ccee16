//! Token signing keys: the current one, and the race-free first store of one.

use candex_store::rows;
use candex_store::{SigningKey, StoreError, StoreResult};
use sqlx::PgPool;

use crate::codec::{millis, Db};
use crate::error::map_err;

/// The current key is the oldest one; ties (same millisecond) break on the key id, in
/// binary order as on SQLite, so that every reader agrees.
const CURRENT_KEY: &str =
    r#"select kid, algorithm, secret, created_at from signing_keys order by created_at, kid collate "C" limit 1"#;

pub(crate) async fn signing_key(pool: &PgPool) -> StoreResult<Option<SigningKey>> {
    let row = sqlx::query(CURRENT_KEY).fetch_optional(pool).await.map_err(map_err)?;
    row.as_ref().map(rows::signing_key::<Db>).transpose()
}

pub(crate) async fn insert_signing_key_if_absent(pool: &PgPool, key: SigningKey) -> StoreResult<SigningKey> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    // Instances starting together would each find the table empty and each insert their own
    // key (the keys differ, so no constraint stops them). Under the advisory lock they take
    // turns: the insert of the first lands, and every later one, whose statement starts after
    // that commit, finds the table no longer empty; all of them read that one key back.
    crate::locks::lock(&mut tx, crate::locks::SIGNING_KEYS).await?;
    sqlx::query(
        "insert into signing_keys (kid, algorithm, secret, created_at)
         select $1, $2, $3, $4 where not exists (select 1 from signing_keys)",
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
impl candex_store::KeyStore for crate::PgStore {
    #[tracing::instrument(skip_all)]
    async fn signing_key(&self) -> StoreResult<Option<SigningKey>> {
        crate::keys::signing_key(&self.pool).await
    }

    #[tracing::instrument(skip_all)]
    async fn insert_signing_key_if_absent(&self, key: SigningKey) -> StoreResult<SigningKey> {
        crate::keys::insert_signing_key_if_absent(&self.pool, key).await
    }
}
