-- The durable outbox of domain events (issue 12, src/shared/events.ts). A publish writes, in the transaction that
-- makes the domain move, one row per (event, after-commit subscriber); a dispatcher later hands the rows to the
-- subscriber's handler in a transaction of its own that also deletes them, so a handler's database effect happens
-- exactly once. A failed batch is rolled back and its rows rescheduled (attempts, next_attempt_at, last_error).
-- Done rows are deleted: the table holds only what is pending or failing. Processes share it with SKIP LOCKED.
create table outbox (
  -- UUIDv7 of the event (one per published event, shared by its subscribers' rows): time-ordered, so the key order
  -- is the publish order and inserts land at the end of the index; leading the key, so the table could be
  -- hash-distributed by event.
  event_id uuid not null,
  subscriber text not null,
  type text not null,
  payload jsonb not null,
  published_at timestamptz not null,
  attempts int not null default 0,
  next_attempt_at timestamptz not null,
  last_error text,
  primary key (event_id, subscriber)
);

-- The claim: one subscriber's due rows of one type, oldest event first (next_attempt_at is checked on the rows the
-- index yields; failing rows are few, as the table holds only pending work).
create index outbox_claim on outbox (subscriber, type, event_id);
