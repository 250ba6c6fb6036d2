-- Inspection and quarantine certificates (DOMAIN §6) and declaration archives with retention and self-service
-- printing (DOMAIN §7). Both are time tables, range-partitioned like declarations; the globally unique facts
-- (one current certificate per declaration) live in a small unpartitioned table.

-- Issuing keys. One ACTIVE key signs; rotation retires it (it still verifies what it signed while active).
-- Private keys are kept here like the session secret; an HSM or KMS plugs in behind SignatureAlgorithm.
create table certificate_keys (
  kid text primary key,
  alg text not null,
  public_key text not null,
  private_key text not null,
  status text not null check (status in ('ACTIVE', 'RETIRED')),
  created_by text not null,
  activated_at timestamptz not null,
  retired_at timestamptz
);
create unique index certificate_keys_one_active on certificate_keys ((status)) where status = 'ACTIVE';

-- Certificate types and their validity window (configurable per type, DOMAIN §6).
create table certificate_types (
  type text primary key,
  name_zh text not null,
  name_en text not null,
  validity_days int not null check (validity_days > 0)
);
insert into certificate_types (type, name_zh, name_en, validity_days) values
  ('ENTRY_IQ', '入境货物检验检疫证明', 'Entry Goods Inspection and Quarantine Certificate', 365);

-- Goods that need quarantine: HS code prefix ranges (2 to 10 digits, inclusive, compared on the prefix's
-- length), optionally narrowed to one CIQ code. Data, replaced by admins through the API.
create table quarantine_hs_ranges (
  id int generated always as identity primary key,
  hs_from text not null check (hs_from ~ '^[0-9]{2,10}$'),
  hs_to text not null check (hs_to ~ '^[0-9]{2,10}$' and length(hs_to) = length(hs_from) and hs_to >= hs_from),
  ciq_code char(3),
  category text not null check (category in ('ANIMAL', 'PLANT', 'FOOD', 'OTHER')),
  description text not null
);
-- Default table (Kouan): live animals and animal products, vegetable products, fats, prepared foodstuffs,
-- and raw materials of animal or plant origin that carry pests (hides, furskins, wood, cork, raw fibres).
insert into quarantine_hs_ranges (hs_from, hs_to, category, description) values
  ('01', '05', 'ANIMAL', 'Live animals; animal products (HS chapters 1-5)'),
  ('06', '14', 'PLANT', 'Vegetable products (HS chapters 6-14)'),
  ('15', '15', 'FOOD', 'Animal or vegetable fats and oils (HS chapter 15)'),
  ('16', '24', 'FOOD', 'Prepared foodstuffs, beverages, tobacco (HS chapters 16-24)'),
  ('4101', '4103', 'ANIMAL', 'Raw hides and skins'),
  ('4301', '4301', 'ANIMAL', 'Raw furskins'),
  ('4401', '4404', 'PLANT', 'Fuel wood, wood in the rough, hoopwood'),
  ('4406', '4407', 'PLANT', 'Railway sleepers and sawn wood'),
  ('4501', '4501', 'PLANT', 'Natural cork, raw'),
  ('5001', '5003', 'ANIMAL', 'Raw silk and silk waste'),
  ('5101', '5105', 'ANIMAL', 'Wool and animal hair, not spun'),
  ('5201', '5203', 'PLANT', 'Raw cotton and cotton waste'),
  ('5301', '5305', 'PLANT', 'Raw flax, hemp, jute and other bast fibres');

-- Issued certificates. `content` is exactly what is printed; `digest` (SHA-256 of its RFC 8785 canonical JSON,
-- base64url) is signed in the QR token together with the number and the key id.
create table certificates (
  id uuid not null,
  issued_at timestamptz not null,
  number text not null,
  type text not null references certificate_types (type),
  declaration_id uuid not null,
  declaration_submitted_at timestamptz not null,
  entry_id text not null,
  consignee_id uuid not null,
  content jsonb not null,
  digest text not null,
  kid text not null references certificate_keys (kid),
  token text not null,
  issued_by text not null,
  valid_from timestamptz not null,
  valid_until timestamptz not null,
  replaces text,
  revoked_at timestamptz,
  revocation_reason text check (revocation_reason in ('WITHDRAWN', 'SUPERSEDED', 'ISSUED_IN_ERROR', 'GOODS_NONCOMPLIANT')),
  revocation_note text,
  revoked_by text,
  replaced_by text,
  primary key (id, issued_at)
) partition by range (issued_at);
-- The number embeds its China year, so a lookup by number prunes to one or two partitions.
create unique index certificates_number on certificates (number, issued_at);
create index certificates_declaration on certificates (declaration_id);
create index certificates_consignee on certificates (consignee_id, issued_at);

-- One current (not revoked) certificate per declaration: what makes issuance idempotent.
create table certificate_claims (
  declaration_id uuid primary key,
  certificate_id uuid not null,
  number text not null,
  issued_at timestamptz not null
);

-- Numbers are unique by construction; a sequence takes no row lock, so concurrent releases never wait on
-- each other (gaps after a rollback are allowed, as for entry numbers).
create sequence certificate_number_seq;
create sequence archive_print_serial_seq;

-- Retention classes (DOMAIN §7): every matching rule gives a period; the longest wins ("when unsure, keep
-- the longer period"); DEFAULT applies to everything. Data, not code: admins replace it through the API.
create table archive_retention_rules (
  id int generated always as identity primary key,
  kind text not null check (kind in ('TRADE_MODE', 'MANUAL_PREFIX', 'CUT_MODE', 'DEFAULT')),
  value text not null,
  years int not null check (years between 1 and 100),
  basis text not null
);
insert into archive_retention_rules (kind, value, years, basis)
select 'TRADE_MODE', m, 11, 'reduction/exemption or processing-trade no-price equipment' from unnest(array[
  '0320', '0500', '2025', '2225', '0345', '0744', '0446', '0456', '0466', '0420']) as m;
insert into archive_retention_rules (kind, value, years, basis)
values ('MANUAL_PREFIX', 'Z', 11, 'exemption certificate (征免税证明) in ManualNo');
-- Exempting levy natures (征免性质) [L]: 789 encouraged projects, 799 self-funded projects, 401 science and
-- education goods, 412 infrastructure, 413 goods for the disabled; unverified, kept as data to correct.
insert into archive_retention_rules (kind, value, years, basis)
select 'CUT_MODE', c, 11, 'exempting levy nature (征免性质)' from unnest(array['789', '799', '401', '412', '413']) as c;
insert into archive_retention_rules (kind, value, years, basis)
select 'TRADE_MODE', m, 5, 'processing trade' from unnest(array[
  '0214', '0245', '0255', '0258', '0265', '0300', '0615', '0715', '0644', '0654', '0657', '0664', '0700',
  '0642', '0314', '0200', '0400', '0444', '0445', '0544', '0545', '5014', '5015', '1427', '0844', '0845',
  '0864', '0865', '4400', '4600']) as m;
insert into archive_retention_rules (kind, value, years, basis) values ('DEFAULT', '*', 3, 'all other trade modes');

-- Archived declarations, frozen at clearance (结关), partitioned by the last day they are kept (a China date):
-- the daily purge deletes from one partition, and partitions whose whole year has passed are dropped.
create table archives (
  id uuid not null,
  retain_until date not null,
  declaration_id uuid not null,
  declaration_submitted_at timestamptz not null,
  entry_id text not null,
  trader_id uuid not null,
  ie_flag char(1) not null,
  trade_mode char(4) not null,
  customs_district char(4) not null,
  ie_port char(4) not null,
  declared_at timestamptz not null,
  cleared_at timestamptz not null,
  retention_years int not null,
  retention_basis text not null,
  snapshot jsonb not null,
  created_at timestamptz not null,
  primary key (id, retain_until)
) partition by range (retain_until);
-- retain_until follows from the declaration, so this is unique across partitions in practice.
create unique index archives_declaration on archives (declaration_id, retain_until);
create index archives_trader on archives (trader_id, cleared_at);
create index archives_entry on archives (entry_id);

-- Log of every self-service print and data export: who, what, when. Kept after the archive is purged, so a
-- printout scanned later is reported as past retention rather than unknown.
create table archive_prints (
  id uuid not null,
  printed_at timestamptz not null,
  kind text not null check (kind in ('PRINT', 'EXPORT')),
  serial text,
  archive_id uuid,
  entry_id text,
  enterprise_id uuid,
  actor text not null,
  query jsonb,
  row_count int not null,
  digest text,
  kid text,
  valid_until date,
  primary key (id, printed_at)
) partition by range (printed_at);
create index archive_prints_serial on archive_prints (serial);
create index archive_prints_enterprise on archive_prints (enterprise_id, printed_at);

select ensure_year_partitions('certificates', 2024, 2035);
select ensure_year_partitions('archive_prints', 2024, 2035);
select ensure_year_partitions('archives', 2024, 2045);
