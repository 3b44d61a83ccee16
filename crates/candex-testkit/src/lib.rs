//! What the tests of `candex-server`, `candex-client` and `candex` (the binary and its exporter)
//! share, so that each crate's tests do not carry a copy of it. Used only as a dev-dependency.
//!
//! It owns:
//!
//! - [`TestServer`]: a real candex server started in-process on `127.0.0.1:0`, over a database
//!   of its own ([`scratch_store`]) on the backend `CANDEX_TEST_BACKEND` chooses (SQLite by
//!   default, `postgres` for a scratch PostgreSQL database), with a known operator key
//!   ([`OPERATOR_KEY`]) and token signing key ([`SIGNING_KEY`]).
//! - [`Operator`]: the operator API calls tests set their data up with (hirers, partners,
//!   relationships, job ads, applications), against any server's URL, in-process or a
//!   `candex serve` process; [`partner_token`] for a partner's access token.
//! - [`receiver::Receiver`]: a webhook receiver on `127.0.0.1:0` that records every request,
//!   answers as the test scripts it (any status, `Retry-After`, hanging, resetting), and lets
//!   the test poll for what arrived with a timeout instead of sleeping.
//! - PostgreSQL scratch databases: [`ScratchDatabase`] and the message tests print when
//!   `CANDEX_TEST_POSTGRES_URL` is unset ([`POSTGRES_SKIPPED`]) come from
//!   `candex-store-postgres` (feature `testkit`), whose own tests use them too, and are
//!   re-exported here.
//!
//! What only one crate's tests need stays in that crate's test folder, built on this: the
//! server's GraphQL assertions, the client's configured `Client`, the binary's process spawning.

mod operator;
pub mod receiver;
mod server;
mod store;

pub use candex_store_postgres::scratch::{ScratchDatabase, SKIPPED as POSTGRES_SKIPPED};
pub use operator::{minimal_application, partner_token, Operator, Partner};
pub use server::{test_settings, TestServer, MASTER_KEY, OPERATOR_KEY, SIGNING_KEY};
pub use store::{backend, scratch_store, ScratchStore};
