-- Blob leases, version 8: the SQLite backend's 0008_blob_leases.sql translated. An upload's
-- claim on a content hash between its bytes reaching blob storage and its attachment row
-- committing (or its request failing).
--
-- An upload streams to `tmp/<random>`, hashes, records a lease on the hash (committed), moves
-- its file over `sha256/<hex>`, commits the attachment row with the application, then deletes
-- the lease. Every blob deletion (erasure, retention purge, the orphan sweep) checks, in one
-- transaction holding the transaction-scoped advisory lock 0x63616e646578626c (ASCII
-- "candexbl"; src/locks.rs, BLOBS), which the lease insert takes too, that no attachment row
-- references the hash and no lease newer than the orphan grace claims it, and deletes the blob
-- before committing. So a deletion and an upload of the same content are serialised across
-- instances: either the deletion ran first (and the upload writes the content again after it)
-- or the lease stops it. A lease left by a crash lapses after the grace and is deleted by the
-- sweep.
--
-- Constraints (named as in the SQLite schema): blob_leases_pkey, blob_leases_sha256_check

create table blob_leases (
    id        bigint generated always as identity constraint blob_leases_pkey primary key,
    -- Lowercase hex SHA-256 of the content: the blob key.
    sha256    text   not null
        constraint blob_leases_sha256_check check (length(sha256) = 64),
    -- Unix milliseconds.
    leased_at bigint not null
);

-- "Is this hash leased?" before deleting a blob.
create index blob_leases_sha256_idx on blob_leases (sha256, leased_at);
