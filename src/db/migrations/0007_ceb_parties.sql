-- CEB parties (issue 10, finding 1): a document joins a ticket only when its sender is a party the ticket's order
-- (or, for the waybill, its inventory) names; documents that arrive before the document naming them are held.

-- The CEB roles an enterprise is registered in (ebp platform, ebc e-commerce enterprise, pay payment enterprise,
-- logistics, agent declaring enterprise, assure guarantor). No row: the registry does not know the enterprise's roles
-- and registration alone counts; a row (even with no roles) is authoritative.
create table ceb_parties (
  enterprise_id uuid primary key references enterprises (id),
  roles text[] not null check (roles <@ array['ebp', 'ebc', 'pay', 'logistics', 'agent', 'assure']::text[]),
  updated_at timestamptz not null,
  updated_by text not null
);

-- 'refused': a held document the naming document did not name (also marked deleted, so its key is free again); else
-- 'joined'. Whether a live document counts or is held (the document naming its sender has not arrived: no presence
-- bit, never matched) is not stored: it follows from the ticket's documents. ('held' is allowed but not written.)
alter table ceb_documents add column standing text not null default 'joined' check (standing in ('joined', 'held', 'refused'));

-- The enterprise whose message a receipt answers (intake receipts): a document refused at intake is not stored, so
-- this is how its sender, and only its sender, finds the refusal again. Null on verdict receipts.
alter table ceb_receipts add column sender text;
