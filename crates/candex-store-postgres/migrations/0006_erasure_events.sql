-- Erasure events (candex extension): `CandidateErased` joins the event types, and events are
-- found by candidate, so that an erasure reaches every partner that was sent one of the
-- candidate's applications. The same names as SQLite's 0006.

alter table events drop constraint events_type_code_check;
alter table events add constraint events_type_code_check check (type_code in (
    'CandidateApplicationCreated', 'CandidateProfilePurchased', 'HirerRelationshipChanged',
    'PositionProfilePosted', 'PositionProfileClosed', 'CandidateErased'));

create index events_candidate_idx on events (candidate_id) where candidate_id is not null;
