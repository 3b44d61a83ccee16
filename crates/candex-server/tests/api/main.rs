//! API tests: one binary, each module a feature, every test through a real server on port 0.

mod attachments;
mod authentication;
mod authorization;
mod browser_tokens;
mod credentials;
mod erasure;
mod events;
mod field_errors;
mod front_door;
mod helpers;
mod limits;
mod live_and_snapshot;
mod operator;
mod questionnaires;
mod schema;
mod seed_query;
mod webhook_subscriptions;
mod webhooks;
