-- Electronic entrustments (报关委托): a trader (consignee/consignor) entrusts a declarant enterprise to declare
-- in its name, for a period of China dates and a scope, both parties signing with their port cards.
-- Stored states are PROPOSED, ACTIVE, DECLINED and REVOKED; EXPIRED is computed (valid_to before today's China date).
create table entrustments (
  id uuid primary key,
  trader_id uuid not null references enterprises (id),
  declarant_id uuid not null references enterprises (id),
  client_ref text not null,
  state text not null check (state in ('PROPOSED', 'ACTIVE', 'DECLINED', 'REVOKED')),
  valid_from date not null,
  valid_to date not null,
  -- null: every trade mode / every district (the signed terms say "ALL").
  trade_modes text[],
  customs_districts text[],
  -- null: imports and exports.
  ie_flag char(1) check (ie_flag in ('I', 'E')),
  -- What the trader signed (the request body without "signature"), its SHA-256 and the signature.
  terms jsonb not null,
  terms_hash text not null,
  trader_card_id uuid not null references port_cards (id),
  trader_signature jsonb not null,
  declarant_card_id uuid references port_cards (id),
  declarant_signature jsonb,
  created_at timestamptz not null,
  accepted_at timestamptz,
  declined_at timestamptz,
  revoked_at timestamptz,
  reason text,
  version integer not null default 1,
  updated_at timestamptz not null,
  check (valid_from <= valid_to),
  check (trader_id <> declarant_id),
  -- Idempotent creation: one entrustment per trader and client reference.
  unique (trader_id, client_ref)
);

-- Intake looks up the active entrustments of (declarant, trader) pairs still in force.
create index entrustments_active on entrustments (declarant_id, trader_id, valid_to) where state = 'ACTIVE';
-- Each party lists its own.
create index entrustments_declarant on entrustments (declarant_id, created_at);
create index entrustments_trader_created on entrustments (trader_id, created_at);
