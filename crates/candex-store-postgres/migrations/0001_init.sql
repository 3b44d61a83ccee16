-- The whole candex schema on PostgreSQL, version 1.
--
-- The SQLite backend's 0001_init.sql translated: the same tables, columns, constraint and
-- index names and checks, so both backends hold the same values and report the same
-- constraint in `StoreError::Conflict` (PostgreSQL names it in the error itself):
--
--   hirers_pkey
--   partners_pkey, partners_client_id_key
--   relationships_pkey, relationships_partner_fk, relationships_hirer_fk,
--     relationships_type_code_check
--   positions_pkey, positions_opening_id_key, positions_hirer_fk, positions_status_check
--   candidates_pkey, candidates_hirer_fk, candidates_hirer_email_key
--   profiles_pkey, profiles_profile_id_key, profiles_candidate_fk, profiles_position_fk,
--     profiles_hirer_fk
--   signing_keys_pkey
--
-- Timestamps are `bigint` unix milliseconds, as on SQLite: the domain truncates every time to
-- milliseconds, so values read back exactly, and both backends store the same numbers.
-- Structured values the store never filters on (person, snapshot, details) are JSON `text`
-- in SEEK's field names, byte for byte what SQLite stores (`jsonb` would reorder keys).
--
-- Text that is sorted (names, ids as tie breaks) is compared with `collate "C"` in the
-- queries, which is SQLite's binary order whatever the database's default collation; the
-- indexes that serve those orders are built with the same collation.

create table hirers (
    id          text   not null constraint hirers_pkey primary key,
    name        text   not null,
    -- `name` case-folded by the application (full Unicode), so the name search of related
    -- hirers is case-insensitive the same way on both backends.
    name_folded text   not null,
    created_at  bigint not null
);

-- Hirer listings and relationship pages are ordered by (name, id).
create index hirers_name_idx on hirers (name collate "C", id collate "C");

create table partners (
    id                 text   not null constraint partners_pkey primary key,
    name               text   not null,
    client_id          text   not null constraint partners_client_id_key unique,
    -- SHA-256 of the client secret in lowercase hex; the secret itself is never stored.
    client_secret_hash text   not null,
    created_at         bigint not null
);

create table relationships (
    partner_id text not null
        constraint relationships_partner_fk references partners (id) on delete cascade,
    hirer_id   text not null
        constraint relationships_hirer_fk references hirers (id) on delete cascade,
    type_code  text not null
        constraint relationships_type_code_check
            check (type_code in ('ApplicationExport', 'JobPosting', 'ProactiveSourcing')),
    -- The key starts with partner_id, so it also serves "relationships by partner".
    constraint relationships_pkey primary key (partner_id, hirer_id, type_code)
);

-- Foreign-key checks on hirer deletion would otherwise scan the table; also the partners
-- entitled to a hirer's events.
create index relationships_hirer_idx on relationships (hirer_id);

create table positions (
    profile_id               text   not null constraint positions_pkey primary key,
    opening_id               text   not null constraint positions_opening_id_key unique,
    hirer_id                 text   not null
        constraint positions_hirer_fk references hirers (id),
    title                    text   not null,
    position_uri             text   not null,
    seek_hirer_job_reference text,
    -- PositionDetails as JSON.
    details                  text   not null,
    location_id              text,
    job_category_id          text,
    status                   text   not null
        constraint positions_status_check check (status in ('open', 'closed')),
    created_at               bigint not null,
    closed_at                bigint
);

-- Job ads of one hirer, newest first.
create index positions_hirer_created_idx on positions (hirer_id, created_at);

create table candidates (
    id         text   not null constraint candidates_pkey primary key,
    hirer_id   text   not null
        constraint candidates_hirer_fk references hirers (id),
    -- The first email, trimmed and lowercased (Person::email_key): one candidate per hirer
    -- and person, matched on this (`insert … on conflict`, so concurrent instances agree).
    email_key  text   not null,
    -- Live person data as JSON.
    person     text   not null,
    created_at bigint not null,
    updated_at bigint not null,
    constraint candidates_hirer_email_key unique (hirer_id, email_key)
);

create table profiles (
    -- Ingest order and the paging key of a job ad's applications. An identity never reuses
    -- a number, which keeps cursors handed out earlier meaningful.
    seq                 bigint not null generated always as identity
        constraint profiles_pkey primary key,
    profile_id          text   not null constraint profiles_profile_id_key unique,
    candidate_id        text   not null
        constraint profiles_candidate_fk references candidates (id),
    position_profile_id text   not null
        constraint profiles_position_fk references positions (profile_id),
    -- Denormalised from the position, so access checks need no join.
    hirer_id            text   not null
        constraint profiles_hirer_fk references hirers (id),
    -- Snapshot and Vec<CandidateSource> as JSON.
    snapshot            text   not null,
    candidate_sources   text   not null,
    created_at          bigint not null,
    updated_at          bigint not null
);

-- A candidate's most recent profiles.
create index profiles_candidate_idx on profiles (candidate_id, created_at, seq);
-- A job ad's applications in ingest order.
create index profiles_position_seq_idx on profiles (position_profile_id, seq);
-- Foreign-key checks on hirer deletion.
create index profiles_hirer_idx on profiles (hirer_id);

create table signing_keys (
    kid        text   not null constraint signing_keys_pkey primary key,
    algorithm  text   not null,
    secret     bytea  not null,
    created_at bigint not null
);
