//! API tests: one binary, each module a feature, every test through a real server on port 0.

mod authentication;
mod authorization;
mod helpers;
mod live_and_snapshot;
mod operator;
mod schema;
mod seed_query;
