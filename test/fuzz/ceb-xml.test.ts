/**
 * Property-based fuzzing of CEB XML intake: generated CEB311/411/511/621 messages (the ecommerce generator), mutated
 * as text or bytes (truncated, DTDs and entities, deep nesting, characters XML forbids, NUL, lone surrogates raw and
 * as character references, bytes that are not UTF-8, wrong namespaces and roots, huge and nasty values, markup in
 * values), posted signed by their sender, unsigned, with a forged signature or by another enterprise. Properties:
 * never a 5xx, an answer within the time bound, a refusal is a CEB900 message (or the JSON error shape when the
 * body never reached the CEB route), and a refused message writes no rows.
 *
 * Seeded: KOUAN_FUZZ_SEED, KOUAN_FUZZ_XML_RUNS; a failure names the seed and fast-check's path, which
 * KOUAN_FUZZ_PATH=<path> replays. KOUAN_FUZZ_STATS=1 prints what the runs reached (status, receipt status, mutation).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { fc } from '@fast-check/vitest'
import { useTestApp } from '../app.js'
import { seededRandom } from '../../src/shared/clock.js'
import { generateTicket, type GeneratedTicket } from '../../src/modules/ecommerce/generator.js'
import { CEB_NAMESPACE, SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from '../../src/modules/ecommerce/xml.js'
import type { CebMessageType } from '../../src/modules/ecommerce/types.js'
import type { CebParty } from '../factories.js'
import { CEB_DATE, buildCebWorld, cebMessage, cebPartiesOf } from '../authz/world.js'
import { NASTY_STRINGS } from './arbitraries.js'
import {
  brief,
  changedTables,
  countAll,
  errorShapeProblems,
  tableCounter,
  within,
  type TableCounts,
} from './witness.js'

const SEED = Number(process.env.KOUAN_FUZZ_SEED ?? 20260511)
const RUNS = Number(process.env.KOUAN_FUZZ_XML_RUNS ?? 150)
const ANSWER_MS = 15_000

type Parties = Awaited<ReturnType<typeof buildCebWorld>>['ceb']
const TYPES: CebMessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621']
const SENDER: Record<CebMessageType, 'A' | 'Y' | 'L' | 'G'> = { CEB311: 'A', CEB411: 'Y', CEB511: 'L', CEB621: 'G' }

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Positions of the text values of leaf elements (`>value</`). */
function values(xml: string): Array<{ start: number; end: number }> {
  return [...xml.matchAll(/>([^<>]+)<\//g)].map((m) => ({ start: m.index! + 1, end: m.index! + 1 + m[1]!.length }))
}
const replaceValue = (xml: string, n: number, text: string) => {
  const vs = values(xml)
  const v = vs[n % vs.length]!
  return xml.slice(0, v.start) + text + xml.slice(v.end)
}
const afterDeclaration = (xml: string, insert: string) => xml.replace(/^(<\?xml[^>]*\?>)/, `$1${insert}`)

interface Mutated {
  how: string
  body: Buffer
}
type Mutator = (xml: string) => Mutated
const text = (how: string, xml: string): Mutated => ({ how, body: Buffer.from(xml, 'utf8') })

const DTDS = [
  '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
  '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
  '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]>',
  '<!DOCTYPE x SYSTEM "http://127.0.0.1:1/x.dtd">',
  '<!DOCTYPE x>',
]
const REFS = [
  '&e;',
  '&d;',
  '&#0;',
  '&#xD800;',
  '&#xDFFF;',
  '&#xFFFE;',
  '&#x110000;',
  '&#99999999999;',
  '&#x1F600;',
  '&lt;',
  '&amp;amp;',
  '&',
  '&#;',
  '&#x;',
]
const BAD_CHARS = ['\u0000', '\u0001', '\u000B', '\u001F', '\uFFFE', '\uFFFF', '\ud800', '\udfff', '\ud83d']
const BAD_BYTES = [[0xc3], [0xed, 0xa0, 0x80], [0xff], [0xfe, 0xff], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0x00]]

const mutators: fc.Arbitrary<Mutator> = fc.oneof(
  fc.constant<Mutator>((xml) => text('unchanged', xml)),
  fc
    .double({ min: 0, max: 1, noNaN: true })
    .map<Mutator>(
      (f) => (xml) => text(`truncated at ${Math.floor(f * xml.length)}`, xml.slice(0, Math.floor(f * xml.length))),
    ),
  fc.tuple(fc.constantFrom(...DTDS), fc.nat(), fc.boolean()).map<Mutator>(
    ([dtd, n, ref]) =>
      (xml) =>
        text(
          `DTD ${dtd.slice(0, 40)}${ref ? ' with &e;' : ''}`,
          afterDeclaration(ref ? replaceValue(xml, n, '&e;&d;') : xml, dtd),
        ),
  ),
  fc.tuple(fc.constantFrom(...REFS), fc.nat()).map<Mutator>(
    ([ref, n]) =>
      (xml) =>
        text(`reference ${ref} in value ${n}`, replaceValue(xml, n, `x${ref}y`)),
  ),
  fc.tuple(fc.constantFrom(...BAD_CHARS), fc.nat()).map<Mutator>(
    ([c, n]) =>
      (xml) =>
        text(`U+${c.charCodeAt(0).toString(16)} in value ${n}`, replaceValue(xml, n, `a${c}b`)),
  ),
  fc
    .tuple(fc.constantFrom(...BAD_BYTES), fc.double({ min: 0, max: 1, noNaN: true }))
    .map<Mutator>(([bytes, f]) => (xml) => {
      const b = Buffer.from(xml, 'utf8')
      const at = Math.floor(f * b.length)
      return {
        how: `bytes ${bytes.map((x) => x.toString(16)).join(' ')} at ${at}`,
        body: Buffer.concat([b.subarray(0, at), Buffer.from(bytes), b.subarray(at)]),
      }
    }),
  fc.tuple(fc.constantFrom(...BAD_BYTES), fc.nat()).map<Mutator>(([bytes, n]) => (xml) => {
    const marked = replaceValue(xml, n, 'a\u0001MARK\u0001b')
    const [before, after] = marked.split('\u0001MARK\u0001') as [string, string]
    return {
      how: `bytes ${bytes.map((x) => x.toString(16)).join(' ')} in value ${n}`,
      body: Buffer.concat([Buffer.from(before, 'utf8'), Buffer.from(bytes), Buffer.from(after, 'utf8')]),
    }
  }),
  fc.tuple(fc.constantFrom(100, 5_000, 200_000), fc.nat()).map<Mutator>(
    ([depth, n]) =>
      (xml) =>
        text(
          `nesting ${depth} deep in value ${n}`,
          replaceValue(xml, n, '<ceb:x>'.repeat(depth) + 'v' + '</ceb:x>'.repeat(depth)),
        ),
  ),
  fc.constantFrom<Mutator>(
    (xml) => text('namespace changed', xml.replace(CEB_NAMESPACE, 'http://www.chinaport.gov.cn/ceb/evil')),
    (xml) => text('namespace removed', xml.replace(` xmlns:ceb="${CEB_NAMESPACE}"`, '')),
    (xml) => text('default namespace, no prefix', xml.replace(/ceb:/g, '').replace('xmlns:ceb=', 'xmlns=')),
    (xml) =>
      text(
        'prefix undeclared on one element',
        xml.replace('<ceb:BaseTransfer>', '<evil:BaseTransfer>').replace('</ceb:BaseTransfer>', '</evil:BaseTransfer>'),
      ),
    (xml) =>
      text(
        'root of another message type',
        xml.replace(/CEB(311|411|511|621)Message/g, (_m, n: string) => `CEB${n === '311' ? '411' : '311'}Message`),
      ),
    (xml) => text('root CEB900', xml.replace(/CEB(311|411|511|621)Message/g, 'CEB900Message')),
    (xml) => text('byte order mark', '\ufeff' + xml),
    (xml) => text('encoding UTF-16 declared', xml.replace('encoding="UTF-8"', 'encoding="UTF-16"')),
    (xml) => text('encoding GBK declared', xml.replace('encoding="UTF-8"', 'encoding="GBK"')),
    (xml) => text('no XML declaration', xml.replace(/^<\?xml[^>]*\?>\s*/, '')),
    (xml) =>
      text('processing instruction', afterDeclaration(xml, '<?xml-stylesheet href="http://127.0.0.1:1/x.xsl"?>')),
    (xml) =>
      text(
        'xsi attributes',
        xml.replace(
          /(<ceb:CEB\d+Message)/,
          '$1 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://127.0.0.1:1/x.xsd"',
        ),
      ),
    (xml) => text('guid attribute with a NUL reference', xml.replace(/guid="[^"]*"/, 'guid="&#0;"')),
    (xml) => text('guid attribute with a control character', xml.replace(/guid="[^"]*"/, 'guid="\u0001"')),
    (xml) => text('guid attribute very long', xml.replace(/guid="[^"]*"/, `guid="${'G'.repeat(5000)}"`)),
    (xml) => text('root element twice', xml + xml.replace(/^<\?xml[^>]*\?>/, '')),
    (xml) =>
      text('documents duplicated', xml.replace(/(<ceb:(Order|Payment|Logistics|Inventory)>[\s\S]*<\/ceb:\2>)/, '$1$1')),
    (xml) => text('no documents', xml.replace(/<ceb:(Order|Payment|Logistics|Inventory)>[\s\S]*<\/ceb:\1>/, '')),
    (xml) => text('BaseTransfer removed', xml.replace(/<ceb:BaseTransfer>[\s\S]*<\/ceb:BaseTransfer>/, '')),
    (xml) => text('comment and CDATA in values', xml.replace(/>([^<>]+)<\//g, '><!-- c -->$1<![CDATA[]]></')),
    () => text('empty', ''),
  ),
  fc.tuple(fc.constantFrom(...NASTY_STRINGS), fc.nat()).map<Mutator>(
    ([s, n]) =>
      (xml) =>
        text(`value ${n} = ${JSON.stringify(s.slice(0, 30))}`, replaceValue(xml, n, escapeXml(s))),
  ),
  fc.tuple(fc.constantFrom(1_000, 100_000, 2_000_000), fc.nat()).map<Mutator>(
    ([len, n]) =>
      (xml) =>
        text(`value ${n} of ${len} characters`, replaceValue(xml, n, '9'.repeat(len))),
  ),
  fc.tuple(fc.nat(), fc.nat()).map<Mutator>(([a, b]) => (xml) => {
    const vs = values(xml)
    const x = vs[a % vs.length]!,
      y = vs[b % vs.length]!
    return text(
      `value ${a} swapped with ${b}`,
      replaceValue(replaceValue(xml, b, xml.slice(x.start, x.end)), a, xml.slice(y.start, y.end)),
    )
  }),
)

type Signing = 'signed' | 'unsigned' | 'forged' | 'by B' | 'malformed header'

describe('fuzzing CEB XML intake', () => {
  // A body limit above the CEB parser's own (10 MB), so the parser's size and document limits are reached too.
  const t = useTestApp({ bodyLimit: 16 * 1024 * 1024 })
  let ceb: Parties
  let counter: TableCounts

  beforeAll(async () => {
    ;({ ceb } = await buildCebWorld(t))
    counter = await tableCounter(t.db)
  })

  const ticket = (index: number): GeneratedTicket =>
    generateTicket(seededRandom(index), { index, parties: cebPartiesOf(ceb, 'A'), prefix: 'FZ', date: CEB_DATE })

  /** The session and signature header of a post; a message that does not parse gets its sender's signature over nothing. */
  function headersFor(body: Buffer, sender: CebParty, signing: Signing): Record<string, string> {
    const party = signing === 'by B' ? ceb.B : sender
    const base = { ...party.headers, 'content-type': 'application/xml' }
    if (signing === 'unsigned') return base
    if (signing === 'malformed header') return { ...base, [SIGNATURE_HEADER]: `${party.cardNo};Ed25519` }
    const parsed = parseCebXml(body)
    const sig =
      parsed.ok && signing !== 'forged'
        ? xmlSignatureHeader(party.cardNo, party.privateKey, parsed.message)
        : `${party.cardNo};Ed25519;${Buffer.alloc(64, 7).toString('base64url')}`
    return { ...base, [SIGNATURE_HEADER]: sig }
  }

  /** Answers by status (and receipt status for 200), printed with KOUAN_FUZZ_STATS=1: what the runs reached. */
  const stats = new Map<string, number>()
  let last = { status: 0, body: '' }
  async function post(body: Buffer, headers: Record<string, string>, how = ''): Promise<string[]> {
    const before = await countAll(t.db, counter)
    const res = await within(
      ANSWER_MS,
      'POST /api/v1/ceb/messages',
      t.app.inject({ method: 'POST', url: '/api/v1/ceb/messages', headers, payload: body }),
    )
    last = { status: res.statusCode, body: res.body }
    const outcome =
      res.statusCode === 200
        ? `200/${(res.json().receipts as Array<{ returnStatus: number }>).map((r) => r.returnStatus).join(',')}`
        : String(res.statusCode)
    const kind = how.replace(/\d+/g, 'n').slice(0, 40)
    stats.set(`${outcome} ${kind}`, (stats.get(`${outcome} ${kind}`) ?? 0) + 1)
    const problems: string[] = []
    if (res.statusCode >= 500) problems.push(`answered ${res.statusCode} ${brief(res.body, 300)}`)
    else if (res.statusCode >= 400) {
      if (/xml/.test(String(res.headers['content-type']))) {
        if (
          !/<ceb:CEB900Message\b/.test(res.body) ||
          !/<ceb:returnStatus>-1<\/ceb:returnStatus>/.test(res.body) ||
          !/<ceb:returnInfo>[^<]+<\/ceb:returnInfo>/.test(res.body)
        ) {
          problems.push(`refusal is not a CEB900 message: ${brief(res.body)}`)
        } else if (!parseCebXmlLike(res.body)) problems.push(`CEB900 is not well-formed: ${brief(res.body)}`)
      } else {
        let json: unknown
        try {
          json = JSON.parse(res.body)
        } catch {
          json = undefined
        }
        problems.push(...errorShapeProblems(res.statusCode, json).map((p) => `error shape: ${p}`))
      }
      problems.push(
        ...changedTables(before, await countAll(t.db, counter)).map(
          (c) => `refused (${res.statusCode}) but wrote ${c}`,
        ),
      )
    } else if (res.statusCode === 200 && !Array.isArray(res.json().receipts))
      problems.push(`200 without receipts: ${brief(res.body)}`)
    return problems
  }

  it('answers every mutated message without a 5xx, in time, with a CEB900 refusal, writing no rows when it refuses', async () => {
    const property = fc.asyncProperty(
      fc.constantFrom(...TYPES),
      fc.integer({ min: 1, max: 1_000_000 }),
      mutators,
      fc.constantFrom<Signing>('signed', 'signed', 'signed', 'forged', 'by B', 'unsigned', 'malformed header'),
      async (type, index, mutate, signing) => {
        const sender = ceb[SENDER[type]]
        const { xml } = cebMessage(type, ticket(index), sender)
        const m = mutate(xml)
        const problems = await post(m.body, headersFor(m.body, sender, signing), `${signing}, ${m.how}`)
        if (problems.length)
          throw new Error(
            `${problems.join('; ')} — ${type} #${index}, ${m.how}, ${signing}: ${brief(m.body.toString('utf8'))}`,
          )
      },
    )
    const replay = process.env.KOUAN_FUZZ_PATH
    const r = await fc.check(property, {
      seed: SEED,
      numRuns: RUNS,
      interruptAfterTimeLimit: 240_000,
      ...(replay ? { path: replay } : {}),
    })
    if (process.env.KOUAN_FUZZ_STATS)
      console.info(
        [...stats]
          .sort()
          .map(([k, n]) => `${String(n).padStart(4)} ${k}`)
          .join('\n'),
      )
    const err = r.failed ? (r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance)) : ''
    expect(r.failed, `seed ${r.seed}, path "${r.counterexamplePath}", ${r.numShrinks} shrinks: ${err}`).toBe(false)
  }, 600_000)

  it('refuses bodies over the size limits, too many documents and an exponential entity without a 5xx or rows', async () => {
    const { xml } = cebMessage('CEB311', ticket(7), ceb.A)
    const doc = /<ceb:Order>[\s\S]*<\/ceb:Order>/.exec(xml)![0]
    const cases: Array<[string, Buffer]> = [
      [
        '17 MB body (over the HTTP body limit)',
        Buffer.from(xml.replace('</ceb:Order>', `</ceb:Order><!--${'x'.repeat(17 * 1024 * 1024)}-->`), 'utf8'),
      ],
      [
        '11 MB message (over the CEB size limit)',
        Buffer.from(xml.replace('</ceb:Order>', `</ceb:Order><!--${'x'.repeat(11 * 1024 * 1024)}-->`), 'utf8'),
      ],
      ['5,001 documents', Buffer.from(xml.replace(doc, doc.repeat(5_001)), 'utf8')],
      ['billion laughs', Buffer.from(afterDeclaration(replaceValue(xml, 3, '&d;'), DTDS[1]!), 'utf8')],
    ]
    // Each reaches the limit it is about: HTTP's body limit, then the parser's size, document-count and DTD refusals.
    const reason: Record<string, RegExp> = {
      '17 MB body (over the HTTP body limit)': /BODY_TOO_LARGE/,
      '11 MB message (over the CEB size limit)': /bytes|large|size/i,
      '5,001 documents': /5000|documents/,
      'billion laughs': /DTD|DOCTYPE|entit/i,
    }
    for (const [name, body] of cases) {
      for (const signing of ['signed', 'unsigned'] as const) {
        const problems = await post(body, headersFor(body, ceb.A, signing), name)
        expect(problems, `${name}, ${signing}`).toEqual([])
        if (signing === 'signed') expect(last.body, name).toMatch(reason[name]!)
      }
    }
  }, 300_000)
})

/** A CEB900 answer is itself well-formed XML: it parses (as a document; it is not an intake message). */
function parseCebXmlLike(xml: string): boolean {
  const r = parseCebXml(xml)
  // Not a CEB311–621 message, so the parser refuses it — but for its root, never for its well-formedness.
  return r.ok || !r.problems.some((p) => /not well-formed|not allowed in XML/.test(p.message))
}
