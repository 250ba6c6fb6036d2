-- Cross-border e-commerce retail import (CEB): documents as received, tickets (one per order), receipts,
-- the matching queue, buyers' annual totals and webhook deliveries.

-- The latest version of each document, keyed by its business key (order: ebpCode+orderNo; payment:
-- payCode+payTransactionId; waybill: logisticsCode+logisticsNo; inventory: agentCode+copNo).
create table ceb_documents (
  type text not null check (type in ('CEB311', 'CEB411', 'CEB511', 'CEB621')),
  doc_key text not null,
  order_no text not null,
  guid text not null,
  content_hash text not null,
  version int not null,
  deleted boolean not null default false,
  sender text not null,
  card_no text not null,
  body jsonb not null,
  received_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (type, doc_key)
);
create index ceb_documents_order on ceb_documents (order_no);

-- One ticket per order number: which documents are present and the last verdict.
create table ceb_tickets (
  order_no text primary key,
  return_status int not null,
  reasons jsonb not null default '[]',
  complete boolean not null default false,
  buyer_id_number text,
  tax_total numeric(19, 2),
  dutiable_value numeric(19, 2),
  lane text,
  verdict_at timestamptz,
  released_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  version int not null default 1
);
create index ceb_tickets_status on ceb_tickets (return_status, updated_at);

-- Orders whose documents changed since they were last matched: one row per change. Durable: a crash loses
-- nothing, matching resumes from here on restart. Processes take rows with FOR UPDATE SKIP LOCKED and delete
-- only the rows they took, so a change that lands while its order is being matched leaves its own row behind
-- and is matched again (no lost wake-up).
create table ceb_match_queue (
  id bigint generated always as identity primary key,
  order_no text not null,
  enqueued_at timestamptz not null
);

create table ceb_receipts (
  id bigint generated always as identity primary key,
  type text not null,
  doc_key text not null,
  order_no text not null,
  return_status int not null,
  return_info text not null,
  reasons jsonb not null default '[]',
  -- The stored document version the receipt answers; null for a document refused at intake (not stored).
  doc_version int,
  created_at timestamptz not null
);
create index ceb_receipts_order on ceb_receipts (order_no, id);
create index ceb_receipts_doc on ceb_receipts (type, doc_key, id);

create table ceb_buyer_totals (
  buyer_id_number text not null,
  year int not null,
  total numeric(19, 2) not null,
  primary key (buyer_id_number, year)
);

create table ceb_tax_bills (
  order_no text primary key,
  bill jsonb not null,
  created_at timestamptz not null
);

create table ceb_webhooks (
  enterprise_id uuid primary key references enterprises (id),
  url text not null,
  secret text not null,
  created_at timestamptz not null
);

create table ceb_webhook_deliveries (
  id bigint generated always as identity primary key,
  enterprise_id uuid not null,
  payload jsonb not null,
  attempts int not null default 0,
  next_at timestamptz not null,
  delivered_at timestamptz,
  last_error text
);
create index ceb_webhook_due on ceb_webhook_deliveries (next_at) where delivered_at is null;
