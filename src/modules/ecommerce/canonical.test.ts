import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { cebExample } from '../../../test/factories.js'
import { canonicalJson } from '../../shared/signing.js'
import { seededRandom } from '../../shared/clock.js'
import { baseTransferFor, generateTicket, ticketDocuments, toMessageXml } from './generator.js'
import { messageCanonicalJson } from './keys.js'
import { parseCebXml } from './xml.js'
import type { CebMessageType } from './types.js'

const parties = {
  ebp: '4601000EBP',
  ebc: '4601000EBC',
  pay: '4601000PAY',
  logistics: '4601000LOG',
  agent: '4601000AGT',
  area: '4601000WHS',
}

describe('messageCanonicalJson', () => {
  it('equals the canonical JSON of each example message', () => {
    for (const n of [311, 411, 511, 621]) {
      const r = parseCebXml(cebExample(n))
      if (!r.ok) throw new Error(JSON.stringify(r.problems))
      expect(
        messageCanonicalJson(
          r.message,
          r.message.documents.map((d) => canonicalJson(d)),
        ),
      ).toBe(canonicalJson(r.message))
    }
  })

  test.prop(
    [
      fc.integer({ min: 1, max: 2 ** 31 }),
      fc.integer({ min: 1, max: 12 }),
      fc.constantFrom<CebMessageType>('CEB311', 'CEB411', 'CEB511', 'CEB621'),
      fc.string(),
    ],
    { numRuns: 40 },
  )('equals the canonical JSON of generated messages, whatever the sender names itself', (seed, n, type, copName) => {
    const rng = seededRandom(seed)
    const docs = Array.from(
      { length: n },
      (_, index) =>
        ticketDocuments(generateTicket(rng, { index, parties, prefix: 'P', mode: '1210', defect: null }))[type],
    )
    const r = parseCebXml(
      toMessageXml(
        type,
        docs,
        baseTransferFor(parties.ebp, `"documents":[] ${copName}`.slice(0, 100).replace(/[^\x21-\x7e]/g, '_')),
      ),
    )
    if (!r.ok) throw new Error(JSON.stringify(r.problems.slice(0, 3)))
    expect(
      messageCanonicalJson(
        r.message,
        r.message.documents.map((d) => canonicalJson(d)),
      ),
    ).toBe(canonicalJson(r.message))
  })
})
