//! Client credentials: generation, hashing (only the SHA-256 is stored) and constant-time
//! verification.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A newly generated client id and secret. The secret is shown once and never stored.
pub struct GeneratedCredentials {
    /// Public client id.
    pub client_id: String,
    /// The secret, to hand to the partner once.
    pub client_secret: String,
    /// SHA-256 of the secret, lowercase hex, to store.
    pub client_secret_hash: String,
}

impl std::fmt::Debug for GeneratedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// Generates credentials with 128 random bits of id and 256 of secret. Client secrets carry
/// the `cdxs_` prefix so secret scanners can spot leaked ones; never change it.
pub fn generate(rng: &mut impl RngCore) -> GeneratedCredentials {
    let mut id = [0u8; 16];
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    let client_secret = format!("cdxs_{}", bs58_encode(&secret));
    GeneratedCredentials { client_id: bs58_encode(&id), client_secret_hash: hash_secret(&client_secret), client_secret }
}

fn bs58_encode(bytes: &[u8]) -> String {
    // base58 keeps ids free of characters that need quoting in shells and URLs.
    bs58::encode(bytes).into_string()
}

/// SHA-256 of a secret as lowercase hex. Secrets are 256-bit random values, so a fast hash is
/// enough (no password stretching needed), as crates.io does for API tokens.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Checks a presented secret against a stored hash in constant time.
pub fn verify_secret(presented: &str, stored_hash: &str) -> bool {
    hash_secret(presented).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// Checks a presented key against a stored SHA-256 digest in constant time.
pub fn verify_key_digest(presented: &str, digest: &[u8; 32]) -> bool {
    let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    presented.ct_eq(digest).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_verify_and_others_do_not() {
        let creds = generate(&mut rand::thread_rng());
        assert!(creds.client_secret.starts_with("cdxs_"));
        assert!(verify_secret(&creds.client_secret, &creds.client_secret_hash));
        assert!(!verify_secret("cdxs_wrong", &creds.client_secret_hash));
        assert!(!format!("{creds:?}").contains(&creds.client_secret));
    }

    #[test]
    fn base58_matches_the_reference_alphabet() {
        assert_eq!(bs58_encode(b"hello world"), "StV1DL6CwTryKyV");
        assert_eq!(bs58_encode(&[0, 0, 1]), "112");
    }
}
