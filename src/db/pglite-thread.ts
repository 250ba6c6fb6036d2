/**
 * The embedded database on a thread of its own. PGlite is PostgreSQL compiled to WASM: every statement runs
 * synchronously on the thread that calls it. On the main thread that is the thread that also serves HTTP, so while
 * the database works nothing else does (measured in issue 11: 57 % of the main thread under intake load). Here it
 * runs in a worker; the main thread sends statements and gets rows back ({@link ./index.ts}, `pgliteOnThread`).
 *
 * Protocol (one message per request, one reply per message, matched by `id`):
 * - `query` / `exec` run a statement, inside transaction `tx` if given;
 * - `begin` opens a transaction (PGlite's own, so it holds the database as on the main thread) and answers its
 *   number once it holds the database; `end` commits or rolls it back;
 * - `maintain` runs the autovacuum rule now (it also runs every `maintainMs`), `dump` returns the data directory as
 *   a tarball, `close` closes the database.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { PGlite, Transaction } from '@electric-sql/pglite'
import { createPglite, PARAMS, pgliteUpkeep } from './pglite.js'

export type Request =
  | { id: number; op: 'query'; sql: string; params?: unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'maintain' | 'dump' | 'close' }

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ErrorFields }

/** What an error keeps across the thread boundary: PostgreSQL's fields (`code` is the SQLSTATE). */
export type ErrorFields = { message: string; name?: string; [field: string]: unknown }

export interface ThreadData {
  dataDir?: string
  /** A data directory tarball to start from (tests load a migrated copy). */
  load?: ArrayBuffer
  maintainMs: number
}

const PG_FIELDS = [
  'code',
  'severity',
  'detail',
  'hint',
  'position',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'routine',
]

export function errorFields(err: unknown): ErrorFields {
  if (!(err instanceof Error)) return { message: String(err) }
  const out: ErrorFields = { message: err.message, name: err.name }
  for (const f of PG_FIELDS) {
    const v = (err as unknown as Record<string, unknown>)[f]
    if (v !== undefined) out[f] = v
  }
  return out
}

async function main() {
  const port = parentPort
  if (!port) throw new Error('pglite-thread runs as a worker thread')
  const data = workerData as ThreadData
  let pg: PGlite
  try {
    pg = await createPglite(data.dataDir, data.load ? new Blob([data.load]) : undefined)
  } catch (err) {
    port.postMessage({ id: 0, ok: false, error: errorFields(err) } satisfies Reply)
    return
  }

  const upkeep = pgliteUpkeep(pg, data.maintainMs)

  // Open transactions: PGlite's transaction callback waits here for the `end` message.
  let nextTx = 1
  const open = new Map<number, { t: Transaction; end: (m: { id: number; commit: boolean }) => void }>()
  const txOf = (n: number | undefined) => {
    if (n === undefined) return pg
    const h = open.get(n)
    if (!h) throw new Error(`transaction ${n} is not open`)
    return h.t
  }

  const reply = (m: Reply) => port.postMessage(m)
  const answer = (id: number, work: () => Promise<unknown>) => {
    work().then(
      (value) => reply({ id, ok: true, value }),
      (err) => reply({ id, ok: false, error: errorFields(err) }),
    )
  }

  port.on('message', (m: Request) => {
    switch (m.op) {
      case 'query':
        return answer(m.id, async () => (await txOf(m.tx).query(m.sql, m.params, PARAMS)).rows)
      case 'exec':
        return answer(m.id, async () => {
          await txOf(m.tx).exec(m.sql)
        })
      case 'begin': {
        const tx = nextTx++
        let endId: number | undefined
        pg.transaction(async (t) => {
          const end = await new Promise<{ id: number; commit: boolean }>((resolve) => {
            open.set(tx, { t, end: resolve })
            reply({ id: m.id, ok: true, value: tx })
          })
          open.delete(tx)
          endId = end.id
          if (!end.commit) await t.rollback()
        }).then(
          () => reply({ id: endId!, ok: true, value: null }),
          // Before the transaction began (BEGIN failed) the error is the begin's; after, the end's (COMMIT failed).
          (err) => reply({ id: endId ?? m.id, ok: false, error: errorFields(err) }),
        )
        return
      }
      case 'end': {
        const h = open.get(m.tx)
        if (!h) return reply({ id: m.id, ok: false, error: { message: `transaction ${m.tx} is not open` } })
        h.end(m)
        return
      }
      case 'maintain':
        return answer(m.id, () => upkeep.now())
      case 'dump':
        return answer(m.id, async () => (await pg.dumpDataDir('none')).arrayBuffer())
      case 'close':
        return answer(m.id, async () => {
          await upkeep.stop()
          await pg.close()
          setImmediate(() => port.close())
        })
    }
  })
  reply({ id: 0, ok: true, value: 'ready' })
}

await main()
