-- Issue 13 (administration screens).
--
-- 1. Users: an admin disabling an account or setting its password ends the account's sessions for good. Session
--    tokens are stateless (issued-at in the token, src/modules/auth/service.ts); a token issued at or before
--    `sessions_after` is refused, so enabling the account again does not bring its old sessions back.
alter table users add column sessions_after timestamptz;

-- 2. Archive purge runs (owned by archives): one row per run of the purge, dry or real, for the history the
--    administration screen shows (the per-archive audit rows stay the record of what went). A real run's row is
--    written in the transaction of its first deletion (or, when there was nothing to delete, in one of its own at
--    the end), updated in each later one and marked finished at the end: a run that failed before deleting anything
--    leaves no row, and a run stopped midway leaves one with what it did and `finished_at` null.
create table archive_purge_runs (
  id uuid primary key,
  started_at timestamptz not null,
  finished_at timestamptz,
  actor text not null,
  as_of date not null,
  dry_run boolean not null,
  count integer not null check (count >= 0),
  dropped_partitions jsonb not null default '[]'::jsonb
);
create index archive_purge_runs_newest on archive_purge_runs (started_at desc, id desc);

