-- Screening questionnaires, version 2: the SQLite backend's 0002_questionnaires.sql
-- translated.
--
-- A job ad's questionnaire is immutable once posted and always read whole with its job ad, so
-- it is a JSON document on the position row (candex_domain::questionnaire::Questionnaire in
-- SEEK's field names, ids included): every statement that reads a position reads its
-- questionnaire too, with no join. `questionnaire_id` is its id, unique, for
-- `applicationQuestionnaire(id)`.
--
-- A candidate's responses are one JSON document per profile (Vec<ComponentResponse>, in the
-- questionnaire's component order), in their own table so that erasure deletes them without
-- touching the profile, and so that profile reads that do not ask for them never load them.
--
-- New constraint names:
--   positions_questionnaire_id_key
--   questionnaire_submissions_pkey, questionnaire_submissions_profile_fk

alter table positions add column questionnaire_id text;
alter table positions add column questionnaire text;

create unique index positions_questionnaire_id_key on positions (questionnaire_id);

create table questionnaire_submissions (
    profile_id       text not null constraint questionnaire_submissions_pkey primary key
        constraint questionnaire_submissions_profile_fk references profiles (profile_id) on delete cascade,
    -- The questionnaire answered (the job ad's questionnaire_id at application time).
    questionnaire_id text not null,
    -- Vec<ComponentResponse> as JSON.
    responses        text not null
);
