/**
 * Property-based fuzzing of every JSON request body the OpenAPI document describes (and the JSON form of CEB
 * messages, which shares its route with XML and so has no body schema there). Each operation gets any JSON
 * values, values shaped by its schema, its valid body with one field mutated (re-signed where a signature would
 * otherwise stop it first) and malformed JSON text, sent with a session of a role the matrix allows (or of the
 * party that may act where no matrix role may: the declarant D accepting and declining A's entrustments). Properties:
 * never a 5xx, an answer within the time bound, the common error shape on 4xx, and no rows written when refused.
 *
 * Seeded: KOUAN_FUZZ_SEED (default below; each operation's seed is derived from it and the operation's key, so
 * adding a route changes no other operation's inputs) and KOUAN_FUZZ_RUNS (runs per operation). A failure names the
 * operation, its seed, fast-check's path and the shrunk input; KOUAN_FUZZ_OP=<key> KOUAN_FUZZ_PATH=<path> replays it.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { fc } from '@fast-check/vitest'
import { useTestApp } from '../app.js'
import { signedBody } from '../factories.js'
import { signPayload } from '../../src/shared/signing.js'
import { parseCebXml } from '../../src/modules/ecommerce/xml.js'
import { EXPECTED } from '../authz/matrix.js'
import { operations, type JsonSchema, type Operation } from '../authz/openapi.js'
import { requestFor, signAsA } from '../authz/requests.js'
import { buildWorld, type Role, type World } from '../authz/world.js'
import { Raw, anyJson, fromSchema, mutated, rawBodies, serialise, setAt, stringPaths } from './arbitraries.js'
import {
  MAY_WRITE_ON_REFUSAL,
  brief,
  changedTables,
  countAll,
  errorShapeProblems,
  tableCounter,
  within,
  type TableCounts,
} from './witness.js'

const SEED = Number(process.env.KOUAN_FUZZ_SEED ?? 20260511)
const RUNS = Number(process.env.KOUAN_FUZZ_RUNS ?? 30)
const ANSWER_MS = 15_000
const ONLY = process.env.KOUAN_FUZZ_OP
const REPLAY = process.env.KOUAN_FUZZ_PATH

/** The seed of one operation: KOUAN_FUZZ_SEED mixed with its key (FNV-1a). */
function seedFor(key: string): number {
  let h = 0x811c9dc5
  for (const c of key) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193)
  return (h ^ SEED) >>> 0
}

/** The JSON envelope of a CEB message (the route checks it by hand: XML bodies share the route). */
const CEB_JSON_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['type', 'message', 'signature'],
  additionalProperties: false,
  properties: {
    type: { enum: ['CEB311', 'CEB411', 'CEB511', 'CEB621'] },
    message: { type: 'object' },
    signature: {
      type: 'object',
      required: ['cardNo', 'alg', 'value'],
      properties: {
        cardNo: { type: 'string', maxLength: 32 },
        alg: { const: 'Ed25519' },
        value: { type: 'string', maxLength: 200 },
      },
    },
  },
}

interface Target {
  op: Operation
  schema: JsonSchema
  /** Who sends it, for the messages: the role, or a party outside the matrix's roles (D, the declarant). */
  who: string
  /** The sender's session headers. */
  headers: Record<string, string>
  url: string
  /** A valid body (from the matrix's requests), when there is one. */
  base?: unknown
  /** Signs a body the way its sender would, so a mutation reaches the checks behind the signature. */
  sign?: (body: unknown) => unknown
}

/** The first role the matrix lets past the role check (anonymous for public operations); admin without a row. */
function roleFor(key: string): Role {
  const row = EXPECTED[key]
  if (!row) return 'admin'
  return (['anon', 'opA', 'officer', 'admin'] as const).find((r) => row[r] !== 401 && row[r] !== 403) ?? 'admin'
}

/**
 * Operations no matrix role may pass (the row refuses them all) but a party outside the roles may: the declarant D
 * accepts and declines A's entrustments. Fuzzed as D's operator on a fresh proposal, so the checks behind the role
 * (the signed acceptance, the state) are reached.
 */
const AS_DECLARANT: Record<
  string,
  (w: World) => Promise<{ url: string; base: unknown; sign?: (b: Record<string, unknown>) => unknown }>
> = {
  'POST /api/v1/entrustments/{id}/accept': async (w) => {
    const e = await w.fresh.entrustment()
    return {
      url: `/api/v1/entrustments/${e.id}/accept`,
      base: w.fresh.acceptance(e),
      sign: (b) => {
        const { signature: _s, ...acceptance } = b
        return signedBody(w.D, acceptance)
      },
    }
  },
  'POST /api/v1/entrustments/{id}/decline': async (w) => ({
    url: `/api/v1/entrustments/${(await w.fresh.entrustment()).id}/decline`,
    base: { reason: 'fuzzed' },
  }),
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw)
const tryJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Signing content the canonical-JSON signer cannot take (e.g. a spliced 1e999) leaves the body as it is. */
function trySign(body: unknown, sign: (b: Record<string, unknown>) => unknown): unknown {
  if (!isPlainObject(body)) return body
  try {
    return sign(body)
  } catch {
    return body
  }
}

describe('fuzzing JSON bodies', () => {
  const t = useTestApp()
  let w: World
  let counter: TableCounts
  const targets: Target[] = []
  const skipped: string[] = []

  beforeAll(async () => {
    w = await buildWorld(t)
    counter = await tableCounter(t.db)
    const ops = await operations(t.app)
    for (const op of ops.filter((o) => o.jsonBody)) {
      const asD = AS_DECLARANT[op.key]
      if (asD) {
        const { url, base, sign } = await asD(w)
        targets.push({
          op,
          schema: op.jsonBody!,
          who: 'opD',
          headers: w.D.headers,
          url,
          base,
          ...(sign ? { sign: (b: unknown) => trySign(b, sign) } : {}),
        })
        continue
      }
      const role = roleFor(op.key)
      const call = (await requestFor(op, w, role)) ?? (op.path.includes('{') ? undefined : { url: op.path })
      if (!call) {
        skipped.push(op.key)
        continue
      }
      const target: Target = {
        op,
        schema: op.jsonBody!,
        who: role,
        headers: { ...w.headers[role], ...(call.headers ?? {}) },
        url: call.url,
        ...(call.body !== undefined ? { base: call.body } : {}),
      }
      const withoutSignature = (b: Record<string, unknown>) => {
        const { signature: _s, ...content } = b
        return signAsA(w, content)
      }
      // Signed by a card of A over the body without its signature: declarations and A's entrustments of D.
      if (op.key === 'POST /api/v1/declarations' || op.key === 'POST /api/v1/entrustments')
        target.sign = (b) => trySign(b, withoutSignature)
      if (op.key === 'POST /api/v1/declarations/batch') {
        target.sign = (b) =>
          isPlainObject(b) && Array.isArray(b.declarations)
            ? { ...b, declarations: b.declarations.map((d) => trySign(d, withoutSignature)) }
            : b
      }
      targets.push(target)
    }
    // The JSON form of a CEB message: a new order of A, signed by A over the parsed message.
    const cebOp = ops.find((o) => o.key === 'POST /api/v1/ceb/messages')
    if (cebOp) {
      const parsed = parseCebXml(w.fresh.cebXml('CEB311', w.fresh.ticket('A'), w.ceb.A).xml)
      if (!parsed.ok) throw new Error('generated order does not parse')
      const { type, ...message } = parsed.message
      const signMessage = (b: Record<string, unknown>) => ({
        ...b,
        signature: {
          cardNo: w.A.cardNo,
          alg: 'Ed25519',
          value: signPayload(w.A.privateKey, { type: b.type, ...(b.message as object) }),
        },
      })
      targets.push({
        op: cebOp,
        schema: CEB_JSON_SCHEMA,
        who: 'opA',
        headers: w.headers.opA,
        url: '/api/v1/ceb/messages',
        base: signMessage({ type, message }),
        sign: (b) => trySign(b, (x) => (isPlainObject(x.message) ? signMessage(x) : x)),
      })
    }
  })

  // First: its requests make fresh resources the way the matrix does, before the fuzzing below changes the world
  // (parameters, rules, credit levels).
  it('refuses NUL in every path parameter and query value with a 4xx, writing nothing', async () => {
    const ops = await operations(t.app)
    const wrong: string[] = []
    for (const op of ops) {
      const role = roleFor(op.key)
      const call = await requestFor(op, w, role)
      if (!call || call.stream || call.raw) continue
      const [path, query] = call.url.split('?') as [string, string | undefined]
      const templ = op.path.split('/')
      const variants: string[] = []
      path.split('/').forEach((seg, i) => {
        if (templ[i]?.startsWith('{'))
          variants.push(
            [...path.split('/').slice(0, i), `${seg}%00`, ...path.split('/').slice(i + 1)].join('/') +
              (query ? `?${query}` : ''),
          )
      })
      if (query)
        for (const [k] of new URLSearchParams(query))
          variants.push(`${path}?${query.replace(new RegExp(`(^|&)${k}=([^&]*)`), `$1${k}=$2%00`)}`)
      if (op.method === 'GET' && !op.path.includes('{')) variants.push(`${path}?${query ? `${query}&` : ''}q%00=1`)
      for (const url of variants) {
        const before = await countAll(t.db, counter)
        const payload = call.body === undefined ? undefined : serialise(call.body)
        const res = await within(
          ANSWER_MS,
          op.key,
          t.app.inject({
            method: op.method as 'GET',
            url,
            headers: { ...w.headers[role], ...(payload ? { 'content-type': 'application/json' } : {}) },
            ...(payload ? { payload } : {}),
          }),
        )
        const wrote = changedTables(before, await countAll(t.db, counter), MAY_WRITE_ON_REFUSAL[op.key])
        if (res.statusCode < 400 || res.statusCode >= 500 || wrote.length)
          wrong.push(`${op.key} ${url}: ${res.statusCode}${wrote.length ? `, wrote ${wrote.join(', ')}` : ''}`)
      }
    }
    expect(wrong, wrong.join('\n')).toEqual([])
  }, 600_000)

  it("refuses NUL and unpaired surrogates in every string field of every valid body with 400 and the field's pointer, writing nothing", async () => {
    const wrong: string[] = []
    let sent = 0
    for (const target of targets) {
      if (target.base === undefined) continue
      // Every string field once (the first item of a list stands for the others).
      for (const path of stringPaths(target.base).filter((p) => !p.some((k) => typeof k === 'number' && k > 0))) {
        for (const bad of ['a\u0000b', '\ud800']) {
          let body = setAt(target.base, path, () => bad)
          // Re-signed, so the signature does not refuse first (except where the signature itself is the field).
          if (target.sign && !path.includes('signature')) body = target.sign(body)
          const before = await countAll(t.db, counter)
          const payload = serialise(body)
          const res = await within(
            ANSWER_MS,
            target.op.key,
            t.app.inject({
              method: target.op.method as 'POST',
              url: target.url,
              headers: { ...target.headers, 'content-type': 'application/json' },
              payload,
            }),
          )
          sent++
          const pointer = `/body/${path.map((k) => String(k).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`
          const got = {
            status: res.statusCode,
            pointer: (tryJson(res.body) as { pointer?: string } | undefined)?.pointer,
          }
          const wrote = changedTables(before, await countAll(t.db, counter), MAY_WRITE_ON_REFUSAL[target.op.key])
          if (got.status !== 400 || got.pointer !== pointer || wrote.length) {
            wrong.push(
              `${target.op.key} ${pointer} = ${JSON.stringify(bad)}: ${got.status} pointer ${got.pointer}${wrote.length ? `, wrote ${wrote.join(', ')}` : ''}`,
            )
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(100)
    expect(wrong, wrong.join('\n')).toEqual([])
  }, 600_000)

  it('answers every body without a 5xx, in time, in the error shape on 4xx, and writes no rows when it refuses', async () => {
    if (!ONLY) expect(targets.length).toBeGreaterThanOrEqual(34)
    const failures: string[] = []
    const stats: string[] = []
    for (const target of targets) {
      const { op, who, url } = target
      if (ONLY && op.key !== ONLY) continue
      const input = fc.oneof(
        { weight: 2, arbitrary: anyJson.map((body) => ({ how: 'any JSON', body }) as const) },
        { weight: 3, arbitrary: fromSchema(target.schema).map((body) => ({ how: 'schema-shaped', body }) as const) },
        ...(target.base === undefined
          ? []
          : [
              {
                weight: 4,
                arbitrary: mutated(target.base).map(
                  ({ body, mutation }) => ({ how: `valid body, ${mutation.kind} at ${mutation.at}`, body }) as const,
                ),
              },
            ]),
        { weight: 1, arbitrary: rawBodies.map((text) => ({ how: 'JSON text', text }) as const) },
      )
      const seen = new Map<number, number>()
      const property = fc.asyncProperty(input, fc.boolean(), async (inp, sign) => {
        const payload = 'text' in inp ? inp.text : serialise(sign && target.sign ? target.sign(inp.body) : inp.body)
        const before = await countAll(t.db, counter)
        const res = await within(
          ANSWER_MS,
          op.key,
          t.app.inject({
            method: op.method as 'POST',
            url,
            headers: { ...target.headers, 'content-type': 'application/json' },
            payload,
          }),
        )
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
        const problems: string[] = []
        if (res.statusCode >= 500) problems.push(`answered ${res.statusCode} ${brief(res.body, 200)}`)
        else if (res.statusCode >= 400) {
          problems.push(...errorShapeProblems(res.statusCode, tryJson(res.body)).map((p) => `error shape: ${p}`))
          problems.push(
            ...changedTables(before, await countAll(t.db, counter), MAY_WRITE_ON_REFUSAL[op.key]).map(
              (c) => `refused (${res.statusCode}) but wrote ${c}`,
            ),
          )
        }
        if (problems.length) throw new Error(`${problems.join('; ')} — ${inp.how}: ${brief(payload)}`)
      })
      const r = await fc.check(property, {
        seed: seedFor(op.key),
        numRuns: RUNS,
        interruptAfterTimeLimit: 60_000,
        ...(ONLY && REPLAY ? { path: REPLAY } : {}),
      })
      stats.push(
        `${op.key.padEnd(52)} ${who.padEnd(7)} ${[...seen]
          .sort()
          .map(([st, n]) => `${st}×${n}`)
          .join(' ')}`,
      )
      if (r.failed) {
        const err = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance)
        failures.push(
          `${op.key} as ${who} (seed ${r.seed}, path "${r.counterexamplePath}", ${r.numShrinks} shrinks): ${err}`,
        )
      }
    }
    if (process.env.KOUAN_FUZZ_STATS) console.info(stats.join('\n'))
    expect(failures, failures.join('\n\n')).toEqual([])
  }, 900_000)

  it('has a request for every operation with a body (else only what the document says is fuzzed)', () => {
    expect(skipped, 'operations with a JSON body and path parameters but no request in test/authz/requests.ts').toEqual(
      [],
    )
  })
})
