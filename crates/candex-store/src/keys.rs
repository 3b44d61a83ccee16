//! The keys area of the store: the token signing keys, their rotation and retirement, and the
//! secrets kept at rest (signing keys and webhook subscription secrets) as a whole, for the
//! server to seal plain-text rows and to reseal everything under a new master key.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::rows::SIGNING_KEY_COLUMNS;
use crate::sql::{Exec, Lock, SqlBackend, Transaction};
use crate::*;

/// The token signing keys and the secrets at rest.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The current token signing key (the one that signs), if one was ever stored.
    async fn signing_key(&self) -> StoreResult<Option<SigningKey>>;
    /// Every signing key ever stored, retired ones included (with their secret wiped), oldest
    /// first.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKey>>;
    /// Stores `key` unless a key already exists; returns whichever key is current, so that
    /// concurrent first starts of several instances agree on one key.
    async fn insert_signing_key_if_absent(&self, key: SigningKey) -> StoreResult<SigningKey>;
    /// Makes `key` the current signing key: the current one (if any) is superseded at
    /// `key.created_at` and verifies until `retire_at`. One transaction; instances rotating at
    /// once take turns, and each rotation supersedes the key the previous one stored.
    /// `Conflict` (`signing_keys_pkey`) when a key with `key.kid` exists already: a key never
    /// comes back.
    async fn rotate_signing_key(&self, key: SigningKey, retire_at: DateTime<Utc>) -> StoreResult<SigningKey>;
    /// Retires every superseded key whose `retire_at` is not after `now`: wipes its secret and
    /// records `retired_at`. Returns the retired keys' ids.
    async fn retire_signing_keys(&self, now: DateTime<Utc>) -> StoreResult<Vec<String>>;

    /// Every secret kept at rest: the signing keys' (retired ones have none) and the webhook
    /// subscriptions'.
    async fn stored_secrets(&self) -> StoreResult<Vec<StoredSecret>>;
    /// Replaces stored secrets in one transaction, each only where it still holds the value
    /// read (a row changed meanwhile keeps its newer value). Returns how many were replaced.
    async fn replace_secrets(&self, updates: &[SecretUpdate]) -> StoreResult<u64>;
}

#[async_trait]
impl<B: SqlBackend> KeyStore for B {
    #[tracing::instrument(skip_all)]
    async fn signing_key(&self) -> StoreResult<Option<SigningKey>> {
        self.reader().optional(stmt!(current_key::<B>()), rows::signing_key::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKey>> {
        let select = format!("select {SIGNING_KEY_COLUMNS} from signing_keys order by created_at, kid{}", B::BINARY);
        self.reader().all(stmt!(select), rows::signing_key::<B::Db>).await
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

    #[tracing::instrument(skip_all)]
    async fn rotate_signing_key(&self, key: SigningKey, retire_at: DateTime<Utc>) -> StoreResult<SigningKey> {
        let mut tx = self.begin().await?;
        tx.lock(Lock::SigningKeys).await?;
        if tx.exists(stmt!("select 1 from signing_keys where kid = $1", &key.kid)).await? {
            return Err(StoreError::Conflict { constraint: "signing_keys_pkey".into() });
        }
        let supersede = "update signing_keys set superseded_at = $1, retire_at = $2
                         where superseded_at is null and retired_at is null";
        tx.execute(stmt!(supersede, key.created_at, retire_at)).await?;
        let insert = "insert into signing_keys (kid, algorithm, secret, created_at) values ($1, $2, $3, $4)";
        tx.execute(stmt!(insert, &key.kid, &key.algorithm, &key.secret[..], key.created_at)).await?;
        tx.commit().await?;
        Ok(SigningKey::new(key.kid, key.algorithm, key.secret, key.created_at))
    }

    #[tracing::instrument(skip_all)]
    async fn retire_signing_keys(&self, now: DateTime<Utc>) -> StoreResult<Vec<String>> {
        let mut tx = self.begin().await?;
        tx.lock(Lock::SigningKeys).await?;
        let due = "select kid from signing_keys where retire_at <= $1 and retired_at is null";
        let kids = tx.all(stmt!(due, now), |row| rows::StoredRow::<B::Db>::new(row).text("kid")).await?;
        let empty: &[u8] = &[];
        let retire =
            "update signing_keys set secret = $2, retired_at = $1 where retire_at <= $1 and retired_at is null";
        tx.execute(stmt!(retire, now, empty)).await?;
        tx.commit().await?;
        Ok(kids)
    }

    #[tracing::instrument(skip_all)]
    async fn stored_secrets(&self) -> StoreResult<Vec<StoredSecret>> {
        let keys = "select kid, secret from signing_keys where retired_at is null";
        let mut secrets = self.reader().all(stmt!(keys), rows::signing_key_secret::<B::Db>).await?;
        let webhooks = "select id, secret from webhook_subscriptions where secret is not null";
        secrets.extend(self.reader().all(stmt!(webhooks), rows::webhook_secret::<B::Db>).await?);
        Ok(secrets)
    }

    #[tracing::instrument(skip_all)]
    async fn replace_secrets(&self, updates: &[SecretUpdate]) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        tx.lock(Lock::SigningKeys).await?;
        let mut replaced = 0;
        for update in updates {
            let (old, new) = (&update.old, &update.new);
            replaced += match old.kind {
                SecretKind::SigningKey => {
                    let sql = "update signing_keys set secret = $3 where kid = $1 and secret = $2";
                    tx.execute(stmt!(sql, &old.row, &old.value[..], &new[..])).await?
                }
                SecretKind::WebhookSecret => {
                    let (Ok(old_text), Ok(new_text)) = (std::str::from_utf8(&old.value), std::str::from_utf8(new))
                    else {
                        return Err(StoreError::Rejected("webhook secrets are stored as text".into()));
                    };
                    let sql = "update webhook_subscriptions set secret = $3 where id = $1 and secret = $2";
                    tx.execute(stmt!(sql, &old.row, old_text, new_text)).await?
                }
            };
        }
        tx.commit().await?;
        Ok(replaced)
    }
}

/// The current key is the one not superseded (nor retired); should several be (keys stored
/// by an older version), the oldest wins, ties (same millisecond) broken on the key id in
/// binary order, so that every reader agrees.
fn current_key<B: SqlBackend>() -> String {
    format!(
        "select {SIGNING_KEY_COLUMNS} from signing_keys where superseded_at is null and retired_at is null
         order by created_at, kid{} limit 1",
        B::BINARY
    )
}
