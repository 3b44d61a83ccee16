//! API tests: one binary, each module a feature, every test through a real server on port 0.

mod attachments;
mod authentication;
mod authorization;
mod browser_tokens;
mod browser_tokens_cors;
mod cached_documents;
mod clients;
mod credentials;
mod direct;
mod erasure;
mod erasure_events;
mod events;
mod field_errors;
mod front_door;
mod helpers;
mod limits;
mod live_and_snapshot;
mod metrics;
mod operator;
mod pages;
mod process_history;
mod questionnaires;
mod schema;
mod seed_query;
mod webhook_subscriptions;
mod webhooks;
