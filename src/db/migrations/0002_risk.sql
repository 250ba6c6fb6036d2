-- Learned risk models: versioned artifacts, one active at a time; promoted and rolled back by officers.
create table risk_models (
  version int primary key,
  status text not null check (status in ('CANDIDATE', 'ACTIVE', 'RETIRED')),
  created_at timestamptz not null,
  created_by text not null,
  trained_rows int not null,
  metrics jsonb not null,
  artifact jsonb not null,
  promoted_at timestamptz,
  promoted_by text
);
create unique index risk_models_one_active on risk_models (status) where status = 'ACTIVE';
