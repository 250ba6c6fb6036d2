-- 24/7 appointment clearance (预约通关, GACC Announcement 2018 No. 109): enterprises book customs service outside
-- office hours at a customs site; hourly slots with an exact capacity; officers review, hold or remove bookings.

-- Sites that take bookings: a customs office (4-digit 关区 code) with its office hours (China time, whole hours,
-- working days of the official calendar) and, per goods category, whether bookings are accepted automatically,
-- reviewed by an officer, or not taken.
create table appointment_sites (
  code char(4) primary key,
  office_open smallint not null check (office_open between 0 and 23),
  office_close smallint not null check (office_close between 1 and 24),
  slot_capacity integer not null check (slot_capacity between 0 and 1000),
  duty_phone text not null,
  categories jsonb not null,
  updated_at timestamptz not null,
  check (office_open < office_close)
);

-- One row per site and hour that has been booked or planned (rows are created on first use with the site's
-- default capacity). `booked` counts the bookings holding the slot (PENDING, ACCEPTED, HELD); the check makes
-- overselling impossible whatever the code does.
create table appointment_slots (
  site char(4) not null references appointment_sites (code),
  starts_at timestamptz not null,
  capacity integer not null check (capacity between 0 and 1000),
  booked integer not null default 0 check (booked >= 0),
  officers jsonb not null default '[]',
  updated_at timestamptz not null,
  primary key (site, starts_at),
  check (booked <= capacity)
);

-- Appointment numbers: site + China date of the slot + a sequence per (site, date).
create table appointment_numbers (
  site char(4) not null,
  day date not null,
  last integer not null,
  primary key (site, day)
);

create table appointments (
  id uuid primary key,
  number text not null unique,
  enterprise_id uuid not null references enterprises (id),
  -- The applicant as the form names it (code and name at booking time).
  enterprise_code text not null,
  enterprise_name text not null,
  client_ref text not null,
  card_no text not null,
  status text not null check (status in ('PENDING', 'ACCEPTED', 'HELD', 'REJECTED', 'CANCELLED', 'REMOVED')),
  service text not null,
  category text not null,
  site char(4) not null references appointment_sites (code),
  slot_start timestamptz not null,
  ie_port char(4) not null,
  ie_flag char(1) not null check (ie_flag in ('I', 'E')),
  transport_mode text not null,
  contact_name text not null,
  contact_mobile text not null,
  goods jsonb not null,
  reason text not null,
  declarations text[] not null default '{}',
  manifests text[] not null default '{}',
  -- The request as first received (its hash tells a replay from a different request under the same reference).
  request_hash text not null,
  accepted_at timestamptz,
  accepted_by text,
  last_reason text,
  -- Cancelling after acceptance owes a written explanation within 5 days.
  explanation_due timestamptz,
  explanation text,
  explained_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  version integer not null default 1,
  unique (enterprise_id, client_ref)
);
create index appointments_slot on appointments (site, slot_start);
create index appointments_enterprise on appointments (enterprise_id, slot_start);
create index appointments_review on appointments (created_at) where status in ('PENDING', 'HELD');
create index appointments_explanations on appointments (explanation_due) where explanation_due is not null and explained_at is null;
create index appointments_declarations on appointments using gin (declarations);

-- Every change of an appointment, in order: its timeline, and the feed of the live stream (any process reads it).
create table appointment_history (
  id bigint generated always as identity primary key,
  appointment_id uuid not null references appointments (id),
  at timestamptz not null,
  actor text not null,
  action text not null,
  from_status text,
  to_status text not null,
  slot_start timestamptz not null,
  reason text
);
create index appointment_history_appointment on appointment_history (appointment_id, id);

-- Sites taking bookings from the start (an admin changes or adds them: PUT /api/v1/appointment-sites/{code}). The duty
-- phone defaults to 12360, the national customs service hotline, until a site sets its own duty line.
insert into appointment_sites (code, office_open, office_close, slot_capacity, duty_phone, categories, updated_at)
select code, 9, 17, 4, '12360',
  '{"EMERGENCY_RELIEF": "AUTO", "DANGEROUS_GOODS": "REVIEW", "PERISHABLE": "AUTO", "OTHER_URGENT": "REVIEW"}'::jsonb,
  '2026-01-01T00:00:00Z'
from unnest(array['5301', '5302', '5316', '5345', '2201', '2233', '2248', '3104', '3111', '5101', '5141', '0201', '0202',
  '4218', '4227', '3701', '3702']) as code;
