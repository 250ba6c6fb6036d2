-- CEB matching at volume: tickets know which documents they hold, so intake matches an order once — when its
-- last document arrives (or a document of a matched order changes) — instead of on every arrival.

-- Bit per document type present and not deleted: 1 order (CEB311), 2 payment (CEB411), 4 waybill (CEB511),
-- 8 inventory (CEB621). 15 = complete.
alter table ceb_tickets add column present smallint not null default 0;
update ceb_tickets t set present = coalesce((
  select bit_or(case d.type when 'CEB311' then 1 when 'CEB411' then 2 when 'CEB511' then 4 else 8 end)
  from ceb_documents d where d.order_no = t.order_no and not d.deleted), 0);

-- Intake updates a ticket's presence bits up to four times; room on the page and no index on the columns that
-- change keep those updates HOT. Status changes are rare (once per verdict).
alter table ceb_tickets set (fillfactor = 70);
drop index ceb_tickets_status;
create index ceb_tickets_status on ceb_tickets (return_status);
create index ceb_tickets_incomplete on ceb_tickets (created_at) where not complete;
create index ceb_tickets_verdict_at on ceb_tickets (verdict_at);

-- Identical resends look up the latest receipt of their documents through the order index.
drop index ceb_receipts_doc;

-- Inventory numbers (清单编号) of tax bills: office + China year + 10 digits from one sequence. nextval takes no
-- row lock, so concurrent releases do not queue behind one counter row; numbers are unique, gaps allowed.
create sequence ceb_invt_seq;
