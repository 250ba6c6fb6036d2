/**
 * fast-check arbitraries for request bodies: any JSON value, values shaped by a JSON Schema (the OpenAPI document's
 * request body), and a valid body with one field mutated (wrong type, missing, extra, huge, deep, at a number's
 * edge, odd unicode, prototype keys). Bodies are serialised by {@link serialise}, which can also emit JSON text no
 * JS value stringifies to (`1e999`, deep nesting, duplicate keys).
 */
import { fc } from '@fast-check/vitest'
import type { JsonSchema } from '../authz/openapi.js'

/** JSON text spliced into a body as it is (numbers JS cannot hold, nesting too deep to build as values). */
export class Raw {
  constructor(readonly text: string) {}
}

/** Serialises a body; {@link Raw} values are spliced in as text. Own `__proto__` keys are kept (as JSON.parse makes them). */
export function serialise(value: unknown): string {
  const raws: string[] = []
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Raw) {
      raws.push(v.text)
      return `\u0001RAW${raws.length - 1}\u0001`
    }
    return v
  })
  if (text === undefined) return 'null'
  return text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]!)
}

/** A copy of `obj` with an own property `key` (also `__proto__`, as JSON.parse makes it). */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(obj))
    Object.defineProperty(out, k, { value: obj[k], enumerable: true, writable: true, configurable: true })
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  return out
}

/** Text no database column can hold: NUL and unpaired surrogates (issue 10, finding 6). */
export const UNSTORABLE_STRINGS = ['\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\ud83dx'] as const

/** Strings that have broken parsers and databases before. */
export const NASTY_STRINGS = [
  ...UNSTORABLE_STRINGS,
  '',
  ' ',
  'x\ud83d',
  '\ufffe',
  '\uffff',
  '\ufeff',
  '\u202e',
  '\u200b',
  '😀',
  'e\u0301',
  '\r\n',
  '\t',
  '\\',
  '"',
  "'",
  "' or 1=1 --",
  '%00',
  '%s%s%n',
  '${x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'ＡＢＣ１２３',
  '٣',
  'null',
  'true',
  '0',
  '-1',
  'NaN',
  'Infinity',
  '1e999',
  '__proto__',
  'constructor',
  'x'.repeat(10_000),
  '中'.repeat(5_000),
] as const

export const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...UNSTORABLE_STRINGS) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.nat({ max: 300_000 }).map((n) => 'y'.repeat(n)) },
)

/** Numbers at the edges, some only expressible as JSON text. */
export const edgeNumber = fc.oneof(
  fc.constantFrom<unknown>(
    0,
    -0,
    1,
    -1,
    0.5,
    1e-320,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53,
    -(2 ** 53),
    Number.MAX_SAFE_INTEGER + 2,
    1e308,
    -1e308,
    123.456789012345,
  ),
  fc.constantFrom<unknown>(
    new Raw('1e999'),
    new Raw('-1e999'),
    new Raw('1e-999'),
    new Raw('123456789012345678901234567890'),
    new Raw('0.1e1'),
    new Raw('-0.0'),
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
)

/** Nesting deeper than any schema: arrays or objects, as JSON text. */
export const deepNesting = fc
  .tuple(fc.constantFrom(20, 1_000, 10_000, 100_000), fc.boolean())
  .map(
    ([depth, arrays]) =>
      new Raw(arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  )

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__'] as const
const pollution = fc.constantFrom<unknown>(
  { polluted: true },
  { isAdmin: true, role: 'admin' },
  { prototype: { polluted: 1 } },
  'admin',
  null,
  [],
)

/** Any JSON value, with nasty strings and numbers and prototype keys among the keys. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    edgeNumber,
    nastyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...PROTO_KEYS)), tie('value'), { maxKeys: 4 })
      .map((d) => Object.entries(d).reduce<Record<string, unknown>>((o, [k, v]) => setKey(o, k, v), {})),
  ),
})).value

// ---- schema-shaped ----------------------------------------------------------------------------------------------

const isoDate = fc.date({
  min: new Date('1900-01-01T00:00:00Z'),
  max: new Date('2100-12-31T00:00:00Z'),
  noInvalidDate: true,
})

/** Values shaped by a JSON Schema (the subset TypeBox emits): mostly valid, with short strings and arrays. */
export function fromSchema(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(null)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]))
  if ('const' in schema) return fc.constant(schema.const)
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => fromSchema(s, depth + 1)))
  if (Array.isArray(schema.allOf)) return fromSchema(Object.assign({}, ...(schema.allOf as JsonSchema[])), depth + 1)
  const type = Array.isArray(schema.type) ? (schema.type as string[]) : schema.type ? [schema.type as string] : []
  if (type.length > 1) return fc.oneof(...type.map((t) => fromSchema({ ...schema, type: t }, depth)))
  switch (type[0]) {
    case 'string':
      return stringFor(schema)
    case 'integer':
      return fc.integer({ min: num(schema.minimum, -1e6), max: num(schema.maximum, 1e6) })
    case 'number':
      return fc.double({
        min: num(schema.minimum, -1e6),
        max: num(schema.maximum, 1e6),
        noNaN: true,
        noDefaultInfinity: true,
      })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array': {
      const min = num(schema.minItems, 0)
      return fc.array(schema.items ? fromSchema(schema.items as JsonSchema, depth + 1) : anyJson, {
        minLength: min,
        maxLength: Math.max(min, Math.min(num(schema.maxItems, 3), 3)),
      })
    }
    case 'object':
    default: {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>
      if (!Object.keys(props).length)
        return type[0] === 'object' ? fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 3 }) : anyJson
      const required = new Set((schema.required ?? []) as string[])
      const model = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, fromSchema(s, depth + 1)]))
      return fc.record(model, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) })
    }
  }
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback)

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const max = Math.min(num(schema.maxLength, 40), 40)
  const min = Math.min(num(schema.minLength, 0), max)
  switch (schema.format) {
    case 'uuid':
      return fc.uuid()
    case 'date':
      return isoDate.map((d) => d.toISOString().slice(0, 10))
    case 'date-time':
      return isoDate.map((d) => d.toISOString())
  }
  if (typeof schema.pattern === 'string') {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((s) => s.length <= num(schema.maxLength, 10_000) && s.length >= num(schema.minLength, 0))
  }
  // Free text: mostly plain, sometimes what breaks parsers and databases (within the length limits, so it gets past validation).
  const fits = (s: string) => s.length >= num(schema.minLength, 0) && s.length <= num(schema.maxLength, 1e9)
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength: min, maxLength: max }) },
    { weight: 1, arbitrary: nastyString.filter(fits) },
  )
}

// ---- mutations of a valid body ----------------------------------------------------------------------------------

export type Path = Array<string | number>

/** Every path to a value inside `v` (the root is []). */
function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at)
  if (at.length > 8) return out
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out))
  else if (v && typeof v === 'object')
    for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out)
  return out
}

/** The value at `path` in `root`. */
export function valueAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined),
    root,
  )
}

/** Paths to the string values inside `v`. */
export const stringPaths = (v: unknown): Path[] => paths(v).filter((p) => typeof valueAt(v, p) === 'string')

export function setAt(
  root: unknown,
  path: Path,
  f: (old: unknown, parent: unknown, key: string | number | undefined) => unknown,
): unknown {
  if (path.length === 0) return f(root, undefined, undefined)
  const [head, ...rest] = path
  if (Array.isArray(root)) return root.map((x, i) => (i === head ? setAt(x, rest, f) : x))
  const obj = root as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(obj))
    Object.defineProperty(out, k, {
      value: k === head ? setAt(obj[k], rest, f) : obj[k],
      enumerable: true,
      writable: true,
      configurable: true,
    })
  return out
}

const DELETE = Symbol('delete')

function dropMarked(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== DELETE).map(dropMarked)
  if (v && typeof v === 'object' && !(v instanceof Raw)) {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v))
      if (x !== DELETE)
        Object.defineProperty(out, k, { value: dropMarked(x), enumerable: true, writable: true, configurable: true })
    return out
  }
  return v
}

export interface Mutation {
  at: string
  kind: string
}

/** A replacement value of another kind than the old one. */
type Replacement = { kind: string; value: (old: unknown) => unknown }

/** A value like `old` (same character classes, a number near it), so it often passes the schema and meets the domain checks. */
function similar(old: unknown, seed: number, variant: number): unknown {
  const rnd = seededUnit(seed)
  if (typeof old === 'number') return [old + 1, old - 1, old * 10, 0, -old, old / 3][variant % 6]
  if (typeof old === 'boolean') return !old
  if (typeof old !== 'string') return old
  const pick = (chars: string) => chars[Math.floor(rnd() * chars.length)]!
  const shaped = [...old]
    .map((c) =>
      /[0-9]/.test(c)
        ? pick('0123456789')
        : /[A-Z]/.test(c)
          ? pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ')
          : /[a-z]/.test(c)
            ? pick('abcdefghijklmnopqrstuvwxyz')
            : c,
    )
    .join('')
  return [
    shaped,
    shaped + shaped.slice(-1),
    shaped.slice(0, -1),
    shaped.replace(/[0-9]/g, '9'),
    shaped.replace(/[0-9]/g, '0'),
  ][variant % 5]
}
function seededUnit(seed: number): () => number {
  let x = seed || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

const replacement: fc.Arbitrary<Replacement> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.integer({ min: 1 }), fc.nat(29))
      .map<Replacement>(([seed, v]) => ({ kind: `similar #${v}`, value: (old) => similar(old, seed, v) })),
  },
  { weight: 5, arbitrary: nastyString.map<Replacement>((s) => ({ kind: 'string', value: () => s })) },
  {
    weight: 2,
    arbitrary: nastyString.map<Replacement>((s) => ({
      kind: 'string appended',
      value: (old) => (typeof old === 'string' ? old + s : s),
    })),
  },
  { weight: 2, arbitrary: edgeNumber.map<Replacement>((n) => ({ kind: 'number', value: () => n })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(null, true, false, [], {}, [null], { '': '' })
      .map<Replacement>((x) => ({ kind: 'type', value: () => x })),
  },
  { weight: 1, arbitrary: deepNesting.map<Replacement>((d) => ({ kind: 'deep', value: () => d })) },
  { weight: 2, arbitrary: fc.constant<Replacement>({ kind: 'delete', value: () => DELETE as unknown }) },
  { weight: 1, arbitrary: fc.constant<Replacement>({ kind: 'array of it', value: (old) => [old, old] }) },
  {
    weight: 1,
    arbitrary: fc.constant<Replacement>({
      kind: 'hundredfold',
      value: (old) =>
        Array.isArray(old)
          ? Array.from({ length: 100 }, () => old[0] ?? null)
          : typeof old === 'string'
            ? old.repeat(100)
            : old,
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...PROTO_KEYS, 'extra', 'signature', 'role', 'enterpriseId'), pollution)
      .map<Replacement>(([key, v]) => ({
        kind: `key ${key}`,
        value: (old) =>
          old && typeof old === 'object' && !Array.isArray(old) ? setKey(old as Record<string, unknown>, key, v) : old,
      })),
  },
)

/** `base` with one value (or key) mutated; the mutation is described for counterexamples. */
export function mutated(base: unknown): fc.Arbitrary<{ body: unknown; mutation: Mutation }> {
  const all = paths(base)
  const leaves = all.filter((p) => {
    const v = valueAt(base, p)
    return v === null || typeof v !== 'object'
  })
  const where = leaves.length
    ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...leaves) }, { weight: 1, arbitrary: fc.constantFrom(...all) })
    : fc.constantFrom(...all)
  return fc.tuple(where, replacement).map(([path, r]) => ({
    body: dropMarked(setAt(base, path, (old) => r.value(old))),
    mutation: { at: '/' + path.join('/'), kind: r.kind },
  }))
}

/** Bodies that are not JSON, or JSON the parser has to think about. */
export const rawBodies = fc.constantFrom(
  '',
  ' ',
  '{',
  '}',
  '[',
  'nul',
  'undefined',
  '{"a":1,}',
  "{'a':1}",
  '{"a":1}{"b":2}',
  '\ufeff{}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"isAdmin":true}}}',
  '{"a":1,"a":2}',
  '1e999',
  '"\\uDEAD"',
  '['.repeat(50_000) + ']'.repeat(50_000),
  '{"a":' + '"' + 'z'.repeat(1_000_000) + '"}',
)
