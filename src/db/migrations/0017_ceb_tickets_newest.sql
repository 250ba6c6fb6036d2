-- The console's ticket lists (GET /ceb/orders, polled every 5 s) page newest first: an index in that order, so a page
-- reads its rows instead of sorting every ticket (the simulator alone adds 86,400 a day).
create index ceb_tickets_newest on ceb_tickets (created_at desc, order_no desc);
