//! Authentication: partner client secrets, signed tokens, the token endpoint and the operator
//! key check.

pub mod oauth;
pub mod operator_key;
pub mod secrets;
pub mod tokens;
