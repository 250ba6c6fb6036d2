import { describe, expect, it } from 'vitest'
import { algorithms, ed25519, keyId } from '../../shared/signing.js'
import {
  CHECKPOINT_TYPE,
  checkCheckpoints,
  checkpointPayload,
  parseTrustedKeys,
  signCheckpoints,
} from './checkpoints.js'

const AT = '2026-05-11T01:05:00.000Z'
const hash = (c: string) => c.repeat(64)

function keyPair() {
  const k = ed25519.generate()
  return { ...k, kid: keyId(k.publicKey), alg: ed25519 }
}

/** An export as `kouan audit checkpoints export` writes it: one JSON object per line, each with its public key. */
function exportOf(key: ReturnType<typeof keyPair>, heads: Array<{ chain: number; seq: number; hash: string }>): string {
  return (
    signCheckpoints(key, heads, AT)
      .map((c) => JSON.stringify({ ...c, publicKey: key.publicKey }))
      .join('\n') + '\n'
  )
}

describe('checkpoint signatures', () => {
  it('cover the canonical JSON of chain, seq, hash, time, key and algorithm under a type of their own', () => {
    const key = keyPair()
    const [c] = signCheckpoints(key, [{ chain: 3, seq: 7, hash: hash('a') }], AT)
    expect(c).toMatchObject({ chain: 3, seq: 7, hash: hash('a'), at: AT, kid: key.kid, alg: 'Ed25519' })
    expect(checkpointPayload(c!).toString('utf8')).toBe(
      `{"alg":"Ed25519","at":"${AT}","chain":3,"hash":"${hash('a')}","kid":"${key.kid}","seq":7,"type":"${CHECKPOINT_TYPE}"}`,
    )
    expect(ed25519.verify(key.publicKey, checkpointPayload(c!), c!.signature)).toBe(true)
  })

  it('accept an export whose keys the operator pinned, by key id or by the keys file', () => {
    const key = keyPair()
    const text = exportOf(key, [
      { chain: 0, seq: 1, hash: hash('b') },
      { chain: 5, seq: 9, hash: hash('c') },
    ])
    const byKid = checkCheckpoints(text, { kids: [key.kid] })
    expect(byKid).toEqual({
      checkpoints: [
        { chain: 0, seq: 1, hash: hash('b') },
        { chain: 5, seq: 9, hash: hash('c') },
      ],
      lines: 2,
      keys: [{ kid: key.kid, alg: 'Ed25519', pinned: true, checkpoints: 2 }],
      problems: [],
    })
    const keysFile = JSON.stringify({
      items: [
        { kid: key.kid, alg: 'Ed25519', publicKey: key.publicKey, status: 'ACTIVE', activatedAt: AT, retiredAt: null },
      ],
    })
    expect(checkCheckpoints(text, { keys: parseTrustedKeys(keysFile) })).toEqual(byKid)
    // Lines without their public key verify against the pinned keys.
    const bare = text
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const { publicKey: _k, ...c } = JSON.parse(l) as Record<string, unknown>
        return JSON.stringify(c)
      })
      .join('\n')
    expect(checkCheckpoints(bare, { keys: parseTrustedKeys(keysFile) }).checkpoints).toHaveLength(2)
    expect(checkCheckpoints(bare).problems.map((p) => p.problem)).toEqual(['KEY_UNKNOWN', 'KEY_UNKNOWN'])
  })

  it("accept the file's own keys when none is pinned, and say so", () => {
    const key = keyPair()
    const r = checkCheckpoints(exportOf(key, [{ chain: 1, seq: 2, hash: hash('d') }]))
    expect(r.problems).toEqual([])
    expect(r.keys).toEqual([{ kid: key.kid, alg: 'Ed25519', pinned: false, checkpoints: 1 }])
  })

  it('refuse forged, re-signed, mislabelled and malformed lines, each with its line number', () => {
    const key = keyPair()
    const attacker = keyPair()
    const good = exportOf(key, [{ chain: 2, seq: 4, hash: hash('e') }]).trim()
    const forgedHash = good.replace(hash('e'), hash('f'))
    const resigned = exportOf(attacker, [{ chain: 2, seq: 4, hash: hash('f') }]).trim()
    const claimsKid = JSON.stringify({ ...(JSON.parse(resigned) as object), kid: key.kid })
    const swappedKey = JSON.stringify({ ...(JSON.parse(good) as object), publicKey: attacker.publicKey })
    const unknownAlg = JSON.stringify({ ...(JSON.parse(good) as object), alg: 'RSA' })
    const text = [good, forgedHash, resigned, claimsKid, swappedKey, unknownAlg, '{"chain": 1}', 'not json', ''].join(
      '\n',
    )
    const r = checkCheckpoints(text, { kids: [key.kid] })
    expect(r.checkpoints).toEqual([{ chain: 2, seq: 4, hash: hash('e') }])
    expect(r.lines).toBe(8)
    expect(r.problems.map((p) => [p.line, p.problem])).toEqual([
      [2, 'SIGNATURE_INVALID'],
      [3, 'KEY_NOT_TRUSTED'],
      [4, 'KEY_ID_MISMATCH'],
      [5, 'KEY_ID_MISMATCH'],
      [6, 'UNSUPPORTED_ALGORITHM'],
      [7, 'MALFORMED'],
      [8, 'MALFORMED'],
    ])
    // A key pinned by the keys file cannot be replaced by a line carrying another public key under its kid.
    const pinned = [
      {
        kid: key.kid,
        alg: 'Ed25519',
        publicKey: key.publicKey,
        status: 'ACTIVE' as const,
        activatedAt: AT,
        retiredAt: null,
      },
    ]
    expect(checkCheckpoints(claimsKid, { keys: pinned }).problems.map((p) => p.problem)).toEqual(['KEY_NOT_TRUSTED'])
  })

  it("verify with any registered algorithm, chosen by the line's alg", () => {
    for (const alg of Object.values(algorithms)) {
      const k = alg.generate()
      const key = { ...k, kid: keyId(k.publicKey), alg }
      const r = checkCheckpoints(exportOf(key, [{ chain: 0, seq: 3, hash: hash('1') }]), { kids: [key.kid] })
      expect(r.problems, alg.alg).toEqual([])
      expect(r.keys[0]).toMatchObject({ alg: alg.alg, pinned: true })
    }
  })

  it("read a keys file only when each kid is its public key's id", () => {
    const key = keyPair()
    const other = keyPair()
    expect(() => parseTrustedKeys('nope')).toThrow('not JSON')
    expect(() => parseTrustedKeys('{"items": [{"kid": "x"}]}')).toThrow('expected {items')
    expect(() =>
      parseTrustedKeys(
        JSON.stringify([
          {
            kid: key.kid,
            alg: 'Ed25519',
            publicKey: other.publicKey,
            status: 'RETIRED',
            activatedAt: AT,
            retiredAt: AT,
          },
        ]),
      ),
    ).toThrow(`kid ${key.kid} is not the id of its public key`)
  })
})
