import { readFileSync } from 'node:fs'
import type { Config } from '../../config.js'
import type { Db, Queryable, Tx } from '../../db/index.js'
import { KouanError, conflict } from '../../errors.js'
import { appendAudit, verifyAudit, type AuditProblem } from '../../shared/audit.js'
import type { Clock } from '../../shared/clock.js'
import { algorithmNamed, keyId, parseKeyFile, type KeyFile } from '../../shared/signing.js'
import {
  checkCheckpoints,
  signCheckpoints,
  type CheckedCheckpoints,
  type CheckpointSigner,
  type CheckpointTrust,
} from './checkpoints.js'
import * as repo from './repo.js'
import type { Checkpoint } from './schema.js'

type CheckpointConfig = Pick<Config, 'auditCheckpointAlg' | 'auditCheckpointKeyFile'>
export interface Deps {
  db: Db
  clock: Clock
  config: Readonly<CheckpointConfig>
}

// ---- keys --------------------------------------------------------------------------------------------------

const fileKeys = new Map<string, CheckpointSigner & { publicKey: string }>()

/** The key pair in KOUAN_AUDIT_CHECKPOINT_KEY_FILE (`{alg, publicKey, privateKey}`), read once per process. */
function keyFromFile(path: string): CheckpointSigner & { publicKey: string } {
  let k = fileKeys.get(path)
  if (k) return k
  let f: KeyFile
  try {
    f = parseKeyFile(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new Error(`audit checkpoint key file ${path}: ${(e as Error).message}`)
  }
  k = { kid: keyId(f.publicKey), alg: f.alg, privateKey: f.privateKey, publicKey: f.publicKey }
  fileKeys.set(path, k)
  return k
}

/**
 * The key checkpoints are signed with, made active if it is not: the key file's when one is configured (its
 * public half registered, the previous key retired), else the active generated key in the database (one is made
 * when there is none, or when the active one lived in a key file no longer configured).
 */
export async function checkpointSigner(deps: Deps, who = 'system:kouan'): Promise<CheckpointSigner> {
  const path = deps.config.auditCheckpointKeyFile
  if (path) {
    const k = keyFromFile(path)
    if ((await repo.activeKey(deps.db))?.kid !== k.kid) {
      await deps.db.transaction(async (tx) => {
        const active = await repo.lockKeys(tx)
        if (active?.kid === k.kid) return
        if (await repo.keyStatus(tx, k.kid))
          throw conflict(
            'AUDIT_CHECKPOINT_KEY_RETIRED',
            `the key in ${path} (${k.kid}) was retired; a retired key never signs again`,
          )
        await activate(
          tx,
          { kid: k.kid, alg: k.alg.alg, publicKey: k.publicKey, privateKey: null },
          deps.clock.now(),
          who,
        )
      })
    }
    return k
  }
  let active = await repo.activeKey(deps.db)
  if (!active?.privateKey) {
    await generateKey(deps, who, deps.config.auditCheckpointAlg, true)
    active = await repo.activeKey(deps.db)
  }
  const alg = active?.privateKey ? algorithmNamed(active.alg) : undefined
  if (!active?.privateKey || !alg) throw new Error(`no usable audit checkpoint key (active: ${active?.kid ?? 'none'})`)
  return { kid: active.kid, alg, privateKey: active.privateKey }
}

async function activate(
  tx: Tx,
  k: { kid: string; alg: string; publicKey: string; privateKey: string | null },
  at: Date,
  who: string,
) {
  const retired = await repo.retireActiveKey(tx, at.toISOString())
  if (retired)
    appendAudit(tx, {
      at,
      actor: who,
      action: 'AUDIT_CHECKPOINT_KEY_RETIRED',
      entityType: 'audit_checkpoint_key',
      entityId: retired,
      data: {},
    })
  if (!(await repo.insertActiveKey(tx, { ...k, createdBy: who, at: at.toISOString() }))) {
    throw conflict('AUDIT_CHECKPOINT_KEY_ROTATION_RACE', 'another key rotation happened at the same moment; retry')
  }
  appendAudit(tx, {
    at,
    actor: who,
    action: 'AUDIT_CHECKPOINT_KEY_ACTIVATED',
    entityType: 'audit_checkpoint_key',
    entityId: k.kid,
    data: { alg: k.alg, publicKey: k.publicKey, inDatabase: k.privateKey !== null },
  })
}

interface Rotation {
  retired: string | null
  activated: string
  alg: string
  publicKey: string
}

/** Makes a key of algorithm `name` the active one (`keepUsable`: unless the active key is in the database already). */
async function generateKey(deps: Deps, who: string, name: string, keepUsable: boolean): Promise<Rotation | undefined> {
  const alg = algorithmNamed(name)
  if (!alg)
    throw new KouanError('AUDIT_CHECKPOINT_ALG_UNSUPPORTED', 422, `algorithm ${name} is not supported`, {
      pointer: '/alg',
    })
  return deps.db.transaction(async (tx) => {
    const active = await repo.lockKeys(tx)
    if (keepUsable && active?.privateKey) return undefined
    const k = alg.generate()
    const kid = keyId(k.publicKey)
    await activate(tx, { kid, alg: alg.alg, publicKey: k.publicKey, privateKey: k.privateKey }, deps.clock.now(), who)
    return { retired: active?.kid ?? null, activated: kid, alg: alg.alg, publicKey: k.publicKey }
  })
}

/**
 * Rotates the generated checkpoint key: the active key is retired (checkpoints it signed keep verifying) and a new
 * one of `alg` (default KOUAN_AUDIT_CHECKPOINT_ALG) signs from now on. Refused when the key lives in a key file
 * (replace the file instead). The active row is locked first, so a checkpoint being signed finishes with the old key.
 */
export async function rotateCheckpointKey(deps: Deps, who: string, alg?: string): Promise<Rotation> {
  if (deps.config.auditCheckpointKeyFile) {
    throw conflict(
      'AUDIT_CHECKPOINT_KEY_IN_FILE',
      `the checkpoint key lives in ${deps.config.auditCheckpointKeyFile} (KOUAN_AUDIT_CHECKPOINT_KEY_FILE): put a new key pair there and restart`,
    )
  }
  return (await generateKey(deps, who, alg ?? deps.config.auditCheckpointAlg, false))!
}

/** Public halves of every checkpoint key with their windows: what the operator pins (`kouan audit checkpoints keys`). */
export const checkpointKeys = (db: Queryable) => repo.listKeys(db)

// ---- checkpoints -------------------------------------------------------------------------------------------

/**
 * Signs a checkpoint of every chain whose head moved since its last checkpoint, in one transaction that holds the
 * signing key FOR SHARE (a rotation waits; the time is read after the lock). Several processes may run it at once:
 * a (chain, seq) checkpointed twice keeps the first. Not audited itself, so an idle log stays idle.
 */
export async function takeCheckpoints(deps: Deps): Promise<{ written: number; at: string; kid: string }> {
  const signer = await checkpointSigner(deps)
  return deps.db.transaction(async (tx) => {
    const active = await repo.activeKey(tx, 'for share')
    if (active?.kid !== signer.kid)
      throw conflict('AUDIT_CHECKPOINT_KEY_ROTATION_RACE', 'the checkpoint key was rotated meanwhile; retry')
    const at = deps.clock.now().toISOString()
    const due = await repo.headsDue(tx)
    const written = await repo.insertCheckpoints(tx, signCheckpoints(signer, due, at))
    return { written, at, kid: signer.kid }
  })
}

/** Runs {@link takeCheckpoints} at most once at a time per process (the app's timer). */
export function checkpointTimer(deps: Deps, onError: (err: unknown) => void): () => void {
  let running = false
  return () => {
    if (running) return
    running = true
    takeCheckpoints(deps)
      .catch(onError)
      .finally(() => {
        running = false
      })
  }
}

const encodeCursor = (c: { at: string; chain: number }) =>
  Buffer.from(`${c.at}|${c.chain}`, 'utf8').toString('base64url')
function decodeCursor(s: string): { at: string; chain: number } {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|(\d{1,5})$/.exec(
    Buffer.from(s, 'base64url').toString('utf8'),
  )
  if (!m || Number.isNaN(Date.parse(m[1]!)))
    throw new KouanError('AUDIT_CURSOR_INVALID', 400, 'after: not a cursor this API returned', {
      pointer: '/querystring/after',
    })
  return { at: m[1]!, chain: Number(m[2]) }
}

/** One page of checkpoints in (at, chain) order, each with its key's public half; `next` continues after it. */
export async function checkpointPage(
  db: Queryable,
  q: { after?: string | undefined; limit: number },
): Promise<{ items: Checkpoint[]; next: string | null }> {
  const items = await repo.listCheckpoints(db, {
    after: q.after === undefined ? undefined : decodeCursor(q.after),
    limit: q.limit,
  })
  const last = items.at(-1)
  return { items: items.map(toLine), next: items.length === q.limit && last ? encodeCursor(last) : null }
}

/** Every checkpoint (taken after `since`, when given) in export order, read in pages. */
export async function* allCheckpoints(db: Queryable, since?: string): AsyncGenerator<Checkpoint> {
  let after: { at: string; chain: number } | undefined
  for (;;) {
    const page = await repo.listCheckpoints(db, { after, since, limit: 5000 })
    for (const c of page) yield toLine(c)
    if (page.length < 5000) return
    after = page.at(-1)!
  }
}

const toLine = (c: repo.StoredCheckpoint): Checkpoint => ({
  chain: c.chain,
  seq: c.seq,
  hash: c.hash,
  at: c.at,
  kid: c.kid,
  alg: c.alg,
  publicKey: c.publicKey,
  signature: c.signature,
})

// ---- verification ------------------------------------------------------------------------------------------

export interface AuditReport {
  ok: boolean
  /** Hash chains walked. */
  chains: number
  rows: number
  problems: AuditProblem[]
  /** Append-only triggers missing or disabled (on the log, its partitions, the heads, the checkpoints). */
  triggers: Awaited<ReturnType<typeof repo.triggerProblems>>
  checkpoints?: Omit<CheckedCheckpoints, 'checkpoints'> & { used: number }
}

/**
 * `kouan audit verify`: re-walks every chain (see `verifyAudit`), checks the append-only triggers are in force,
 * and, given an export of checkpoints (`checkpointsText`, kept where the database's administrators cannot write),
 * authenticates them against the pinned keys (`trust`) and compares each chain with them.
 */
export async function verifyLog(
  db: Queryable,
  o: { checkpointsText?: string; trust?: CheckpointTrust } = {},
): Promise<AuditReport> {
  const checked = o.checkpointsText === undefined ? undefined : checkCheckpoints(o.checkpointsText, o.trust)
  const r = await verifyAudit(db, 5000, checked?.checkpoints ?? [])
  const triggers = await repo.triggerProblems(db)
  const report: AuditReport = {
    ok: r.problems.length === 0 && triggers.length === 0,
    chains: await repo.chainCount(db),
    rows: r.rows,
    problems: r.problems,
    triggers,
  }
  if (checked) {
    const { checkpoints, ...rest } = checked
    report.checkpoints = { ...rest, used: checkpoints.length }
    if (checked.problems.length > 0 || checkpoints.length === 0) report.ok = false
  }
  return report
}

// ---- application role (PostgreSQL) -------------------------------------------------------------------------

/**
 * `kouan db grant-app-role`: run as the owner (the role that migrates), grants an existing role what the application
 * needs and no more (see migration 0010: SELECT and INSERT on the audit log, no TRUNCATE, never ownership); later
 * migrations grant it their new tables. Refuses a role holding the owner's rights.
 */
export async function grantAppRole(db: Db, role: string): Promise<{ role: string; owner: string }> {
  if (db.kind !== 'postgres')
    throw new KouanError(
      'DB_ROLES_POSTGRES_ONLY',
      422,
      'roles exist on PostgreSQL only; embedded PGlite has one user',
      { pointer: '/role' },
    )
  await db.transaction((tx) => repo.grantAppRole(tx, role))
  return { role, owner: (await repo.connectionRole(db)).role }
}
