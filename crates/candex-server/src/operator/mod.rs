//! The operator API (`/operator/v1`): how a job board feeds candex. `service` holds the use
//! cases (shared with the CLI), `routes` the HTTP handlers, `dto` the response shapes, and
//! `openapi` the generated OpenAPI document, `reference` its HTML reference page.

pub mod dto;
pub mod json;
pub mod openapi;
pub mod reference;
pub mod routes;
pub mod service;
pub mod uploads;
