//! The event outbox on PostgreSQL: writing an event with its partner streams and webhook
//! deliveries inside the transaction that causes it ([`emit`], the backend's
//! `SqlBackend::emit`), and the helpers `webhooks.rs` shares. Reading streams and retention
//! are shared (`candex_store::EventStore`); `emit` differs from SQLite's by the locks below.
//!
//! Stream order is commit order: [`emit`] takes the advisory lock `locks::EVENT_ORDER` for the
//! rest of its transaction, so event-writing transactions are serialised from drawing their
//! sequence number to their commit (see `migrations/0004_events.sql`).

use candex_domain::{ObjectId, PartnerId, RelationshipType};
use candex_store::{SeqPage, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};

use crate::codec::{cols, millis};
use crate::error::map_err;
use crate::locks::{lock, EVENT_ORDER};

// --- helpers shared with webhooks.rs ----------------------------------------------------

/// Bounds for keyset ranges: `None` binds as the open end so the index range always applies.
pub(crate) fn lower(after: Option<i64>) -> i64 {
    after.unwrap_or(i64::MIN)
}

pub(crate) fn upper(before: Option<i64>) -> i64 {
    before.unwrap_or(i64::MAX)
}

pub(crate) fn time_lower(after: Option<DateTime<Utc>>) -> i64 {
    after.as_ref().map_or(i64::MIN, millis)
}

pub(crate) fn time_upper(before: Option<DateTime<Utc>>) -> i64 {
    before.as_ref().map_or(i64::MAX, millis)
}

/// Rows fetched for a `SeqPage` in ascending order: a `from_end` page is read newest first
/// (so the limit applies at the end) and turned around here.
pub(crate) fn ascending<T>(mut rows: Vec<T>, page: &SeqPage) -> Vec<T> {
    if page.from_end {
        rows.reverse();
    }
    rows
}

/// Codes for `cardinality($n::text[]) = 0 or column = any($n)`: empty keeps all.
pub(crate) fn codes<'a>(codes: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    codes.collect()
}

// --- events -------------------------------------------------------------------------------

pub(crate) use candex_store::sql::Outbox;

/// Writes the event, its place in each entitled partner's stream, and a pending delivery for
/// each matching subscription: four statements whatever the number of partners.
///
/// The first takes the transaction-scoped advisory lock `locks::EVENT_ORDER` (the 64-bit
/// constant 0x6361_6e64_6578_6576, ASCII "candexev"), held until the transaction commits or
/// rolls back. Why: partners page their streams with an `after: seq` cursor. An identity value
/// is drawn at insert, but concurrent transactions commit in any order; if a transaction
/// holding seq 10 committed after a reader had seen seq 11 and moved its cursor past it, event
/// 10 would never be read. Holding the lock serialises event-writing transactions from drawing
/// their seq to their commit, and PostgreSQL releases a transaction's locks only once its
/// commit is visible, so seq order is commit order: a reader only ever sees a prefix of the
/// events (with gaps only where a transaction rolled back, which a cursor skips safely).
/// Reads never take the lock. Taking it again in the same transaction returns at once, so a
/// write that takes it first, before any row lock (as every emitting write of this crate
/// does), keeps lock order the same in every emitter and cannot deadlock on it.
pub(crate) async fn emit(tx: &mut Transaction<'_, Postgres>, event: Outbox<'_>) -> StoreResult<i64> {
    lock(tx, EVENT_ORDER).await?;
    let seq: i64 = sqlx::query_scalar(
        "insert into events (id, type_code, hirer_id, created_at, candidate_profile_id, candidate_id,
             position_profile_id)
         values ($1, $2, $3, $4, $5, $6, $7) returning seq",
    )
    .bind(event.id.as_str())
    .bind(event.event_type.code())
    .bind(event.hirer_id.as_str())
    .bind(millis(&event.at))
    .bind(event.candidate_profile_id.map(|id| id.as_str()))
    .bind(event.candidate_id.map(|id| id.as_str()))
    .bind(event.position_profile_id.map(|id| id.as_str()))
    .fetch_one(&mut **tx)
    .await
    .map_err(map_err)?;
    match event.only_partner {
        Some(partner) => {
            sqlx::query("insert into event_streams (partner_id, event_seq) values ($1, $2)")
                .bind(partner.as_str())
                .bind(seq)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        }
        None => {
            let codes: Vec<&str> =
                event.event_type.stream_relationships().iter().map(|t: &RelationshipType| t.code()).collect();
            // `$4`: the candidate whose earlier application events also name recipients
            // (`CandidateErased`), else null, which selects nothing (`events_candidate_idx`).
            sqlx::query(
                "insert into event_streams (partner_id, event_seq)
                 select r.partner_id, $1::bigint from relationships r
                 where r.hirer_id = $2 and r.type_code = any($3::text[])
                 union
                 select st.partner_id, $1::bigint from events e join event_streams st on st.event_seq = e.seq
                 where e.candidate_id = $4::text and e.type_code = 'CandidateApplicationCreated'",
            )
            .bind(seq)
            .bind(event.hirer_id.as_str())
            .bind(codes)
            .bind(event.past_recipients_of().map(|c| c.as_str()))
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        }
    }
    // `for key share`: a subscription deleted concurrently (after this statement's snapshot)
    // is waited for and then left out, rather than failing the cause's transaction on the
    // foreign key.
    sqlx::query(
        "insert into webhook_deliveries (subscription_seq, event_seq)
         select s.seq, st.event_seq from event_streams st
         join webhook_subscriptions s on s.partner_id = st.partner_id
         where st.event_seq = $1 and s.event_type_code = $2 and (s.hirer_id is null or s.hirer_id = $3)
         for key share of s",
    )
    .bind(seq)
    .bind(event.event_type.code())
    .bind(event.hirer_id.as_str())
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(seq)
}

/// The seq, event type and hirer of `id` if it is a subscription of `partner_id`, locked
/// (`for no key update`) until the transaction ends, so it is neither deleted nor leased
/// differently underneath the caller.
pub(crate) async fn subscription_key(
    tx: &mut Transaction<'_, Postgres>,
    partner_id: &PartnerId,
    id: &ObjectId,
) -> StoreResult<Option<(i64, String, Option<String>)>> {
    let row = sqlx::query(
        "select seq, event_type_code, hirer_id from webhook_subscriptions where partner_id = $1 and id = $2
         for no key update",
    )
    .bind(partner_id.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(map_err)?;
    row.map(|r| {
        let r = cols(&r);
        Ok::<_, StoreError>((r.int("seq")?, r.text("event_type_code")?, r.opt_text("hirer_id")?))
    })
    .transpose()
}

/// Live-database tests, run only when `CANDEX_TEST_POSTGRES_URL` names a PostgreSQL server
/// (each test works in a schema of its own, dropped at the end). `webhooks.rs` uses the
/// harness too.
#[cfg(test)]
pub(crate) mod tests {
    use std::str::FromStr;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use candex_domain::{EventType, HirerId};
    use candex_store::TimeWindow;
    use candex_store::{EventStore, EventsQuery};
    use rand::Rng;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::PgPool;

    use super::*;

    static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

    /// A database of its own on the test server, with the crate's migrations applied; dropped
    /// (forcing off any connection left, as after a failed assertion) when this goes.
    pub(crate) struct TestDb {
        pub pool: PgPool,
        /// Last, so the pools close before the database is dropped.
        database: crate::scratch::ScratchDatabase,
    }

    impl TestDb {
        /// `None` (the test is skipped) unless `CANDEX_TEST_POSTGRES_URL` is set.
        pub(crate) async fn open(_test: &str) -> Option<TestDb> {
            let database = crate::scratch::ScratchDatabase::from_env().await?;
            let pool = Self::pool_on(&database.url()).await;
            MIGRATOR.run(&pool).await.expect("migrate");
            Some(TestDb { pool, database })
        }

        async fn pool_on(url: &str) -> PgPool {
            let options = PgConnectOptions::from_str(url).expect("database URL");
            PgPoolOptions::new().max_connections(12).connect_with(options).await.expect("connect to the database")
        }

        /// Another pool on the same database (another instance).
        pub(crate) async fn another_pool(&self) -> PgPool {
            Self::pool_on(&self.database.url()).await
        }

        /// A hirer and a partner, by raw inserts.
        pub(crate) async fn hirer_and_partner(&self) -> (HirerId, PartnerId) {
            let tag = rand::random::<u32>();
            let hirer = HirerId::from_trusted(format!("seekAnzPublicTest:organization:seek:h{tag:08x}"));
            let partner = PartnerId::from_trusted(format!("seekAnzPublicTest:partner:seek:p{tag:08x}"));
            sqlx::query("insert into hirers (id, name, name_folded, created_at) values ($1, 'H', 'h', 0)")
                .bind(hirer.as_str())
                .execute(&self.pool)
                .await
                .expect("hirer");
            sqlx::query(
                "insert into partners (id, name, client_id, client_secret_hash, created_at) values ($1, 'P', $1, 'x', 0)",
            )
            .bind(partner.as_str())
            .execute(&self.pool)
            .await
            .expect("partner");
            (hirer, partner)
        }
    }

    pub(crate) fn event_id() -> ObjectId {
        ObjectId::from_trusted(format!("seekAnzPublicTest:event:events:{:032x}", rand::random::<u128>()))
    }

    /// An application event for `partner`'s stream alone.
    pub(crate) fn outbox<'a>(id: &'a ObjectId, hirer: &'a HirerId, partner: &'a PartnerId) -> Outbox<'a> {
        Outbox {
            id,
            event_type: EventType::CandidateApplicationCreated,
            hirer_id: hirer,
            at: candex_domain::time::now_ms(),
            candidate_profile_id: None,
            candidate_id: None,
            position_profile_id: None,
            only_partner: Some(partner),
        }
    }

    /// Emits one event for `partner` in a transaction of its own.
    pub(crate) async fn emit_one(pool: &PgPool, hirer: &HirerId, partner: &PartnerId) -> i64 {
        let id = event_id();
        let mut tx = pool.begin().await.expect("begin");
        let seq = emit(&mut tx, outbox(&id, hirer, partner)).await.expect("emit");
        tx.commit().await.expect("commit");
        seq
    }

    fn after(partner: &PartnerId, cursor: Option<i64>) -> EventsQuery {
        EventsQuery {
            partner_id: partner.clone(),
            page: SeqPage { after: cursor, before: None, limit: 1000, from_end: false },
            window: TimeWindow::default(),
            types: vec![],
            subscription: None,
        }
    }

    /// A transaction that drew its seq first commits first: a second event-writing
    /// transaction waits for the first one's commit before drawing its own, so a reader never
    /// sees the later event without the earlier one. Fails without the advisory lock.
    #[tokio::test]
    async fn a_later_event_waits_for_the_earlier_commit() {
        let Some(db) = TestDb::open("order_wait").await else { return };
        let (hirer, partner) = db.hirer_and_partner().await;
        let first_id = event_id();
        let mut first = db.pool.begin().await.expect("begin");
        let first_seq = emit(&mut first, outbox(&first_id, &hirer, &partner)).await.expect("emit first");

        let second = tokio::spawn({
            let (pool, hirer, partner) = (db.pool.clone(), hirer.clone(), partner.clone());
            async move { emit_one(&pool, &hirer, &partner).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!second.is_finished(), "the second event must wait for the first transaction");
        assert!(
            crate::PgStore { pool: db.pool.clone() }
                .page_events(&after(&partner, None))
                .await
                .expect("page")
                .is_empty(),
            "nothing committed"
        );

        first.commit().await.expect("commit first");
        let second_seq = second.await.expect("second task");
        assert!(second_seq > first_seq);
        let seen: Vec<i64> = crate::PgStore { pool: db.pool.clone() }
            .page_events(&after(&partner, None))
            .await
            .expect("page")
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seen, vec![first_seq, second_seq]);
    }

    /// Eight writers emit concurrently, each sleeping a random moment between drawing its seq
    /// and committing (some roll back), while a reader follows the stream with an `after`
    /// cursor as a partner would. Every committed event must reach the reader: one committing
    /// below a cursor the reader already passed would be lost to it. Without the advisory lock
    /// this fails within a few rounds.
    #[tokio::test]
    async fn a_cursor_reader_never_skips_an_event() {
        const WRITERS: usize = 8;
        const EVENTS_EACH: usize = 30;
        let Some(db) = TestDb::open("order_cursor").await else { return };
        let (hirer, partner) = db.hirer_and_partner().await;
        let done = Arc::new(AtomicBool::new(false));

        let reader = tokio::spawn({
            let (pool, partner, done) = (db.pool.clone(), partner.clone(), done.clone());
            async move {
                let mut cursor = None;
                let mut seen = Vec::new();
                loop {
                    // Read the flag before the page: the page after the last commit is final.
                    let finished = done.load(Ordering::SeqCst);
                    let page = crate::PgStore { pool: pool.clone() }
                        .page_events(&after(&partner, cursor))
                        .await
                        .expect("page");
                    if let Some(last) = page.last() {
                        cursor = Some(last.seq);
                    }
                    seen.extend(page.into_iter().map(|e| e.seq));
                    if finished {
                        return seen;
                    }
                    tokio::time::sleep(Duration::from_micros(500)).await;
                }
            }
        });
        let mut writers = Vec::new();
        for _ in 0..WRITERS {
            let (pool, hirer, partner) = (db.pool.clone(), hirer.clone(), partner.clone());
            writers.push(tokio::spawn(async move {
                for _ in 0..EVENTS_EACH {
                    let id = event_id();
                    let mut tx = pool.begin().await.expect("begin");
                    emit(&mut tx, outbox(&id, &hirer, &partner)).await.expect("emit");
                    let (pause, roll_back) = {
                        let mut rng = rand::thread_rng();
                        (rng.gen_range(0..4_000u64), rng.gen_bool(0.1))
                    };
                    tokio::time::sleep(Duration::from_micros(pause)).await;
                    if roll_back {
                        tx.rollback().await.expect("rollback");
                    } else {
                        tx.commit().await.expect("commit");
                    }
                }
            }));
        }
        for writer in writers {
            writer.await.expect("writer");
        }
        done.store(true, Ordering::SeqCst);
        let seen = reader.await.expect("reader");
        let committed: Vec<i64> = crate::PgStore { pool: db.pool.clone() }
            .page_events(&after(&partner, None))
            .await
            .expect("page")
            .iter()
            .map(|e| e.seq)
            .collect();
        assert!(committed.len() > WRITERS * EVENTS_EACH / 2, "most transactions committed");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "the reader saw seqs in ascending order");
        let missed: Vec<&i64> = committed.iter().filter(|s| !seen.contains(s)).collect();
        assert!(missed.is_empty(), "the cursor reader skipped {} committed events: {missed:?}", missed.len());
        assert_eq!(seen, committed);
    }
}
