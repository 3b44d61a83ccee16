//! The candex server: the SEEK-compatible GraphQL API (`/graphql`), partner tokens
//! (`/oauth/token`), the operator API (`/operator/v1`), health checks, and the wiring that
//! binds them to a listener ([`startup::Application`]), and its Prometheus [`metrics`].

pub mod attachments;
pub mod auth;
pub mod config;
pub mod error;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod operator;
pub mod startup;
pub mod state;
pub mod storage;
pub mod webhooks;

pub use config::Settings;
pub use startup::Application;
