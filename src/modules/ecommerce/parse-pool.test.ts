import { afterAll, describe, expect, it } from 'vitest'
import { cebExample } from '../../../test/factories.js'
import { canonicalJson } from '../../shared/signing.js'
import { cebParser } from './parse-pool.js'
import { parseCebXml } from './xml.js'

describe('CEB parse pool', () => {
  const threaded = cebParser(2)
  const inline = cebParser(0)
  afterAll(() => threaded.close())

  it('gives on worker threads what parsing on this thread gives, with each document in canonical form', async () => {
    const xmls = [311, 411, 511, 621].map((n) => Buffer.from(cebExample(n)))
    const results = await Promise.all(xmls.map((x) => threaded.parse(x)))
    for (const [i, r] of results.entries()) {
      const direct = parseCebXml(xmls[i]!)
      if (!r.ok || !direct.ok) throw new Error('example did not parse')
      expect(r.message).toEqual(direct.message)
      expect(r.canonical).toEqual(direct.message.documents.map((d) => canonicalJson(d)))
      expect(await inline.parse(xmls[i]!)).toEqual(r)
    }
    expect(threaded.threads).toBe(2)
  })

  it('returns format problems from the worker, and the body stays readable for the CEB900 answer', async () => {
    const body = Buffer.from('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    const r = await threaded.parse(body)
    expect(r).toEqual({
      ok: false,
      problems: [
        expect.objectContaining({
          code: 'FORMAT',
          pointer: '/',
          message: expect.stringMatching(/^DTDs are not allowed/),
        }),
      ],
    })
    expect(body.toString()).toContain('<!DOCTYPE')
  })
})
