-- Credentials: signing-key rotation, partner client-secret rotation, token revocation.
--
-- Secrets kept here (signing_keys.secret, webhook_subscriptions.secret) are sealed by the
-- server with the operator's master key (`cdxk1.<key id>.<ciphertext>`); rows written by
-- older versions in plain text are sealed at the first start with a master key.

-- A signing key signs while `superseded_at` is null (one key at a time); once superseded it
-- only verifies, until `retire_at`; once retired its secret is wiped (an empty value) and the
-- row stays, so that a retired key is recognised and never signs or verifies again.
alter table signing_keys add column superseded_at bigint;
alter table signing_keys add column retire_at bigint;
alter table signing_keys add column retired_at bigint;

-- Client-secret rotation with an overlap: the previous secret's SHA-256 stays valid beside
-- `client_secret_hash` until it is retired.
alter table partners add column previous_client_secret_hash text;
-- Token revocation: tokens issued to the partner before this time (unix ms) are refused.
alter table partners add column tokens_not_before bigint;
