-- Login hardening (issue 10, finding 4); the design is in ARCHITECTURE.md, Security.

-- Login throttling shared by all API processes: one row per key, `user:<username>` (any username, known or not)
-- or `addr:<client address or IPv6 /64>`. `attempts` counts failed and in-flight attempts since the counter was
-- last quiet for the window; a key whose count reached its threshold is locked until `locked_until`.
create table auth_throttle (
  key text primary key,
  attempts int not null,
  last_at timestamptz not null,
  locked_until timestamptz
);
create index auth_throttle_last_at on auth_throttle (last_at);

-- Challenges are issued for any card number (an unknown card gets one that can never succeed), so card_id may be
-- null; rows are purged after expiry (on insert and by a periodic sweep), found through this index.
alter table auth_challenges alter column card_id drop not null;
create index auth_challenges_expires on auth_challenges (expires_at);
