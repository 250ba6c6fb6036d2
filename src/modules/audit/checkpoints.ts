import { Value } from 'typebox/value'
import { algorithmNamed, canonicalJson, keyId, type SignatureAlgorithm } from '../../shared/signing.js'
import type { TrustedCheckpoint } from '../../shared/audit.js'
import { CheckpointKeySchema, CheckpointSchema, type Checkpoint, type CheckpointKey } from './schema.js'

/** Domain separation: a checkpoint signature can never be taken for another Kouan signature (certificates, cards). */
export const CHECKPOINT_TYPE = 'kouan.audit.checkpoint/1'

/** The bytes a checkpoint's signature covers: canonical JSON of {alg, at, chain, hash, kid, seq, type}. */
export function checkpointPayload(c: Omit<Checkpoint, 'signature' | 'publicKey'>): Buffer {
  return Buffer.from(
    canonicalJson({
      type: CHECKPOINT_TYPE,
      chain: c.chain,
      seq: c.seq,
      hash: c.hash,
      at: c.at,
      kid: c.kid,
      alg: c.alg,
    }),
    'utf8',
  )
}

export interface CheckpointSigner {
  kid: string
  alg: SignatureAlgorithm
  privateKey: string
}

/** Signs the heads as of `at` (ISO 8601). */
export function signCheckpoints(
  signer: CheckpointSigner,
  heads: Array<{ chain: number; seq: number; hash: string }>,
  at: string,
): Omit<Checkpoint, 'publicKey'>[] {
  return heads.map((h) => {
    const c = { chain: h.chain, seq: h.seq, hash: h.hash, at, kid: signer.kid, alg: signer.alg.alg }
    return { ...c, signature: signer.alg.sign(signer.privateKey, checkpointPayload(c)) }
  })
}

/** Public keys the operator pins: key ids alone (their public halves then come from the lines), or whole keys. */
export interface CheckpointTrust {
  kids?: readonly string[]
  keys?: readonly Pick<CheckpointKey, 'kid' | 'alg' | 'publicKey'>[]
}

export interface CheckpointFileProblem {
  line: number
  problem:
    'MALFORMED' | 'UNSUPPORTED_ALGORITHM' | 'KEY_UNKNOWN' | 'KEY_ID_MISMATCH' | 'KEY_NOT_TRUSTED' | 'SIGNATURE_INVALID'
  message: string
}

export interface CheckedCheckpoints {
  /** Checkpoints whose signature verified under an accepted key: what the chains are compared with. */
  checkpoints: TrustedCheckpoint[]
  lines: number
  /** The keys the accepted checkpoints were signed with; `pinned` false when nothing pinned them (see ARCHITECTURE). */
  keys: Array<{ kid: string; alg: string; pinned: boolean; checkpoints: number }>
  problems: CheckpointFileProblem[]
}

/**
 * Reads an export (JSON lines) and authenticates each checkpoint: a known algorithm; a public key, pinned in
 * `trust.keys` or else carried by the line; that key's id equal to `kid`; the kid pinned when `trust` pins any; the
 * signature valid. Keys are never taken from the database, which an attacker rewriting the log would control.
 */
export function checkCheckpoints(text: string, trust: CheckpointTrust = {}): CheckedCheckpoints {
  const pinnedKeys = new Map((trust.keys ?? []).map((k) => [k.kid, k]))
  const pinnedKids = new Set([...(trust.kids ?? []), ...pinnedKeys.keys()])
  const pinning = pinnedKids.size > 0
  const out: CheckedCheckpoints = { checkpoints: [], lines: 0, keys: [], problems: [] }
  const used = new Map<string, CheckedCheckpoints['keys'][number]>()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim()
    if (raw === '') continue
    out.lines++
    const line = i + 1
    const fail = (problem: CheckpointFileProblem['problem'], message: string) => {
      out.problems.push({ line, problem, message })
    }
    let v: unknown
    try {
      v = JSON.parse(raw)
    } catch {
      fail('MALFORMED', 'not JSON')
      continue
    }
    if (!Value.Check(CheckpointSchema, v)) {
      const e = [...Value.Errors(CheckpointSchema, v)][0]
      fail('MALFORMED', `${e?.instancePath || '/'}: ${e?.message ?? 'not a checkpoint'}`)
      continue
    }
    const c = v
    const alg = algorithmNamed(c.alg)
    if (!alg) {
      fail('UNSUPPORTED_ALGORITHM', `algorithm ${c.alg} is not supported`)
      continue
    }
    const pinned = pinnedKeys.get(c.kid)
    if (pinned && (pinned.alg !== c.alg || (c.publicKey !== undefined && c.publicKey !== pinned.publicKey))) {
      fail('KEY_NOT_TRUSTED', `key ${c.kid} differs from the pinned key of that id`)
      continue
    }
    const publicKey = pinned?.publicKey ?? c.publicKey
    if (publicKey === undefined) {
      fail('KEY_UNKNOWN', `no public key for ${c.kid}: the line carries none and none is pinned`)
      continue
    }
    if (keyId(publicKey) !== c.kid) {
      fail('KEY_ID_MISMATCH', `kid ${c.kid} is not the id of the public key given`)
      continue
    }
    if (pinning && !pinnedKids.has(c.kid)) {
      fail('KEY_NOT_TRUSTED', `key ${c.kid} is not pinned`)
      continue
    }
    if (!alg.verify(publicKey, checkpointPayload(c), c.signature)) {
      fail('SIGNATURE_INVALID', `chain ${c.chain} seq ${c.seq}: the signature does not verify`)
      continue
    }
    out.checkpoints.push({ chain: c.chain, seq: c.seq, hash: c.hash })
    const k = used.get(c.kid) ?? { kid: c.kid, alg: c.alg, pinned: pinnedKids.has(c.kid), checkpoints: 0 }
    k.checkpoints++
    used.set(c.kid, k)
  }
  out.keys = [...used.values()]
  return out
}

/**
 * Reads a pinned-keys file: the JSON `kouan audit checkpoints keys` prints (`{items: [...]}`), or a bare array.
 * @throws Error saying what is wrong
 */
export function parseTrustedKeys(text: string): CheckpointKey[] {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new Error('keys file: not JSON')
  }
  const items = Array.isArray(v) ? v : (v as { items?: unknown } | null)?.items
  if (!Array.isArray(items) || !items.every((k) => Value.Check(CheckpointKeySchema, k)))
    throw new Error('keys file: expected {items: [{kid, alg, publicKey, status, activatedAt, retiredAt}]}')
  const keys = items as CheckpointKey[]
  const bad = keys.find((k) => keyId(k.publicKey) !== k.kid)
  if (bad) throw new Error(`keys file: kid ${bad.kid} is not the id of its public key`)
  return keys
}
