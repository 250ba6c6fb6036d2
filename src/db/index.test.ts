import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDb, openPglite, socketOf, tablesDue } from './index.js'

describe('the embedded database belongs to one process', () => {
  const dirs: string[] = []
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kouan-lock-'))
    dirs.push(dir)
    return join(dir, 'data')
  }
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('refuses a second opener of a data directory in use, and lets it in once the first closed', async () => {
    const dir = dataDir()
    const first = await openPglite(dir)
    await first.exec('create table kept (x int); insert into kept values (1)')
    expect(existsSync(join(dir, 'kouan.lock'))).toBe(true)
    await expect(openPglite(dir)).rejects.toThrow(/is open in process \d+ \(this one\)/)
    // The refused opener changed nothing: the first still works and owns the lock.
    expect(await first.query('select x from kept')).toEqual([{ x: 1 }])
    await first.close()
    expect(existsSync(join(dir, 'kouan.lock'))).toBe(false)
    const second = await openPglite(dir)
    expect(await second.query('select x from kept')).toEqual([{ x: 1 }])
    await second.close()
  })

  it('refuses while another live process holds the lock, and takes over a lock its dead owner left', async () => {
    const dir = dataDir()
    await (await openPglite(dir)).close()
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' })
    try {
      writeFileSync(join(dir, 'kouan.lock'), `${other.pid}\n`)
      await expect(openPglite(dir)).rejects.toThrow(new RegExp(`is open in process ${other.pid}: stop it first`))
    } finally {
      const exited = new Promise((r) => other.once('exit', r))
      other.kill('SIGKILL')
      await exited
    }
    const db = await openPglite(dir) // the owner died: its lock is stale
    expect(await db.query<{ n: number }>('select 1 as n')).toEqual([{ n: 1 }])
    await db.close()
  })
})

describe('parameters', () => {
  // Long text and JSON parameters go to PGlite as bytes in the binary format (see openPglite); the same values come
  // back on either database, including non-ASCII text, and arrays of long strings are not affected.
  it('round-trips long text, json and jsonb parameters and arrays of long strings', async () => {
    const db = await openDb({
      databaseUrl: process.env.DATABASE_URL,
      dataDir: mkdtempSync(join(tmpdir(), 'kouan-params-')),
    })
    try {
      const long = `${'x'.repeat(5000)}口岸 "quoted" \\ back`
      expect((await db.query<{ a: string[] }>('select $1::text[] as a', [[long, 'b']]))[0]!.a).toEqual([long, 'b'])
      expect((await db.query<{ t: string }>('select $1::text as t', [long]))[0]!.t).toBe(long)
      expect((await db.query<{ j: unknown }>('select $1::jsonb as j', [JSON.stringify({ long })]))[0]!.j).toEqual({
        long,
      })
      expect((await db.query<{ j: unknown }>('select $1::json as j', [JSON.stringify({ long })]))[0]!.j).toEqual({
        long,
      })
      expect(
        await db.transaction(
          async (tx) =>
            (
              await tx.query<{ n: number }>(`select json_array_length($1::text::json) as n`, [
                JSON.stringify(Array(900).fill(long.slice(0, 10))),
              ])
            )[0]!.n,
        ),
      ).toBe(900)
    } finally {
      await db.close()
    }
  })
})

describe('upkeep of the embedded database (autovacuum has no process in PGlite)', () => {
  it("is due by autovacuum's rule: vacuum past 50 + 20 % dead rows, analyze past 50 + 10 % changes", () => {
    expect(
      tablesDue([
        { name: 'quiet', live: 10_000, dead: 2_000, changed: 1_000 },
        { name: 'dead', live: 10_000, dead: 2_051, changed: 0 },
        { name: 'changed', live: 10_000, dead: 0, changed: 1_051 },
        { name: 'new', live: 0, dead: 0, changed: 60 },
      ]),
    ).toEqual([
      { name: 'dead', vacuum: true, analyze: false },
      { name: 'changed', vacuum: false, analyze: true },
      { name: 'new', vacuum: false, analyze: true },
    ])
  })

  it('analyzes a table that grew, so the planner looks rows up by index instead of reading the whole table', async () => {
    const db = await openPglite()
    try {
      await db.exec('create table t (k text primary key, v int)')
      await db.query(`insert into t select 'k' || i, i from generate_series(1, 20000) i`)
      const plan = async () =>
        (
          await db.query<{ 'QUERY PLAN': string }>(`explain select v from t where k = any($1::text[])`, [
            ['k1', 'k2', 'k3'],
          ])
        )
          .map((r) => r['QUERY PLAN'])
          .join('\n')
      const due = await db.maintain!()
      expect(due).toContain('public.t')
      expect(
        (
          await db.query<{ changed: number }>(
            `select n_mod_since_analyze as changed from pg_stat_user_tables where relname = 't'`,
          )
        )[0]!.changed,
      ).toBe(0)
      expect(await plan()).toMatch(/Index/)
      expect(await db.maintain!()).not.toContain('public.t') // nothing changed since
    } finally {
      await db.close()
    }
  })
})

describe('a PostgreSQL server on this machine by its Unix socket', () => {
  it("reads libpq's host=/directory parameter and leaves other URLs alone", () => {
    expect(socketOf('postgres://u:p@localhost:5432/x?host=/run/pg&sslmode=disable')).toEqual({
      url: 'postgres://u:p@localhost:5432/x?sslmode=disable',
      host: '/run/pg',
    })
    expect(socketOf('postgres://u@/x?sslmode=disable&host=%2Frun%2Fpg')).toEqual({
      url: 'postgres://u@localhost/x?sslmode=disable',
      host: '/run/pg',
    })
    expect(socketOf('postgresql:///x?host=/run/pg')).toEqual({ url: 'postgresql://localhost/x', host: '/run/pg' })
    expect(socketOf('postgres://h:1/x?host=db.example')).toEqual({ url: 'postgres://h:1/x?host=db.example' })
    expect(socketOf('postgres://u@db:5432/x')).toEqual({ url: 'postgres://u@db:5432/x' })
  })
})

describe('the embedded database on a thread of its own (KOUAN_PGLITE_THREAD)', () => {
  it('runs statements and transactions there as on the main thread: rows, parsers, long parameters, commit and rollback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kouan-thread-'))
    const db = await openPglite(join(dir, 'data'), undefined, { thread: true })
    try {
      await db.exec('create table t (k text primary key, n int8, amount numeric, at timestamptz, doc jsonb)')
      const long = `${'x'.repeat(5000)}口岸`
      await db.transaction(async (tx) => {
        await tx.query('insert into t values ($1, $2, $3, $4, $5)', [
          'a',
          9_007_199_254_740_991,
          '12.30',
          '2026-12-07T01:02:03Z',
          JSON.stringify({ long }),
        ])
      })
      expect(await db.query('select * from t')).toEqual([
        { k: 'a', n: 9_007_199_254_740_991, amount: '12.30', at: new Date('2026-12-07T01:02:03Z'), doc: { long } },
      ])
      // A failing statement rolls the whole transaction back, and its error keeps PostgreSQL's fields.
      const err = await db
        .transaction(async (tx) => {
          await tx.query(`insert into t (k) values ('b')`)
          await tx.query(`insert into t (k) values ('a')`)
        })
        .catch((e: unknown) => e)
      expect(err).toMatchObject({
        code: '23505',
        constraint: 't_pkey',
        message: expect.stringMatching(/duplicate key/),
      })
      // So does an error thrown by the caller's own code inside the transaction.
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`insert into t (k) values ('c')`)
          throw new Error('changed my mind')
        }),
      ).rejects.toThrow('changed my mind')
      expect((await db.query<{ k: string }>('select k from t order by k')).map((r) => r.k)).toEqual(['a'])
      // Transactions are handed over one at a time: concurrent increments all count.
      await db.exec('create table c (n int); insert into c values (0)')
      await Promise.all(
        Array.from({ length: 20 }, () =>
          db.transaction(async (tx) => {
            const [row] = await tx.query<{ n: number }>('select n from c')
            await tx.query('update c set n = $1', [row!.n + 1])
          }),
        ),
      )
      expect(await db.query('select n from c')).toEqual([{ n: 20 }])
      // Upkeep runs on the database's thread: a table that grew past autovacuum's threshold is analyzed.
      await db.query(`insert into t (k) select 'g' || i from generate_series(1, 200) i`)
      expect(await db.maintain!()).toContain('public.t')
      await db.query(`delete from t where k like 'g%'`)
      // The data directory as a tarball loads into a database of its own.
      const copy = await openPglite(undefined, await db.dumpDataDir!(), { thread: true })
      expect(await copy.query('select k from t')).toEqual([{ k: 'a' }])
      await copy.close()
    } finally {
      await db.close()
    }
    // Closed: the lock is released and the data are on disk for the next opener.
    const again = await openPglite(join(dir, 'data'))
    expect(await again.query('select k from t')).toEqual([{ k: 'a' }])
    await again.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('reports a data directory it cannot open, and leaves no lock behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kouan-thread-bad-'))
    writeFileSync(join(dir, 'data'), 'a file, not a directory')
    await expect(openPglite(join(dir, 'data'), undefined, { thread: true })).rejects.toThrow()
    rmSync(dir, { recursive: true, force: true })
  })
})
