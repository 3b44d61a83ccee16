-- Candidate process history, version 5: the SQLite backend's 0005_process_history.sql
-- translated (`bigint generated always as identity` key, `bigint` unix milliseconds).
--
-- One row per `CandidateProcessHistoryItem` a partner recorded about a candidate profile
-- (shortlisted, interviewed, offered, …). What the item says (action, status, parties,
-- source) is one JSON document (candex_domain::process::ProcessDetails in SEEK's field
-- names), stored as text like every other document so both backends keep the same bytes.
-- The item's hirer is its profile's, so access checks join `profiles`. `seq` is the
-- recording order and the paging key of `seekProcessHistory`; `idempotencyId` is unique per
-- profile, as SEEK documents. Erasing a candidate deletes its items.
--
-- New constraint names (as in the SQLite schema):
--   process_history_items_pkey, process_history_items_id_key,
--   process_history_items_idempotency_key, process_history_items_profile_fk,
--   process_history_items_position_fk

create table process_history_items (
    seq                 bigint not null generated always as identity
        constraint process_history_items_pkey primary key,
    id                  text   not null constraint process_history_items_id_key unique,
    profile_id          text   not null
        constraint process_history_items_profile_fk references profiles (profile_id) on delete cascade,
    -- The partner that recorded the item (a record, not a reference: items are the hirer's).
    partner_id          text   not null,
    idempotency_id      text   not null,
    action_date         bigint not null,
    position_profile_id text
        constraint process_history_items_position_fk references positions (profile_id),
    -- ProcessDetails as JSON.
    details             text   not null,
    created_at          bigint not null,
    updated_at          bigint not null,
    constraint process_history_items_idempotency_key unique (profile_id, idempotency_id)
);

-- A profile's items in recording order.
create index process_history_items_profile_seq_idx on process_history_items (profile_id, seq);
-- Foreign-key checks on job ad deletion.
create index process_history_items_position_idx on process_history_items (position_profile_id);
