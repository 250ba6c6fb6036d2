-- Console (command dashboard): its live figures read recent rows by time. The partitioned tables are keyed
-- by (id, submitted_at), so "the last hour" needs an index that leads with the time.
create index declarations_submitted on declarations (submitted_at);
create index declaration_items_submitted on declaration_items (submitted_at);
