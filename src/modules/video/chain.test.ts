import { randomBytes } from 'node:crypto'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { chainOf, genesisHead, link, verifyChain } from './chain.js'

const TASK = '01a25000-0000-7000-8000-000000000001'
/** Flips the bits of `mask` in byte `at`. */
const flip = (b: Buffer, at: number, mask: number) => b.writeUInt8(b.readUInt8(at) ^ mask, at)
const chunks = (n: number, size = 4096) => Array.from({ length: n }, () => randomBytes(size))

describe('recording hash chain', () => {
  it('links each chunk to the one before and to its task', () => {
    const c = chunks(3)
    const links = chainOf(TASK, c)
    expect(links.map((l) => l.index)).toEqual([0, 1, 2])
    expect(links[0]).toEqual(link(genesisHead(TASK), 0, c[0]!))
    expect(links[2]).toEqual(link(links[1]!.head, 2, c[2]!))
    // The same bytes under another task, or at another index, give other heads.
    expect(chainOf('another-task', c)[0]!.head).not.toBe(links[0]!.head)
    expect(link(genesisHead(TASK), 1, c[0]!).head).not.toBe(links[0]!.head)
    expect(verifyChain(TASK, c, links, links.at(-1)!.head)).toEqual({ ok: true, chunks: 3, head: links[2]!.head })
  })

  it('flipping one byte anywhere names exactly that chunk', () => {
    const c = chunks(12, 1024)
    const recorded = chainOf(TASK, c)
    for (const at of [0, 5, 11]) {
      const tampered = c.map((b) => Buffer.from(b))
      flip(tampered[at]!, 317, 0x01)
      const v = verifyChain(TASK, tampered, recorded, recorded.at(-1)!.head)
      expect(v).toMatchObject({ ok: false, problem: 'CHUNK_ALTERED', index: at })
    }
  })

  test.prop([
    fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 20 }),
    fc.nat(),
    fc.nat(),
  ])('any single-bit change is found at its chunk', (raw, which, bit) => {
    const c = raw.map((b) => Buffer.from(b))
    const recorded = chainOf(TASK, c)
    const i = which % c.length
    const j = bit % (c[i]!.length * 8)
    const tampered = c.map((b) => Buffer.from(b))
    flip(tampered[i]!, j >> 3, 1 << (j & 7))
    expect(verifyChain(TASK, tampered, recorded)).toMatchObject({ ok: false, problem: 'CHUNK_ALTERED', index: i })
  })

  it('swapped, dropped or added chunks, and a final head that does not match', () => {
    const c = chunks(4, 256)
    const recorded = chainOf(TASK, c)
    const final = recorded.at(-1)!.head
    expect(verifyChain(TASK, [c[0]!, c[2]!, c[1]!, c[3]!], recorded, final)).toMatchObject({
      problem: 'CHUNK_ALTERED',
      index: 1,
    })
    expect(verifyChain(TASK, c.slice(0, 3), recorded, final)).toMatchObject({ problem: 'CHUNK_MISSING', index: 3 })
    expect(verifyChain(TASK, [...c, randomBytes(10)], recorded, final)).toMatchObject({
      problem: 'CHUNK_EXTRA',
      index: 4,
    })
    expect(verifyChain(TASK, c, recorded, genesisHead(TASK))).toMatchObject({ problem: 'HEAD_MISMATCH' })
    // A gap in the audited links (chunk 1's event missing) is named.
    expect(verifyChain(TASK, c, [recorded[0]!, ...recorded.slice(2)])).toMatchObject({
      problem: 'CHUNK_MISSING',
      index: 1,
    })
    expect(() => link(genesisHead(TASK), -1, c[0]!)).toThrow(RangeError)
  })
})
