import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { packageRoot } from '../../shared/paths.js'
import type { CebMessageType, CebProblem } from './types.js'

/** The CEB field list, relative to the package root (shipped with the package, see package.json `files`). */
export const CEB_FIELDS_FILE = join('reference-data', 'ceb', 'ceb_import_fields.csv')

/** Problem code of every format error (the CEB900 / receipt reason "报文格式错误"). */
export const FORMAT = 'FORMAT'

/**
 * Widening applied where the field list marks a length as unconfirmed (`C..60?`, `N19,5?`): the stated figure
 * may be wrong in either direction, so intake enforces only a bound no legitimate value reaches. Characters:
 * `max(2 × n, 64)`; digits: `2 × p`; decimals (if any): at least {@link WIDEST_SCALE}.
 */
export const UNCONFIRMED_MIN_CHARS = 64
/** The widest decimal scale any CEB amount or quantity uses (N19,5); unconfirmed scales are widened to it. */
export const WIDEST_SCALE = 5
/** Bound for `C..?` / `N?` rows that state no length at all (only CEB816 has them). */
export const UNSTATED_MAX_CHARS = 4000

/** A fixed format the rule column states unambiguously. */
export type FieldFormat =
  | { kind: 'enum'; values: readonly string[] }
  /** `YYYYMMDDhhmmss` */
  | { kind: 'datetime' }
  /** `YYYYMMDDhhmmssSSS` (receipt times) */
  | { kind: 'datetimeMs' }
  /** `YYYYMMDD` */
  | { kind: 'date' }
  /** No lowercase letters (guid: "英文字母大写"). */
  | { kind: 'uppercase' }
  | { kind: 'digits' }

/** One element of the field list, with the limits intake enforces. */
export interface FieldSpec {
  element: string
  cnName: string
  /** `C` text, `N` non-negative decimal string. */
  kind: 'C' | 'N'
  /** Only an unqualified `Y`: rows such as `Y (some N)` or `N (Y in some versions)` are optional at intake. */
  required: boolean
  /** The type as written (`C..60`, `N19,2 (some versions N16,2)`, `N19,5?`). */
  type: string
  /** The type without annotations, as messages quote it (`N19,2`, `N19,4?`). */
  declared: string
  /** False when the type ends in `?` (length or precision unconfirmed). */
  confirmed: boolean
  /** `C`: exact length in characters (confirmed `Cn` only). */
  exactChars?: number
  /** `C`: maximum length in characters (Unicode code points). */
  maxChars?: number
  /** `N`: maximum number of digits, integer and fraction together. */
  maxDigits?: number
  /** `N`: maximum number of decimals (0: integer). */
  maxScale?: number
  format?: FieldFormat
  rule: string
}

/** Where the documents of each message sit: root, document element, head and (Order, Inventory) line element. */
export const CEB_STRUCTURE = {
  CEB311: { root: 'CEB311Message', document: 'Order', head: 'OrderHead', line: 'OrderList' },
  CEB411: { root: 'CEB411Message', document: 'Payment', head: 'PaymentHead', line: undefined },
  CEB511: { root: 'CEB511Message', document: 'Logistics', head: 'LogisticsHead', line: undefined },
  CEB621: { root: 'CEB621Message', document: 'Inventory', head: 'InventoryHead', line: 'InventoryList' },
} as const satisfies Record<CebMessageType, { root: string; document: string; head: string; line: string | undefined }>

/** The field-list `message` of the BaseTransfer rows. */
export const BASE_TRANSFER_MESSAGE = '(all CEB)'

// The commodity code is the 8-digit tariff number plus 2 additional digits (DOMAIN §5); the rule column says so in
// words only, so this one format is named here instead of derived.
const DIGIT_ELEMENTS = new Set(['gcode'])

interface Row {
  message: string
  node: string
  element: string
  cn_name: string
  type: string
  required: string
  rule_or_description: string
}

let table: Map<string, readonly FieldSpec[]> | undefined

/** Parses one field-list type and rule into the enforced limits; throws on a type it cannot read. */
function specOf(row: Row): FieldSpec {
  const type = row.type.trim()
  const m = /^([CN])(\.\.)?(\d+)?(?:,(\d+))?/.exec(type)
  if (!m) throw new Error(`${CEB_FIELDS_FILE}: cannot read type "${row.type}" of ${row.message} ${row.element}`)
  const kind = m[1] as 'C' | 'N'
  const variable = m[2] !== undefined
  const n = m[3] === undefined ? undefined : Number(m[3])
  const scale = m[4] === undefined ? 0 : Number(m[4])
  const confirmed = !type.endsWith('?')
  const rule = row.rule_or_description.trim()
  const spec: FieldSpec = {
    element: row.element.trim(),
    cnName: row.cn_name.trim(),
    kind,
    required: row.required.trim() === 'Y',
    type,
    declared: confirmed ? m[0] : `${m[0]}?`,
    confirmed,
    rule,
  }
  if (kind === 'C') {
    if (n === undefined) spec.maxChars = UNSTATED_MAX_CHARS
    else if (!confirmed) spec.maxChars = Math.max(2 * n, UNCONFIRMED_MIN_CHARS)
    else if (variable) spec.maxChars = n
    else spec.exactChars = n
  } else {
    spec.maxDigits = n === undefined ? 2 * 19 : confirmed ? n : 2 * n
    // An unconfirmed integer (`N4?`, `N9?`) stays an integer: only its width is in doubt.
    spec.maxScale = n === undefined || (!confirmed && scale > 0) ? Math.max(scale, WIDEST_SCALE) : scale
  }
  const format = formatOf(spec.element, rule)
  if (format) spec.format = format
  return spec
}

/** The fixed format a rule states, if any: enumerations (`1-新增 2-变更 3-删除`, `I=进口`), dates, uppercase. */
function formatOf(element: string, rule: string): FieldFormat | undefined {
  if (DIGIT_ELEMENTS.has(element)) return { kind: 'digits' }
  if (rule.includes('YYYYMMDDhhmmssSSS')) return { kind: 'datetimeMs' }
  if (rule.includes('YYYYMMDDhhmmss')) return { kind: 'datetime' }
  if (rule.includes('YYYYMMDD')) return { kind: 'date' }
  if (rule.includes('英文字母大写')) return { kind: 'uppercase' }
  // An enumeration opens the rule with single-character codes; what follows 「；」 or 「（」 (defaults, "限定填1")
  // is a content rule for rules.ts, not a format.
  if (/^[0-9A-Z][-=]\S/.test(rule)) {
    const list = rule.split(/[；;（(]/)[0] ?? ''
    const values = [...list.matchAll(/(?:^|\s)([0-9A-Z])[-=]/g)].map((x) => x[1] as string)
    if (values.length > 0) return { kind: 'enum', values }
  }
  return undefined
}

/**
 * The field list (reference-data/ceb/ceb_import_fields.csv), read once, keyed `message|node`
 * (`CEB311Message|Order/OrderHead`, `(all CEB)|BaseTransfer`). Rows keep the file's (the spec's) element order.
 */
export function cebFieldTable(): ReadonlyMap<string, readonly FieldSpec[]> {
  if (table) return table
  const file = join(packageRoot(), CEB_FIELDS_FILE)
  const rows = parse(readFileSync(file, 'utf8'), {
    bom: true,
    columns: true,
    skip_empty_lines: true,
    trim: true,
  }) as Row[]
  const t = new Map<string, FieldSpec[]>()
  for (const row of rows) {
    const key = `${row.message}|${row.node}`
    const list = t.get(key) ?? []
    list.push(specOf(row))
    t.set(key, list)
  }
  table = t
  return t
}

/** The fields of one node, in spec order; throws for a node the field list does not have. */
export function fieldsFor(message: string, node: string): readonly FieldSpec[] {
  const fields = cebFieldTable().get(`${message}|${node}`)
  if (!fields) throw new Error(`no fields for ${message} ${node} in ${CEB_FIELDS_FILE}`)
  return fields
}

/**
 * The attributes of a message root (`guid`, `version`). The field list has no rows for them: the guid is the
 * 36-character kind the heads use, treated as unconfirmed; version is free text ("1.0").
 */
export const MESSAGE_ATTRIBUTE_FIELDS: readonly FieldSpec[] = [
  specOf({
    message: 'root',
    node: '',
    element: 'guid',
    cn_name: '报文唯一序号',
    type: 'C36?',
    required: 'Y',
    rule_or_description: '',
  }),
  specOf({
    message: 'root',
    node: '',
    element: 'version',
    cn_name: '报文版本',
    type: 'C..10?',
    required: 'N',
    rule_or_description: '',
  }),
]

/** Escapes one JSON Pointer segment (RFC 6901). */
export function pointerSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1')
}

const problem = (pointer: string, message: string): CebProblem => ({ code: FORMAT, message, pointer })

/** A non-null, non-array object (the shape of a JSON object). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k)

/** XML 1.0 `Char`: tab, LF, CR and the Unicode ranges minus surrogates, U+FFFE and U+FFFF. */
const NON_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u
// Same test without the `u` flag, several times faster; surrogates need the exact check above (pairs are fine).
const MAYBE_NON_XML_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/

/** The first character of `s` outside XML 1.0 `Char` (a lone surrogate half, not a pair): its index and `U+XXXX`. */
export function nonXmlChar(s: string): { index: number; label: string } | undefined {
  const bad = MAYBE_NON_XML_CHAR.test(s) ? NON_XML_CHAR.exec(s) : null
  return bad
    ? { index: bad.index, label: `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` }
    : undefined
}

/** Length in Unicode code points: a Chinese name of 60 characters is 60, whatever its bytes. */
function charLength(s: string): number {
  if (!/[\uD800-\uDBFF]/.test(s)) return s.length
  let n = 0
  for (const _ of s) n++
  return n
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** True for digits forming a real calendar date (and time) `YYYYMMDD[hhmmss[SSS]]`. */
function isDateTime(s: string, length: 8 | 14 | 17): boolean {
  if (s.length !== length || !/^\d+$/.test(s)) return false
  const y = Number(s.slice(0, 4))
  const mo = Number(s.slice(4, 6))
  const d = Number(s.slice(6, 8))
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && !leap ? 28 : (DAYS[mo - 1] ?? 0))) return false
  if (length === 8) return true
  return Number(s.slice(8, 10)) <= 23 && Number(s.slice(10, 12)) <= 59 && Number(s.slice(12, 14)) <= 59
}

function typeNote(f: FieldSpec): string {
  return f.confirmed ? `(${f.declared})` : `(${f.declared}: length unconfirmed, limit widened)`
}

/** The format problem of one non-empty value, or undefined. */
function valueProblem(f: FieldSpec, v: string): string | undefined {
  const fmt = f.format
  // Enumerations and dates imply their length, and say more than "must be exactly 14 characters" would.
  if (fmt?.kind === 'enum' && !fmt.values.includes(v)) {
    return fmt.values.length === 1
      ? `${f.element} must be ${fmt.values[0]}`
      : `${f.element} must be one of ${fmt.values.join(', ')}`
  }
  if (fmt?.kind === 'datetime' && !isDateTime(v, 14)) return `${f.element} must be a date and time YYYYMMDDhhmmss`
  if (fmt?.kind === 'datetimeMs' && !isDateTime(v, 17)) return `${f.element} must be a date and time YYYYMMDDhhmmssSSS`
  if (fmt?.kind === 'date' && !isDateTime(v, 8)) return `${f.element} must be a date YYYYMMDD`
  if (f.kind === 'N') {
    const scale = f.maxScale ?? 0
    const shape = scale === 0 ? 'an integer' : 'a decimal'
    if (!/^\d+(?:\.\d+)?$/.test(v)) {
      return `${f.element} must be ${scale === 0 ? 'a non-negative integer' : 'a non-negative decimal such as 12.50'} ${typeNote(f)}`
    }
    const dot = v.indexOf('.')
    const places = dot < 0 ? 0 : v.length - dot - 1
    if (places > scale) {
      return scale === 0
        ? `${f.element} must be ${shape} without decimals ${typeNote(f)}`
        : `${f.element} must be ${shape} with at most ${scale} places ${typeNote(f)}`
    }
    const digits = v.length - (dot < 0 ? 0 : 1)
    if (f.maxDigits !== undefined && digits > f.maxDigits)
      return `${f.element} must have at most ${f.maxDigits} digits ${typeNote(f)}`
    return undefined
  }
  if (f.exactChars !== undefined && charLength(v) !== f.exactChars) {
    return `${f.element} must be exactly ${f.exactChars} characters ${typeNote(f)}`
  }
  if (f.maxChars !== undefined && v.length > f.maxChars && charLength(v) > f.maxChars) {
    return `${f.element} must be at most ${f.maxChars} characters ${typeNote(f)}`
  }
  if (fmt?.kind === 'uppercase' && /[a-z]/.test(v)) return `${f.element} must not contain lowercase letters`
  if (fmt?.kind === 'digits' && !/^\d+$/.test(v)) return `${f.element} must be digits only`
  return undefined
}

const elementSets = new WeakMap<readonly FieldSpec[], ReadonlySet<string>>()
function elementSet(fields: readonly FieldSpec[]): ReadonlySet<string> {
  let set = elementSets.get(fields)
  if (!set) elementSets.set(fields, (set = new Set(fields.map((f) => f.element))))
  return set
}

/**
 * Checks one node (a head, a line, BaseTransfer, the root attributes) against its fields: no unknown names, values
 * strings, required ones present and non-empty, lengths, decimals and fixed formats. Empty optional values pass.
 * Pointers are `pointer + '/' + segmentPrefix + name`; `what` names the node in messages.
 */
export function validateFields(
  fields: readonly FieldSpec[],
  rec: unknown,
  pointer: string,
  what: string,
  segmentPrefix = '',
): CebProblem[] {
  if (!isRecord(rec)) return [problem(pointer, `${what} must be an object of element texts`)]
  const out: CebProblem[] = []
  const at = (name: string) => `${pointer}/${segmentPrefix}${pointerSegment(name)}`
  const known = elementSet(fields)
  for (const k of Object.keys(rec)) {
    if (!known.has(k)) out.push(problem(at(k), `${k} is not an element of ${what}`))
  }
  for (const f of fields) {
    const v = hasOwn(rec, f.element) ? rec[f.element] : undefined
    if (v === undefined || v === '') {
      if (f.required) out.push(problem(at(f.element), `${f.element} is required`))
      continue
    }
    if (typeof v !== 'string') {
      out.push(problem(at(f.element), `${f.element} must be a string`))
      continue
    }
    // Text XML 1.0 cannot carry — NUL, other C0 controls, lone surrogates, U+FFFE/U+FFFF — can come in through JSON
    // escapes (the XML form refuses it while parsing): CEB content is the same in both forms, and the database could
    // not store NUL, nor a lone surrogate other than as U+FFFD.
    const bad = nonXmlChar(v)
    if (bad) {
      out.push(problem(at(f.element), `${f.element} contains ${bad.label}, which CEB text cannot carry`))
      continue
    }
    const p = valueProblem(f, v)
    if (p) out.push(problem(at(f.element), p))
  }
  return out
}

/**
 * Format check of one document (`{ head, lines }` as in types.ts) of a message of `type`: the head and every line
 * against the field list, and at least one line for Order and Inventory. Pointers continue `basePointer` with the XML
 * element names (`/CEB621Message/Inventory/1` → `…/InventoryList/2/gcode`) or, with `json`, the JSON property names
 * (`/documents/1` → `…/lines/2/gcode`). Returns FORMAT problems; empty when the document is well-formed.
 */
export function validateDocument(
  type: CebMessageType,
  doc: unknown,
  basePointer: string,
  opts: { json?: boolean } = {},
): CebProblem[] {
  const s = CEB_STRUCTURE[type]
  if (!isRecord(doc)) return [problem(basePointer, `${s.document} must be an object with a head`)]
  const headSeg = opts.json ? 'head' : s.head
  const lineSeg = opts.json ? 'lines' : s.line
  const out: CebProblem[] = []
  for (const k of Object.keys(doc)) {
    if (k !== 'head' && !(s.line && k === 'lines')) {
      out.push(problem(`${basePointer}/${pointerSegment(k)}`, `${k} is not part of ${s.document}`))
    }
  }
  if (doc.head === undefined) out.push(problem(`${basePointer}/${headSeg}`, `${s.head} is required`))
  else
    out.push(
      ...validateFields(fieldsFor(s.root, `${s.document}/${s.head}`), doc.head, `${basePointer}/${headSeg}`, s.head),
    )
  if (s.line && lineSeg) {
    const lines = doc.lines
    if (!Array.isArray(lines) || lines.length === 0) {
      out.push(problem(`${basePointer}/${lineSeg}`, `at least one ${s.line} is required`))
    } else {
      const fields = fieldsFor(s.root, `${s.document}/${s.line}`)
      lines.forEach((line, i) => out.push(...validateFields(fields, line, `${basePointer}/${lineSeg}/${i}`, s.line)))
    }
  }
  return out
}

/** Format check of a `BaseTransfer` (sender) against the field list's `(all CEB)` rows. */
export function validateBaseTransfer(bt: unknown, pointer: string): CebProblem[] {
  return validateFields(fieldsFor(BASE_TRANSFER_MESSAGE, 'BaseTransfer'), bt, pointer, 'BaseTransfer')
}
