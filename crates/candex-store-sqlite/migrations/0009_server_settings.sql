-- Settings a server records for the command-line tools that share its database: today the
-- public URL `candex serve` runs with, so that `candex admin position create` gives a job ad
-- the same URL the operator API would, wherever the command runs.
--
-- Constraints (named as in 0001): server_settings_pkey

create table server_settings (
    key        text    not null constraint server_settings_pkey primary key,
    value      text    not null,
    -- Unix milliseconds.
    updated_at integer not null
);
