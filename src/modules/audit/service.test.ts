import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { countRows, freshDb } from '../../../test/db.js'
import { rebuildChain, tamper } from '../../../test/audit.js'
import type { Db } from '../../db/index.js'
import { appendAudit, verifyAudit } from '../../shared/audit.js'
import { fixedClock } from '../../shared/clock.js'
import { ed25519, keyId } from '../../shared/signing.js'
import { checkCheckpoints } from './checkpoints.js'
import { insertActiveKey, lockKeys } from './repo.js'
import {
  allCheckpoints,
  checkpointKeys,
  rotateCheckpointKey,
  takeCheckpoints,
  verifyLog,
  type Deps,
} from './service.js'

const T0 = '2026-05-11T01:00:00.000Z'
const onPostgres = !!process.env.DATABASE_URL
const config = { auditCheckpointAlg: 'Ed25519' }

const dbs: Array<{ drop(): Promise<void> }> = []
async function newDeps(over: Partial<Deps['config']> = {}): Promise<Deps & { clock: ReturnType<typeof fixedClock> }> {
  const fresh = await freshDb()
  dbs.push(fresh)
  return { db: fresh.db, clock: fixedClock(T0), config: { ...config, ...over } }
}
afterEach(async () => {
  for (const d of dbs.splice(0)) await d.drop()
})

async function append(db: Db, entityId: string, n = 1) {
  for (let i = 0; i < n; i++) {
    await db.transaction(async (tx) => {
      appendAudit(tx, {
        at: new Date(T0),
        actor: 'user:tester',
        action: `TEST_${i}`,
        entityType: 'test',
        entityId,
        data: { i },
      })
    })
  }
}
const chainOf = async (db: Db, entityId: string) =>
  (await db.query<{ chain: number }>('select chain from audit_log where entity_id = $1 limit 1', [entityId]))[0]!.chain
const heads = (db: Db) =>
  db.query<{ chain: number; seq: number; hash: string }>(
    'select chain, seq, hash from audit_heads where seq > 0 order by chain',
  )
async function exported(db: Db): Promise<string> {
  let text = ''
  for await (const c of allCheckpoints(db)) text += JSON.stringify(c) + '\n'
  return text
}

describe('takeCheckpoints', () => {
  it('signs every chain head that moved, and nothing more while none moves (no audit row of its own)', async () => {
    const deps = await newDeps()
    await append(deps.db, 'entity-a', 2)
    await append(deps.db, 'entity-b', 1)
    const first = await takeCheckpoints(deps)
    // The first run also made the key (audited, so that chain moved too): every chain holding rows is checkpointed.
    const h = await heads(deps.db)
    expect(first).toMatchObject({ written: h.length, at: T0 })
    expect(await deps.db.query('select chain, seq, hash from audit_checkpoints order by chain')).toEqual(h)
    const text = await exported(deps.db)
    const checked = checkCheckpoints(text, { kids: [first.kid] })
    expect(checked.problems).toEqual([])
    expect(checked.checkpoints).toEqual(h)

    const rows = await countRows(deps.db, 'audit_log')
    deps.clock.advance(300_000)
    expect((await takeCheckpoints(deps)).written).toBe(0)
    expect(await countRows(deps.db, 'audit_log')).toBe(rows)
    const chainA = await chainOf(deps.db, 'entity-a')
    const seqA = h.find((x) => x.chain === chainA)!.seq
    await append(deps.db, 'entity-a', 1)
    expect((await takeCheckpoints(deps)).written).toBe(1)
    expect(
      await deps.db.query('select seq, at from audit_checkpoints where chain = $1 order by seq', [chainA]),
    ).toEqual([
      { seq: seqA, at: new Date(T0) },
      { seq: seqA + 1, at: deps.clock.now() },
    ])
  })

  it.skipIf(!onPostgres)('waits for the key another process is making instead of making a second one', async () => {
    const deps = await newDeps()
    await append(deps.db, 'entity-i')
    const k = ed25519.generate()
    let release!: () => void
    const held = new Promise<void>((r) => {
      release = r
    })
    let locked!: () => void
    const inLock = new Promise<void>((r) => {
      locked = r
    })
    const maker = deps.db.transaction(async (tx) => {
      await lockKeys(tx)
      await insertActiveKey(tx, { kid: keyId(k.publicKey), alg: 'Ed25519', ...k, createdBy: 'test', at: T0 })
      locked()
      await held
    })
    await inLock
    const taking = takeCheckpoints(deps)
    // Until the checkpoint's key transaction waits on a lock the maker holds.
    while (
      (
        await deps.db.query<{ n: number }>(
          `select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid where not l.granted and a.datname = current_database()`,
        )
      )[0]!.n === 0
    ) {
      await new Promise((r) => setTimeout(r, 10))
    }
    release()
    await maker
    expect((await taking).kid).toBe(keyId(k.publicKey))
    expect(await countRows(deps.db, 'audit_checkpoint_keys')).toBe(1)
  })

  it('keeps checkpoints append-only in the database', async () => {
    const deps = await newDeps()
    await append(deps.db, 'entity-c')
    await takeCheckpoints(deps)
    for (const sql of [
      "update audit_checkpoints set hash = repeat('0', 64)",
      'delete from audit_checkpoints',
      'truncate audit_checkpoints',
      'delete from audit_checkpoint_keys',
      'truncate audit_checkpoint_keys cascade',
    ]) {
      await expect(deps.db.query(sql), sql).rejects.toMatchObject({ code: '42501' })
    }
    // A key can be retired, never changed or brought back.
    await expect(deps.db.query(`update audit_checkpoint_keys set public_key = 'x'`)).rejects.toThrow(
      'a key can only be retired',
    )
    await rotateCheckpointKey(deps, 'user:admin')
    await expect(
      deps.db.query(`update audit_checkpoint_keys set status = 'ACTIVE', retired_at = null where status = 'RETIRED'`),
    ).rejects.toThrow('a key can only be retired')
  })
})

describe('a rebuilt chain against exported checkpoints', () => {
  it('passes the database walk but fails verification with the export taken before, naming chain and range', async () => {
    const deps = await newDeps()
    await append(deps.db, 'entity-d', 3)
    await takeCheckpoints(deps)
    await append(deps.db, 'entity-d', 2)
    deps.clock.advance(300_000)
    const { kid } = await takeCheckpoints(deps)
    const text = await exported(deps.db)
    const chain = await chainOf(deps.db, 'entity-d')
    const before = await verifyLog(deps.db, { checkpointsText: text, trust: { kids: [kid] } })
    expect(before).toMatchObject({
      ok: true,
      problems: [],
      triggers: [],
      checkpoints: { problems: [], keys: [{ kid, pinned: true }] },
    })

    // The first checkpoint of the chain holds seq 3 (4 if the key's activation landed on it too); the rewrite is after it.
    const seqs = (
      await deps.db.query<{ seq: number }>('select seq from audit_checkpoints where chain = $1 order by seq', [chain])
    ).map((r) => r.seq)
    expect(seqs).toHaveLength(2)
    await rebuildChain(deps.db, chain, seqs[0]! + 1, { actor: 'user:someone-else' })
    expect(await verifyAudit(deps.db)).toMatchObject({ problems: [] })
    expect(await verifyLog(deps.db)).toMatchObject({ ok: true, problems: [] })
    const after = await verifyLog(deps.db, { checkpointsText: text, trust: { kids: [kid] } })
    expect(after.ok).toBe(false)
    expect(after.problems).toEqual([
      { chain, seq: seqs[1], problem: 'CHECKPOINT_MISMATCH', firstDifferenceBetween: [seqs[0]! + 1, seqs[1]] },
    ])
  })

  it('reports disabled append-only triggers', async () => {
    const deps = await newDeps()
    await deps.db.query('alter table audit_log disable trigger audit_log_append_only')
    const r = await verifyLog(deps.db)
    expect(r.ok).toBe(false)
    expect(r.triggers).toContainEqual({ table: 'audit_log', trigger: 'audit_log_append_only', state: 'DISABLED' })
    await deps.db.query('alter table audit_log enable trigger audit_log_append_only')
    await deps.db.query('drop trigger audit_heads_no_truncate on audit_heads')
    expect((await verifyLog(deps.db)).triggers).toEqual([
      { table: 'audit_heads', trigger: 'audit_heads_no_truncate', state: 'MISSING' },
    ])
  })
})

describe('checkpoint keys', () => {
  it('rotate: the retired key keeps verifying what it signed, the new one signs from then on (audited)', async () => {
    const deps = await newDeps()
    await append(deps.db, 'entity-e')
    const first = await takeCheckpoints(deps)
    deps.clock.advance(60_000)
    const r = await rotateCheckpointKey(deps, 'user:admin')
    expect(r).toMatchObject({ retired: first.kid, alg: 'Ed25519' })
    expect(r.activated).toBe(keyId(r.publicKey))
    await append(deps.db, 'entity-e')
    deps.clock.advance(60_000)
    expect((await takeCheckpoints(deps)).kid).toBe(r.activated)
    const keys = await checkpointKeys(deps.db)
    expect(keys.map((k) => [k.kid, k.status, k.retiredAt])).toEqual([
      [first.kid, 'RETIRED', new Date(Date.parse(T0) + 60_000).toISOString()],
      [r.activated, 'ACTIVE', null],
    ])
    const checked = checkCheckpoints(await exported(deps.db), { keys })
    expect(checked.problems).toEqual([])
    expect(checked.keys.map((k) => k.kid).sort()).toEqual([first.kid, r.activated].sort())
    expect(
      (
        await deps.db.query<{ action: string }>(
          `select action from audit_log where entity_type = 'audit_checkpoint_key' order by chain, seq`,
        )
      )
        .map((x) => x.action)
        .sort(),
    ).toEqual(['AUDIT_CHECKPOINT_KEY_ACTIVATED', 'AUDIT_CHECKPOINT_KEY_ACTIVATED', 'AUDIT_CHECKPOINT_KEY_RETIRED'])
    await expect(rotateCheckpointKey(deps, 'user:admin', 'RSA')).rejects.toMatchObject({
      code: 'AUDIT_CHECKPOINT_ALG_UNSUPPORTED',
    })
  })

  it('can live in a key file out of the database: only its public half is stored; a new file retires the old key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kouan-ckpt-'))
    const files = [0, 1].map((i) => {
      const k = ed25519.generate()
      const file = join(dir, `key${i}.json`)
      writeFileSync(file, JSON.stringify({ alg: 'Ed25519', ...k }))
      return { file, kid: keyId(k.publicKey) }
    })
    const deps = await newDeps({ auditCheckpointKeyFile: files[0]!.file })
    await append(deps.db, 'entity-f')
    expect((await takeCheckpoints(deps)).kid).toBe(files[0]!.kid)
    expect(await deps.db.query('select kid, private_key from audit_checkpoint_keys')).toEqual([
      { kid: files[0]!.kid, private_key: null },
    ])
    await expect(rotateCheckpointKey(deps, 'user:admin')).rejects.toMatchObject({
      code: 'AUDIT_CHECKPOINT_KEY_IN_FILE',
    })

    const next = { ...deps, config: { ...deps.config, auditCheckpointKeyFile: files[1]!.file } }
    await append(deps.db, 'entity-f')
    deps.clock.advance(60_000)
    expect((await takeCheckpoints(next)).kid).toBe(files[1]!.kid)
    expect((await checkpointKeys(deps.db)).map((k) => [k.kid, k.status])).toEqual([
      [files[0]!.kid, 'RETIRED'],
      [files[1]!.kid, 'ACTIVE'],
    ])
    expect(checkCheckpoints(await exported(deps.db), { kids: files.map((f) => f.kid) }).problems).toEqual([])
    // Going back to a retired key is refused; without a file, a key is generated in the database.
    await expect(takeCheckpoints(deps)).rejects.toMatchObject({ code: 'AUDIT_CHECKPOINT_KEY_RETIRED' })
    const generated = await takeCheckpoints({ ...deps, config })
    expect(files.map((f) => f.kid)).not.toContain(generated.kid)
    expect(
      (
        await deps.db.query<{ n: number }>(
          'select count(*)::int as n from audit_checkpoint_keys where private_key is not null',
        )
      )[0]!.n,
    ).toBe(1)
  })
})

describe('the export and tampering by a superuser', () => {
  it('verifies with the export after the checkpoints in the database were deleted', async () => {
    const deps = await newDeps()
    await append(deps.db, 'entity-g', 2)
    const { kid } = await takeCheckpoints(deps)
    const text = await exported(deps.db)
    await tamper(deps.db, 'delete from audit_checkpoints')
    expect(await exported(deps.db)).toBe('')
    expect(await verifyLog(deps.db, { checkpointsText: text, trust: { kids: [kid] } })).toMatchObject({
      ok: true,
      problems: [],
    })
  })
})
