-- Kouan initial schema. Forward only: a merged migration is never edited.
-- Time columns are timestamptz (UTC); money is numeric decimal strings (CNY 2 dp) or bigint minor units.

create table settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);

-- Append-only, hash-chained audit log. Several independent chains let concurrent writers proceed in
-- parallel: each transaction locks one chain head, appends its events, and moves the head.
create table audit_heads (
  chain smallint primary key,
  seq bigint not null,
  hash text not null
);
insert into audit_heads (chain, seq, hash)
select g, 0, repeat('0', 64) from generate_series(0, 15) as g;

create table audit_log (
  chain smallint not null,
  seq bigint not null,
  at timestamptz not null,
  actor text not null,
  action text not null,
  entity_type text not null,
  entity_id text not null,
  data jsonb not null,
  prev_hash text not null,
  hash text not null,
  -- Database time of the insert: orders one entity's events across chains; not part of the hash.
  recorded_at timestamptz not null default clock_timestamp(),
  primary key (chain, seq, at)
) partition by range (at);
create index audit_log_entity on audit_log (entity_type, entity_id);

-- Yearly partitions; `ensure_year_partitions` adds future years at start-up.
create function ensure_year_partitions(tbl text, y_from int, y_to int) returns void language plpgsql as $$
declare y int;
begin
  for y in y_from..y_to loop
    execute format('create table if not exists %I partition of %I for values from (%L) to (%L)',
      tbl || '_' || y, tbl, make_date(y, 1, 1)::text || ' 00:00:00+00', make_date(y + 1, 1, 1)::text || ' 00:00:00+00');
  end loop;
end $$;

create table users (
  id uuid primary key,
  username text not null unique,
  display_name text not null,
  role text not null check (role in ('admin', 'officer')),
  password_hash text not null,
  created_at timestamptz not null,
  disabled_at timestamptz
);

create table enterprises (
  id uuid primary key,
  uscc text not null unique check (length(uscc) = 18),
  customs_code text not null unique check (length(customs_code) = 10),
  name text not null,
  name_en text,
  credit_level text not null check (credit_level in ('ADVANCED_CERTIFIED', 'CERTIFIED', 'REGULAR', 'DISHONEST', 'SERIOUSLY_DISHONEST')),
  reachable boolean not null default true,
  registered_district text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);

create table enterprise_credit_history (
  id bigint generated always as identity primary key,
  enterprise_id uuid not null references enterprises (id),
  credit_level text not null,
  effective_from timestamptz not null,
  reason text not null,
  changed_by text not null
);
create index enterprise_credit_history_enterprise on enterprise_credit_history (enterprise_id, effective_from);

-- AEO mutual-recognition partners (DOMAIN §3): which economies recognise China's AEOs, and when.
create table aeo_partners (
  country char(3) primary key,
  recognised_from date not null,
  recognised_to date
);

create table port_cards (
  id uuid primary key,
  card_no text not null unique,
  enterprise_id uuid not null references enterprises (id),
  kind text not null check (kind in ('LEGAL', 'OPERATOR')),
  operator_name text not null,
  alg text not null,
  public_key text not null,
  key_id text not null,
  status text not null check (status in ('ACTIVE', 'REVOKED')),
  issue_type text not null check (issue_type in ('NEW', 'REPLACEMENT')),
  replaces uuid references port_cards (id),
  issued_at timestamptz not null,
  revoked_at timestamptz,
  revoke_reason text
);
create index port_cards_enterprise on port_cards (enterprise_id);
-- One active legal-entity card (法人卡) per enterprise.
create unique index port_cards_one_legal on port_cards (enterprise_id) where kind = 'LEGAL' and status = 'ACTIVE';
create index port_cards_issued on port_cards (issued_at);

create table auth_challenges (
  id uuid primary key,
  card_id uuid not null references port_cards (id),
  nonce text not null,
  expires_at timestamptz not null,
  used_at timestamptz
);

-- Per (district, year, I/E) sequence for entry numbers; processes reserve blocks, so numbers are unique
-- but may have gaps.
create table entry_sequences (
  district char(4) not null,
  year int not null,
  ie_flag char(1) not null,
  next_value bigint not null,
  primary key (district, year, ie_flag)
);

-- Idempotency: one row per (declarant enterprise, client reference), globally unique, not partitioned.
create table declaration_refs (
  enterprise_id uuid not null,
  client_ref text not null,
  declaration_id uuid not null,
  submitted_at timestamptz not null,
  primary key (enterprise_id, client_ref)
);

create table declarations (
  id uuid not null,
  submitted_at timestamptz not null,
  entry_id text,
  client_ref text not null,
  ie_flag char(1) not null check (ie_flag in ('I', 'E')),
  state text not null,
  lane text check (lane in ('GREEN', 'YELLOW', 'RED', 'BLUE')),
  declarant_id uuid not null,
  trader_id uuid not null,
  card_id uuid not null,
  customs_district char(4) not null,
  ie_port char(4) not null,
  trade_mode char(4) not null,
  transport_mode text not null,
  trade_country char(3) not null,
  bill_no text,
  total_value_cny numeric(20, 2) not null,
  body jsonb not null,
  signature text not null,
  payload_hash text not null,
  errors jsonb,
  risk jsonb,
  accepted_at timestamptz,
  rejected_at timestamptz,
  assessed_at timestamptz,
  inspection_ordered_at timestamptz,
  released_at timestamptz,
  detained_at timestamptz,
  returned_at timestamptz,
  cleared_at timestamptz,
  updated_at timestamptz not null,
  version int not null default 1,
  primary key (id, submitted_at)
) partition by range (submitted_at);
create index declarations_entry on declarations (entry_id);
create index declarations_trader on declarations (trader_id, submitted_at);
create index declarations_declarant on declarations (declarant_id, submitted_at);
create index declarations_state on declarations (state, submitted_at);

create table declaration_items (
  declaration_id uuid not null,
  submitted_at timestamptz not null,
  g_no int not null,
  hs_code char(10) not null,
  description text not null,
  quantity numeric(19, 5) not null,
  unit char(3) not null,
  unit_price numeric(19, 4) not null,
  total_value numeric(19, 2) not null,
  currency char(3) not null,
  origin_country char(3) not null,
  primary key (declaration_id, submitted_at, g_no)
) partition by range (submitted_at);
create index declaration_items_hs on declaration_items (hs_code);

-- Selectivity: officer-authored targeting rules and versioned engine parameters.
create table selectivity_rules (
  id uuid primary key,
  name text not null unique,
  description text not null default '',
  conditions jsonb not null,
  action jsonb not null,
  active boolean not null default false,
  created_by text not null,
  activated_by text,
  created_at timestamptz not null,
  updated_at timestamptz not null
);

create table selectivity_params (
  version int primary key,
  effective_from timestamptz not null,
  params jsonb not null,
  created_by text not null,
  created_at timestamptz not null
);

create table exchange_rates (
  currency char(3) primary key,
  cny_per_unit numeric(18, 6) not null,
  valid_from date not null
);

create table inspections (
  id uuid primary key,
  declaration_id uuid not null,
  declaration_submitted_at timestamptz not null,
  kind text not null check (kind in ('DOCUMENT', 'PHYSICAL')),
  source text not null check (source in ('RULE', 'MODEL', 'RANDOM', 'MANUAL', 'CREDIT')),
  state text not null check (state in ('OPEN', 'IN_PROGRESS', 'DONE')),
  officer_id uuid,
  ordered_at timestamptz not null,
  started_at timestamptz,
  finished_at timestamptz,
  result text check (result in ('COMPLIANT', 'NON_COMPLIANT')),
  findings jsonb,
  disposal text,
  notes text
);
create index inspections_declaration on inspections (declaration_id);
create index inspections_open on inspections (state, ordered_at);
create index inspections_finished on inspections (finished_at) where finished_at is not null;

select ensure_year_partitions('audit_log', 2024, 2035);
select ensure_year_partitions('declarations', 2024, 2035);
select ensure_year_partitions('declaration_items', 2024, 2035);

-- Sample customs exchange rates (CNY per unit), to be replaced by the month's official rates via the API.
insert into exchange_rates (currency, cny_per_unit, valid_from) values
  ('CNY', 1, '2026-01-01'), ('USD', 7.1, '2026-01-01'), ('EUR', 7.8, '2026-01-01'), ('JPY', 0.048, '2026-01-01'),
  ('HKD', 0.91, '2026-01-01'), ('GBP', 9.1, '2026-01-01'), ('KRW', 0.0052, '2026-01-01'), ('AUD', 4.7, '2026-01-01'),
  ('NZD', 4.3, '2026-01-01'), ('SGD', 5.4, '2026-01-01'), ('RUB', 0.09, '2026-01-01'), ('CHF', 8.1, '2026-01-01'),
  ('CAD', 5.2, '2026-01-01'), ('THB', 0.2, '2026-01-01'), ('MYR', 1.6, '2026-01-01'), ('VND', 0.00029, '2026-01-01');
