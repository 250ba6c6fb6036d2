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
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

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
    const db = await openDb({ databaseUrl: process.env.DATABASE_URL, dataDir: mkdtempSync(join(tmpdir(), 'kouan-params-')) })
    try {
      const long = `${'x'.repeat(5000)}口岸 "quoted" \\ back`
      expect((await db.query<{ a: string[] }>('select $1::text[] as a', [[long, 'b']]))[0]!.a).toEqual([long, 'b'])
      expect((await db.query<{ t: string }>('select $1::text as t', [long]))[0]!.t).toBe(long)
      expect((await db.query<{ j: unknown }>('select $1::jsonb as j', [JSON.stringify({ long })]))[0]!.j).toEqual({ long })
      expect((await db.query<{ j: unknown }>('select $1::json as j', [JSON.stringify({ long })]))[0]!.j).toEqual({ long })
      expect(await db.transaction(async (tx) => (await tx.query<{ n: number }>(`select json_array_length($1::text::json) as n`, [JSON.stringify(Array(900).fill(long.slice(0, 10)))]))[0]!.n)).toBe(900)
    } finally {
      await db.close()
    }
  })
})

describe('upkeep of the embedded database (autovacuum has no process in PGlite)', () => {
  it('is due by autovacuum\'s rule: vacuum past 50 + 20 % dead rows, analyze past 50 + 10 % changes', () => {
    expect(tablesDue([
      { name: 'quiet', live: 10_000, dead: 2_000, changed: 1_000 },
      { name: 'dead', live: 10_000, dead: 2_051, changed: 0 },
      { name: 'changed', live: 10_000, dead: 0, changed: 1_051 },
      { name: 'new', live: 0, dead: 0, changed: 60 },
    ])).toEqual([
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
      const plan = async () => (await db.query<{ 'QUERY PLAN': string }>(`explain select v from t where k = any($1::text[])`, [['k1', 'k2', 'k3']])).map((r) => r['QUERY PLAN']).join('\n')
      const due = await db.maintain!()
      expect(due).toContain('public.t')
      expect((await db.query<{ changed: number }>(`select n_mod_since_analyze as changed from pg_stat_user_tables where relname = 't'`))[0]!.changed).toBe(0)
      expect(await plan()).toMatch(/Index/)
      expect(await db.maintain!()).not.toContain('public.t') // nothing changed since
    } finally {
      await db.close()
    }
  })
})

describe('a PostgreSQL server on this machine by its Unix socket', () => {
  it('reads libpq\'s host=/directory parameter and leaves other URLs alone', () => {
    expect(socketOf('postgres://u:p@localhost:5432/x?host=/run/pg&sslmode=disable')).toEqual({ url: 'postgres://u:p@localhost:5432/x?sslmode=disable', host: '/run/pg' })
    expect(socketOf('postgres://u@/x?sslmode=disable&host=%2Frun%2Fpg')).toEqual({ url: 'postgres://u@localhost/x?sslmode=disable', host: '/run/pg' })
    expect(socketOf('postgresql:///x?host=/run/pg')).toEqual({ url: 'postgresql://localhost/x', host: '/run/pg' })
    expect(socketOf('postgres://h:1/x?host=db.example')).toEqual({ url: 'postgres://h:1/x?host=db.example' })
    expect(socketOf('postgres://u@db:5432/x')).toEqual({ url: 'postgres://u@db:5432/x' })
  })
})
