-- Archiving runs from the outbox (issue 12): the archives module subscribes to DeclarationCleared after commit, and
-- the outbox dispatcher archives batches of cleared declarations, deleting their outbox rows in the same transaction,
-- as the archive sweep did with `archive_queue` (migration 0011), which this retires.
--
-- Rows still queued become DeclarationCleared events for the subscriber `archives`, due at once. The handler needs
-- only the declaration's keys (`id`, `submittedAt`): it reads the rest from the declaration. The payload also names
-- the entry number and the trader, which reads match to archive what they read first. The event id is the
-- declaration's id (a UUIDv7 from its submission, so these come before every event published from now on).
insert into outbox (event_id, subscriber, type, payload, published_at, next_attempt_at)
select declaration_id, 'archives', 'DeclarationCleared',
  jsonb_build_object(
    'id', declaration_id,
    'submittedAt', to_char(submitted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'state', 'CLEARED',
    'traderId', trader_id,
    'entryId', entry_id,
    'clearedAt', to_char(cleared_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
  cleared_at, cleared_at
from archive_queue
on conflict do nothing;

drop table archive_queue;
