-- Audit log trust (issue 10, finding 7). Three measures, described with their limits in ARCHITECTURE.md
-- ("Audit log: threat model"):
--   1. append-only in the database: triggers refuse UPDATE, DELETE and TRUNCATE of audit_log (row triggers on the
--      partitioned parent are cloned to every partition; TRUNCATE triggers are set on the parent and each partition),
--      and chain heads may only move forward (whether onto existing rows is left to verification);
--   2. on PostgreSQL, an application role separate from the owner (kouan_grant_app_role): SELECT and INSERT on the
--      log, no TRUNCATE anywhere, and not the owner, so it cannot drop or disable the triggers;
--   3. signed checkpoints of every chain head (audit_checkpoints, append-only too), exported out of the database.

create function audit_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only: % refused', tg_argv[0], tg_op
    using errcode = '42501', hint = 'audit rows are never changed or removed; see ARCHITECTURE.md, Audit log';
end $$;

create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_refuse_change('audit_log');
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_refuse_change('audit_log');
-- Statement triggers are not cloned to partitions, and a partition can be truncated by name.
do $$
declare p regclass;
begin
  for p in select inhrelid::regclass from pg_inherits where inhparent = 'audit_log'::regclass loop
    execute format('create trigger audit_log_no_truncate before truncate on %s for each statement execute function audit_refuse_change(%L)', p, 'audit_log');
  end loop;
end $$;

-- Partitions are created by the owner (SECURITY DEFINER), so an application role that is not the owner can still
-- add next year's partitions at start, and new audit_log partitions get their TRUNCATE trigger. The search path is
-- pinned to the schema the tables live in (temporary tables never shadow them).
create or replace function ensure_year_partitions(tbl text, y_from int, y_to int) returns void language plpgsql as $$
declare y int; part text;
begin
  for y in y_from..y_to loop
    part := tbl || '_' || y;
    execute format('create table if not exists %I partition of %I for values from (%L) to (%L)',
      part, tbl, make_date(y, 1, 1)::text || ' 00:00:00+00', make_date(y + 1, 1, 1)::text || ' 00:00:00+00');
    if tbl = 'audit_log' then
      execute format('create or replace trigger audit_log_no_truncate before truncate on %I for each statement execute function audit_refuse_change(%L)', part, tbl);
    end if;
  end loop;
end $$;

-- Empty archive partitions of past years are dropped by the purge; dropping needs the owner, so the application
-- role asks this function, which drops nothing but an empty archives_YYYY.
create function drop_empty_archive_partition(part text) returns boolean language plpgsql as $$
declare found boolean;
begin
  if part !~ '^archives_[0-9]{4}$' then raise exception 'not an archive partition: %', part using errcode = '22023'; end if;
  if not exists (select 1 from pg_inherits i join pg_class c on c.oid = i.inhrelid
                 where c.relname = part and c.relnamespace = (select oid from pg_namespace where nspname = current_schema()) and i.inhparent = 'archives'::regclass) then
    raise exception 'not an archive partition: %', part using errcode = '22023';
  end if;
  execute format('select exists (select 1 from %I)', part) into found;
  if found then return false; end if;
  execute format('drop table %I', part);
  return true;
end $$;

do $$
begin
  execute format('alter function ensure_year_partitions(text, int, int) security definer set search_path = %I, pg_temp', current_schema());
  execute format('alter function drop_empty_archive_partition(text) security definer set search_path = %I, pg_temp', current_schema());
end $$;

-- Chain heads move forward only: no insert or delete; an update keeps the chain and increases seq. Whether the new
-- head lands on rows that exist is left to verification (HEAD_MISMATCH): looking the rows up here cost about a fifth
-- of PGlite's single-submission throughput (two probes of every audit partition per transaction).
create function audit_heads_guard() returns trigger language plpgsql as $$
begin
  if tg_op <> 'UPDATE' then
    raise exception 'audit_heads: % refused (chain heads only move forward)', tg_op using errcode = '42501';
  end if;
  if new.chain <> old.chain or new.seq <= old.seq then
    raise exception 'audit_heads: chain % cannot move from seq % to chain % seq %', old.chain, old.seq, new.chain, new.seq using errcode = '42501';
  end if;
  return new;
end $$;
create trigger audit_heads_forward before insert or update or delete on audit_heads
  for each row execute function audit_heads_guard();
create trigger audit_heads_no_truncate before truncate on audit_heads
  for each statement execute function audit_refuse_change('audit_heads');

-- Checkpoint keys: one ACTIVE, the RETIRED ones keep verifying what they signed (as certificate_keys). The private
-- key is null when it lives outside the database (KOUAN_AUDIT_CHECKPOINT_KEY_FILE). Rows are never removed; an
-- update may only retire the active key.
create table audit_checkpoint_keys (
  kid text primary key,
  alg text not null,
  public_key text not null,
  private_key text,
  status text not null check (status in ('ACTIVE', 'RETIRED')),
  created_by text not null,
  activated_at timestamptz not null,
  retired_at timestamptz
);
create unique index audit_checkpoint_keys_one_active on audit_checkpoint_keys ((status)) where status = 'ACTIVE';

create function audit_checkpoint_keys_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' or new.kid <> old.kid or new.alg <> old.alg or new.public_key <> old.public_key
     or new.private_key is distinct from old.private_key or new.created_by <> old.created_by or new.activated_at <> old.activated_at
     or not (old.status = 'ACTIVE' and new.status = 'RETIRED' and old.retired_at is null and new.retired_at is not null) then
    raise exception 'audit_checkpoint_keys: % refused (a key can only be retired)', tg_op using errcode = '42501';
  end if;
  return new;
end $$;
create trigger audit_checkpoint_keys_retire_only before update or delete on audit_checkpoint_keys
  for each row execute function audit_checkpoint_keys_guard();
create trigger audit_checkpoint_keys_no_truncate before truncate on audit_checkpoint_keys
  for each statement execute function audit_refuse_change('audit_checkpoint_keys');

-- Signed checkpoints: chain `chain` had `seq` rows and head `hash` at `at`; the signature covers
-- canonical JSON {alg, at, chain, hash, kid, seq, type: "kouan.audit.checkpoint/1"} (see modules/audit).
create table audit_checkpoints (
  chain smallint not null,
  seq bigint not null,
  hash text not null,
  at timestamptz not null,
  kid text not null references audit_checkpoint_keys (kid),
  alg text not null,
  signature text not null,
  primary key (chain, seq)
);
create index audit_checkpoints_at on audit_checkpoints (at, chain);
create trigger audit_checkpoints_append_only before update or delete on audit_checkpoints
  for each row execute function audit_refuse_change('audit_checkpoints');
create trigger audit_checkpoints_no_truncate before truncate on audit_checkpoints
  for each statement execute function audit_refuse_change('audit_checkpoints');

-- The application roles granted by `kouan db grant-app-role`; migrations re-grant to them (new tables).
create table db_app_roles (
  role name primary key,
  granted_at timestamptz not null default now()
);

-- Grants the application role what the platform needs and no more: SELECT/INSERT/UPDATE/DELETE on ordinary tables,
-- SELECT and INSERT on the append-only ones (audit_log, audit_checkpoints), SELECT/UPDATE on audit_heads (guarded),
-- SELECT/INSERT/UPDATE on audit_checkpoint_keys (guarded), SELECT on the migration bookkeeping; sequences; never
-- TRUNCATE, REFERENCES or TRIGGER. Partitions are reached through their parent and get no grants of their own.
-- Refuses a role that would hold the owner's rights (itself, a member of the owner, a superuser).
create function kouan_grant_app_role(app name) returns void language plpgsql as $$
declare t record; privs text;
begin
  if not exists (select 1 from pg_roles where rolname = app) then
    raise exception 'role % does not exist (create it first: create role % login password ...)', app, app using errcode = '42704';
  end if;
  if app = current_user or pg_has_role(app, current_user, 'MEMBER') or (select rolsuper or rolbypassrls from pg_roles where rolname = app) then
    raise exception 'role % would hold the owner''s rights (it is the owner, a member of it, or a superuser)', app using errcode = '42501';
  end if;
  execute format('grant usage on schema %I to %I', current_schema(), app);
  for t in select c.relname from pg_class c
           where c.relnamespace = (select oid from pg_namespace where nspname = current_schema()) and c.relkind in ('r', 'p') and not c.relispartition loop
    privs := case
      when t.relname in ('audit_log', 'audit_checkpoints') then 'select, insert'
      when t.relname = 'audit_heads' then 'select, update'
      when t.relname = 'audit_checkpoint_keys' then 'select, insert, update'
      when t.relname in ('schema_migrations', 'db_app_roles') then 'select'
      else 'select, insert, update, delete' end;
    execute format('revoke all on table %I from %I', t.relname, app);
    execute format('grant %s on table %I to %I', privs, t.relname, app);
  end loop;
  execute format('grant usage, select, update on all sequences in schema %I to %I', current_schema(), app);
  insert into db_app_roles (role) values (app) on conflict (role) do nothing;
end $$;

create function kouan_regrant_app_roles() returns void language plpgsql as $$
declare r name;
begin
  for r in select role from db_app_roles loop
    if exists (select 1 from pg_roles where rolname = r) then perform kouan_grant_app_role(r); end if;
  end loop;
end $$;
