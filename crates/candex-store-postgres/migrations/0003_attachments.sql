-- Attachments, version 3: the SQLite backend's 0003_attachments.sql translated. One row per
-- file attached to an application. The bytes live in blob storage, content-addressed by
-- SHA-256 (`sha256/<hex>`), so identical files share one blob; a blob is deleted only when no
-- row references its hash any more.
--
-- Constraints (named, as in 0001):
--   attachments_pkey, attachments_profile_fk, attachments_sha256_check, attachments_size_check

create table attachments (
    id             text   not null constraint attachments_pkey primary key,
    profile_id     text   not null
        constraint attachments_profile_fk references profiles (profile_id) on delete cascade,
    -- Order within the application (the order the operator listed them).
    ordinal        bigint not null,
    -- Lowercase hex SHA-256 of the content: the blob key.
    sha256         text   not null
        constraint attachments_sha256_check check (length(sha256) = 64),
    filename       text   not null,
    content_type   text   not null,
    size           bigint not null
        constraint attachments_size_check check (size >= 0),
    seek_role_code text,
    -- Vec<String> as JSON.
    descriptions   text   not null,
    uploaded_at    bigint not null
);

-- A profile's attachments in order (GraphQL `CandidateProfile.attachments`).
create index attachments_profile_idx on attachments (profile_id, ordinal);
-- "Is this blob still referenced?" before deleting a blob.
create index attachments_sha256_idx on attachments (sha256);
