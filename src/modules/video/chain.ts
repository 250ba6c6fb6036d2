/**
 * The tamper-evident chain over a video inspection's recording (issue 15). The enterprise's browser uploads the
 * recording in chunks during the call; each chunk's SHA-256 is chained to everything before it:
 *
 *   head(-1) = SHA-256("kouan-video-v1\n" + taskId)
 *   head(i)  = SHA-256(head(i-1) ‖ uint32be(i) ‖ SHA-256(chunk i))
 *
 * Every stored chunk's digest and head go to the audit log (itself hash-chained), and so does the final head when the
 * recording closes. Checking a recording recomputes the chain from its bytes and compares it with the audited values:
 * the first chunk whose digest differs is the one altered (or swapped); a chain that is shorter or longer than the
 * audited one is reported as such. Pure functions: no I/O.
 */
import { createHash } from 'node:crypto'

export const CHAIN_VERSION = 'kouan-video-v1'

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}

/** The head before the first chunk: binds the chain to its task. */
export function genesisHead(taskId: string): string {
  return sha256(Buffer.from(`${CHAIN_VERSION}\n${taskId}`, 'utf8')).toString('hex')
}

/** One link: the chunk's own digest and the head after it. */
export interface ChainLink {
  index: number
  /** SHA-256 of the chunk's bytes, hex. */
  digest: string
  /** Chain head after this chunk, hex. */
  head: string
}

/** The link of chunk `index` after `prevHead`. */
export function link(prevHead: string, index: number, chunk: Uint8Array): ChainLink {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) throw new RangeError(`chunk index ${index}`)
  const digest = sha256(chunk)
  const n = Buffer.alloc(4)
  n.writeUInt32BE(index)
  const head = sha256(Buffer.from(prevHead, 'hex'), n, digest).toString('hex')
  return { index, digest: digest.toString('hex'), head }
}

/** The links of a whole recording, in order. */
export function chainOf(taskId: string, chunks: Iterable<Uint8Array>): ChainLink[] {
  const out: ChainLink[] = []
  let head = genesisHead(taskId)
  let i = 0
  for (const c of chunks) {
    const l = link(head, i++, c)
    out.push(l)
    head = l.head
  }
  return out
}

export type ChainVerdict =
  | { ok: true; chunks: number; head: string }
  | {
      ok: false
      problem: 'CHUNK_ALTERED' | 'CHUNK_MISSING' | 'CHUNK_EXTRA' | 'HEAD_MISMATCH'
      /** The first chunk at fault (for CHUNK_MISSING: the first index the recording lacks). */
      index: number
      message: string
    }

/**
 * Compares a recording's chain with the audited links (`recorded`, in index order) and, when given, the audited
 * final head. Names the first chunk that differs.
 */
export function verifyChain(
  taskId: string,
  chunks: readonly Uint8Array[],
  recorded: readonly Pick<ChainLink, 'index' | 'digest' | 'head'>[],
  finalHead?: string,
): ChainVerdict {
  const actual = chainOf(taskId, chunks)
  const n = Math.min(actual.length, recorded.length)
  for (let i = 0; i < n; i++) {
    const a = actual[i]!
    const r = recorded[i]!
    if (r.index !== i)
      return { ok: false, problem: 'CHUNK_MISSING', index: i, message: `the audit log has no chunk ${i}` }
    if (a.digest !== r.digest || a.head !== r.head)
      return {
        ok: false,
        problem: 'CHUNK_ALTERED',
        index: i,
        message: `chunk ${i} differs from the one recorded (SHA-256 ${a.digest.slice(0, 12)}… ≠ ${r.digest.slice(0, 12)}…)`,
      }
  }
  if (actual.length < recorded.length)
    return {
      ok: false,
      problem: 'CHUNK_MISSING',
      index: actual.length,
      message: `the recording stops after ${actual.length} chunks; ${recorded.length} were recorded`,
    }
  if (actual.length > recorded.length)
    return {
      ok: false,
      problem: 'CHUNK_EXTRA',
      index: recorded.length,
      message: `the recording has ${actual.length - recorded.length} chunk(s) the audit log does not`,
    }
  const head = actual.at(-1)?.head ?? genesisHead(taskId)
  if (finalHead !== undefined && finalHead !== head)
    return {
      ok: false,
      problem: 'HEAD_MISMATCH',
      index: actual.length,
      message: 'the final head recorded when the recording closed differs from the chain of its chunks',
    }
  return { ok: true, chunks: actual.length, head }
}
