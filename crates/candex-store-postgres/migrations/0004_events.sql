-- Events and webhook delivery on PostgreSQL: the transactional outbox, version 4.
--
-- The same schema as the SQLite backend's 0004_events.sql (same tables, columns, constraint
-- and index names), translated: `bigint generated always as identity` keys, `bigint` unix
-- milliseconds for times, `boolean` flags, `text[]` for a replay's event ids.
--
-- An event row is written in the same transaction as its cause (an application, a job ad
-- posted or closed, a relationship change), together with its place in each entitled
-- partner's stream and a delivery row for each matching webhook subscription. Nothing is
-- sent from inside a request: dispatchers (one per candex instance, any number of them on this
-- database) claim due deliveries from here, so delivery state survives restarts.
--
-- Stream order = commit order. Partners page their streams by `events.seq` with an `after`
-- cursor. An identity value is drawn when a row is inserted, but transactions commit in any
-- order: without care, a transaction holding seq 10 could commit after one holding seq 11 was
-- committed and read, and a partner whose cursor had already passed 11 would never see 10.
-- So every transaction that writes an event first takes the transaction-scoped advisory lock
-- 0x63616e6465786576 (ASCII "candexev"; src/locks.rs, EVENT_ORDER) and holds it until
-- it commits or rolls back: event-writing transactions are serialised from drawing their seq
-- to their commit, and a reader only ever sees a prefix of the sequence (gaps left by
-- rolled-back transactions aside). For the same reason the identity sequence must keep
-- `cache 1` (each session caching its own block of numbers would hand them out of order).
--
-- Delivery claims lease subscriptions with `for no key update skip locked`, so several
-- dispatchers never claim the same subscription while its lease holds.
--
-- Constraints (named as in the SQLite schema):
--   events_pkey, events_id_key, events_type_code_check
--   event_streams_pkey, event_streams_partner_fk, event_streams_event_fk
--   webhook_subscriptions_pkey, webhook_subscriptions_id_key, webhook_subscriptions_key,
--     webhook_subscriptions_partner_fk, webhook_subscriptions_max_events_check,
--     webhook_subscriptions_signing_check
--   webhook_deliveries_pkey, webhook_deliveries_subscription_fk, webhook_deliveries_event_fk
--   webhook_requests_pkey, webhook_requests_request_id_key
--   webhook_attempts_pkey, webhook_attempts_id_key, webhook_attempts_request_fk,
--     webhook_attempts_event_fk
--   webhook_replays_pkey, webhook_replays_id_key

create table events (
    -- The global order of events; every partner stream is ordered by it. An identity never
    -- reuses a number after retention deletes the newest rows, which would break cursors
    -- partners persisted.
    seq                  bigint  not null generated always as identity (cache 1)
        constraint events_pkey primary key,
    id                   text    not null constraint events_id_key unique,
    type_code            text    not null
        constraint events_type_code_check check (type_code in (
            'CandidateApplicationCreated', 'CandidateProfilePurchased', 'HirerRelationshipChanged',
            'PositionProfilePosted', 'PositionProfileClosed')),
    hirer_id             text    not null,
    created_at           bigint  not null,
    candidate_profile_id text,
    candidate_id         text,
    position_profile_id  text
);

-- Retention deletes by age.
create index events_created_at_idx on events (created_at);

-- Which partner's stream holds which event: partners entitled when the event was created.
create table event_streams (
    partner_id text    not null
        constraint event_streams_partner_fk references partners (id) on delete cascade,
    event_seq  bigint  not null
        constraint event_streams_event_fk references events (seq) on delete cascade,
    constraint event_streams_pkey primary key (partner_id, event_seq)
);

-- Cascading deletes from events.
create index event_streams_event_idx on event_streams (event_seq);

create table webhook_subscriptions (
    seq                    bigint  not null generated always as identity
        constraint webhook_subscriptions_pkey primary key,
    id                     text    not null constraint webhook_subscriptions_id_key unique,
    partner_id             text    not null
        constraint webhook_subscriptions_partner_fk references partners (id) on delete cascade,
    scheme_id              text    not null,
    event_type_code        text    not null,
    url                    text    not null,
    hirer_id               text,
    -- hirer_id or '' so the unique key treats "every hirer" as one value.
    hirer_key              text    not null,
    max_events_per_attempt integer not null
        constraint webhook_subscriptions_max_events_check check (max_events_per_attempt between 1 and 10),
    signing_algorithm      text    not null,
    -- Needed in clear to sign requests (HMAC); never returned by partner reads or logged.
    secret                 text,
    created_at             bigint  not null,
    updated_at             bigint  not null,
    -- Dispatch state: backoff after failures, and the lease of the instance sending.
    failures               integer not null default 0,
    next_attempt_at        bigint  not null default 0,
    lease_until            bigint  not null default 0,
    lease_owner            text,
    constraint webhook_subscriptions_signing_check check (
        (signing_algorithm = 'None' and secret is null)
        or (signing_algorithm = 'SeekHmacSha512' and secret is not null)),
    constraint webhook_subscriptions_key unique (partner_id, event_type_code, scheme_id, url, hirer_key)
);

-- Matching subscriptions for a new event.
create index webhook_subscriptions_match_idx on webhook_subscriptions (partner_id, event_type_code);

-- One row per (subscription, event) to deliver; delivered_at null while pending.
create table webhook_deliveries (
    subscription_seq bigint  not null
        constraint webhook_deliveries_subscription_fk references webhook_subscriptions (seq) on delete cascade,
    event_seq        bigint  not null
        constraint webhook_deliveries_event_fk references events (seq) on delete cascade,
    delivered_at     bigint,
    attempts         integer not null default 0,
    constraint webhook_deliveries_pkey primary key (subscription_seq, event_seq)
);

-- The pending queue: "which subscriptions have work" and "their oldest pending events".
create index webhook_deliveries_pending_idx on webhook_deliveries (subscription_seq, event_seq)
    where delivered_at is null;
create index webhook_deliveries_event_idx on webhook_deliveries (event_seq);

create table webhook_requests (
    seq              bigint  not null generated always as identity
        constraint webhook_requests_pkey primary key,
    request_id       text    not null constraint webhook_requests_request_id_key unique,
    partner_id       text    not null,
    -- No foreign key: requests outlive a deleted subscription for diagnostics.
    subscription_id  text    not null,
    url              text    not null,
    status_code      integer not null,
    description_code text    not null,
    latency_ms       bigint,
    created_at       bigint  not null
);

create index webhook_requests_subscription_idx on webhook_requests (subscription_id, seq);
create index webhook_requests_created_at_idx on webhook_requests (created_at);

create table webhook_attempts (
    seq         bigint not null generated always as identity
        constraint webhook_attempts_pkey primary key,
    id          text   not null constraint webhook_attempts_id_key unique,
    request_seq bigint not null
        constraint webhook_attempts_request_fk references webhook_requests (seq) on delete cascade,
    event_seq   bigint not null
        constraint webhook_attempts_event_fk references events (seq) on delete cascade,
    created_at  bigint not null
);

create index webhook_attempts_event_idx on webhook_attempts (event_seq, seq);
create index webhook_attempts_request_idx on webhook_attempts (request_seq, seq);

create table webhook_replays (
    seq              bigint  not null generated always as identity
        constraint webhook_replays_pkey primary key,
    id               text    not null constraint webhook_replays_id_key unique,
    partner_id       text    not null,
    subscription_id  text    not null,
    -- By ids: event_ids holds the ids asked for. By range: the window, hirer and flag.
    event_ids        text[],
    after_at         bigint,
    before_at        bigint,
    hirer_id         text,
    replay_delivered boolean,
    status_code      text    not null,
    queued           bigint  not null,
    created_at       bigint  not null,
    updated_at       bigint  not null
);

create index webhook_replays_subscription_idx on webhook_replays (subscription_id, seq);
