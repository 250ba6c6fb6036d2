-- Archiving leaves the clearance transaction (issue 11): the transaction that clears a declaration (intake for
-- general trade, or the CLEARED transition) writes one small row here, and a background sweep turns queued rows into
-- archives in large batches, deleting them in the same transaction. A row exists until its archive is committed, so
-- nothing is lost if a process stops between clearance and archiving; processes share the queue with SKIP LOCKED.
-- Measured against a pending flag on declarations with a partial index: the flag cost nothing at intake but its
-- sweep rewrote the declaration row and every one of its indexes (110 µs a row against 28 for this delete), so the
-- queue is cheaper overall (docs/BENCHMARKS.md, issue 11).
create table archive_queue (
  -- UUIDv7, so key order is about clearance order for intake; the sweep takes the oldest first.
  declaration_id uuid primary key,
  submitted_at timestamptz not null,
  -- Readers archive what is pending for what they read (one entry, one enterprise) before reading: no index, the
  -- queue holds seconds of work.
  trader_id uuid not null,
  entry_id text not null,
  cleared_at timestamptz not null,
  -- What the retention class depends on, so the sweep reads the declaration only to copy it into the archive.
  trade_mode char(4) not null,
  manual_no text,
  cut_mode text
);
