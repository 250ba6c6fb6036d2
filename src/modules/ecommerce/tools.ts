import { readFileSync } from 'node:fs'
import Big from 'big.js'
import { Command, InvalidArgumentError } from 'commander'
import { SaxesParser } from 'saxes'
import { canonicalJson, parseKeyFile, signPayload, type KeyFile } from '../../shared/signing.js'
import { CEB_STRUCTURE } from './fields.js'
import { HEAD_NAME, appTypeOf, docKey, orderNoOf, senderCodes } from './keys.js'
import {
  fieldPointer,
  notNamed,
  senderField,
  senderRoles,
  settled,
  ticketStanding,
  type PartyCode,
  type PartyDoc,
  type PartyHead,
} from './parties.js'
import { verifyTicket, waybillReusable, type Reason, type ReasonCode, type Ticket } from './rules.js'
import { DEFAULT_TAX_RATES } from './tax.js'
import type { CebDocuments, CebMessage, CebMessageType, CebProblem } from './types.js'
import { parseCebJson, parseCebXml, xmlSignatureHeader, type CebParseResult } from './xml.js'

/**
 * Offline tools for enterprises and operators: sign a CEB message file for `POST /api/v1/ceb/messages`, and check
 * files the way the matching does (三单对碰) before sending them. Behind `kouan ceb sign` and `kouan ceb check`.
 */

const MESSAGE_TYPES: readonly CebMessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621']

/** A file that cannot be used: unreadable, not well-formed, or not a valid CEB message. */
export class CebFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: CebProblem[],
  ) {
    super(problems.map((p) => `${file}: ${describe(p)}`).join('\n'))
  }
}

/** `pointer: message`, or the message alone for whole-file problems (which name their line and column). */
const describe = (p: CebProblem) => (p.pointer === '/' || p.pointer === '' ? p.message : `${p.pointer}: ${p.message}`)
const formatProblem = (message: string, pointer = '/'): CebProblem => ({ code: 'FORMAT', message, pointer })

/** 1-based line and column of a string offset. */
function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return `line ${line}, column ${offset - before.lastIndexOf('\n')}`
}

/**
 * Offset of the first JSON syntax error in `text` (V8 names a position for some errors only). A small recursive
 * scanner of RFC 8259, run only after JSON.parse has failed.
 */
function jsonErrorOffset(text: string): number {
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++
  }
  const fail = (): never => {
    throw i
  }
  const lit = (w: string) => {
    if (text.startsWith(w, i)) i += w.length
    else fail()
  }
  const str = () => {
    i++ // opening quote
    for (;;) {
      if (i >= text.length) fail()
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        i++
        return
      }
      if (c < 0x20) fail()
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2
            fail()
          }
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else {
          i++
          fail()
        }
      } else i++
    }
  }
  const value = (depth: number): void => {
    ws()
    const c = text[i]
    if (depth > 1000) fail()
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') {
        i++
        return
      }
      for (;;) {
        ws()
        if (text[i] !== '"') fail()
        str()
        ws()
        if (text[i] !== ':') fail()
        i++
        value(depth + 1)
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return
        }
        fail()
      }
    } else if (c === '[') {
      i++
      ws()
      if (text[i] === ']') {
        i++
        return
      }
      for (;;) {
        value(depth + 1)
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return
        }
        fail()
      }
    } else if (c === '"') str()
    else if (c === 't') lit('true')
    else if (c === 'f') lit('false')
    else if (c === 'n') lit('null')
    else {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
      if (!m || m[0] === '' || m[0] === '-') fail()
      i += m![0].length
    }
  }
  try {
    value(0)
    ws()
    return i < text.length ? i : text.length
  } catch (at) {
    return typeof at === 'number' ? at : text.length
  }
}

/** A JSON syntax error with its line and column. */
function jsonSyntax(text: string, e: unknown): CebProblem {
  const msg = (e as Error).message
  const pos = /at position (\d+)/.exec(msg)
  const offset = pos ? Number(pos[1]) : jsonErrorOffset(text)
  // V8 may quote the whole input ("Unexpected token ']', "[1,]" is not valid JSON"): keep the first clause only.
  const reason = msg
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/ in JSON at position \d+/, '')
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/^Unexpected end of JSON input$/, 'unexpected end of input')
  return formatProblem(`JSON is not well-formed at ${lineCol(text, offset)}: ${reason}`)
}

/**
 * A JSON message: the API body `{type, message, signature?}`, a serialised CebMessage `{type, guid, documents,
 * baseTransfer}`, or an array of either. Pointers are prefixed to point into the file.
 */
function parseJsonValue(value: unknown, at: string): { type?: CebMessageType; result: CebParseResult; body: boolean } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      result: {
        ok: false,
        problems: [
          formatProblem(
            'a JSON message is an object {type, message} or {type, guid, documents, baseTransfer}',
            at || '/',
          ),
        ],
      },
      body: false,
    }
  }
  const rec = value as Record<string, unknown>
  const type = rec.type
  if (typeof type !== 'string' || !MESSAGE_TYPES.includes(type as CebMessageType)) {
    return {
      result: { ok: false, problems: [formatProblem(`type must be one of ${MESSAGE_TYPES.join(', ')}`, `${at}/type`)] },
      body: false,
    }
  }
  const t = type as CebMessageType
  if ('message' in rec) {
    const extra = Object.keys(rec).filter((k) => !['type', 'message', 'signature'].includes(k))
    if (extra.length)
      return {
        type: t,
        result: {
          ok: false,
          problems: extra.map((k) =>
            formatProblem(`${k} is not part of a message body {type, message, signature}`, `${at}/${k}`),
          ),
        },
        body: true,
      }
    const r = parseCebJson(t, rec.message)
    return {
      type: t,
      body: true,
      result: r.ok
        ? r
        : {
            ok: false,
            problems: r.problems.map((p) => ({ ...p, pointer: `${at}/message${p.pointer === '/' ? '' : p.pointer}` })),
          },
    }
  }
  const r = parseCebJson(t, rec)
  return {
    type: t,
    body: false,
    result: r.ok ? r : { ok: false, problems: r.problems.map((p) => ({ ...p, pointer: `${at}${p.pointer}` || '/' })) },
  }
}

type Raw = { kind: 'xml'; bytes: Buffer } | { kind: 'json'; value: unknown } | { kind: 'bad'; problems: CebProblem[] }

/** Reads a message file and tells XML from JSON by its first character; parses JSON. Never throws. */
function readMessageFile(path: string): Raw {
  const bad = (message: string): Raw => ({ kind: 'bad', problems: [formatProblem(message)] })
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    return bad(
      `cannot read the file: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`,
    )
  }
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++
  if (i === bytes.length) return bad('the file is empty')
  if (bytes[i] === 0x3c /* < */) return { kind: 'xml', bytes }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes) // drops a BOM
  } catch {
    return bad('the file is not valid UTF-8')
  }
  if (bytes[i] !== 0x7b /* { */ && bytes[i] !== 0x5b /* [ */) {
    return bad(
      `neither XML nor JSON: the file starts with ${JSON.stringify(String.fromCodePoint(text.trimStart().codePointAt(0)!))}`,
    )
  }
  try {
    return { kind: 'json', value: JSON.parse(text) }
  } catch (e) {
    return { kind: 'bad', problems: [jsonSyntax(text, e)] }
  }
}

/** A document of a message the intake would refuse: where it sits (its problems' pointers start there) and its order number, if readable. */
interface DocRef {
  pointer: string
  orderNoPointer: string
  orderNo: string | undefined
}

/** One message of a file: parsed, or refused with its problems and whatever of its documents could still be read. */
type Item =
  { ok: true; message: CebMessage } | { ok: false; problems: CebProblem[]; type?: CebMessageType; docs: DocRef[] }

/**
 * Reads and parses one message file (XML, or JSON in one of the forms of {@link parseJsonValue}; each message of a JSON
 * array is one message to intake). Never throws.
 */
function loadFile(path: string): Item[] {
  const raw = readMessageFile(path)
  if (raw.kind === 'bad') return [{ ok: false, problems: raw.problems, docs: [] }]
  if (raw.kind === 'xml') {
    const r = parseCebXml(raw.bytes)
    if (r.ok) return [{ ok: true, message: r.message }]
    const read = xmlDocRefs(raw.bytes)
    return [{ ok: false, problems: r.problems, ...(read.type ? { type: read.type } : {}), docs: read.docs }]
  }
  const value = raw.value
  const items = Array.isArray(value) ? value.map((v, k) => [v, `/${k}`] as const) : [[value, ''] as const]
  if (items.length === 0) return [{ ok: false, problems: [formatProblem('an empty array holds no message')], docs: [] }]
  return items.map(([v, at]): Item => {
    const r = parseJsonValue(v, at)
    if (r.result.ok) return { ok: true, message: r.result.message }
    return { ok: false, problems: r.result.problems, ...(r.type ? { type: r.type } : {}), docs: jsonDocRefs(v, at) }
  })
}

const isRec = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The documents of a JSON message that failed its checks, with their order numbers where they are strings. */
function jsonDocRefs(value: unknown, at: string): DocRef[] {
  if (!isRec(value)) return []
  const body = 'message' in value
  const message = body ? value.message : value
  if (!isRec(message) || !Array.isArray(message.documents)) return []
  const base = `${at}${body ? '/message' : ''}/documents`
  return message.documents.map((d: unknown, k) => {
    const no = isRec(d) && isRec(d.head) ? d.head.orderNo : undefined
    return {
      pointer: `${base}/${k}`,
      orderNoPointer: `${base}/${k}/head/orderNo`,
      orderNo: typeof no === 'string' && no.trim() !== '' ? no.trim() : undefined,
    }
  })
}

/**
 * The documents of an XML message that failed its checks, with the text of each head's orderNo: a lenient pass over the
 * elements by local name, kept up to the first well-formedness error, run only on that path.
 */
function xmlDocRefs(bytes: Buffer): { type?: CebMessageType; docs: DocRef[] } {
  const local = (q: string) => q.slice(q.indexOf(':') + 1)
  const path: string[] = []
  const docs: DocRef[] = []
  let type: CebMessageType | undefined
  let text = ''
  const parser = new SaxesParser({ xmlns: false })
  const inOrderNo = () =>
    type !== undefined &&
    path.length === 4 &&
    path[1] === CEB_STRUCTURE[type].document &&
    path[2] === CEB_STRUCTURE[type].head &&
    path[3] === 'orderNo'
  parser.on('opentag', (tag) => {
    const name = local(tag.name)
    if (path.length === 0) type = MESSAGE_TYPES.find((t) => CEB_STRUCTURE[t].root === name)
    else if (type && path.length === 1 && name === CEB_STRUCTURE[type].document) {
      const s = CEB_STRUCTURE[type]
      const pointer = `/${s.root}/${s.document}/${docs.length}`
      docs.push({ pointer, orderNoPointer: `${pointer}/${s.head}/orderNo`, orderNo: undefined })
    }
    if (!tag.isSelfClosing) path.push(name)
    text = ''
  })
  parser.on('text', (t) => {
    if (inOrderNo()) text += t
  })
  parser.on('cdata', (t) => {
    if (inOrderNo()) text += t
  })
  parser.on('closetag', (tag) => {
    if (tag.isSelfClosing) return
    if (inOrderNo() && docs.length) docs[docs.length - 1]!.orderNo = text.trim() || undefined
    path.pop()
  })
  try {
    parser.write(new TextDecoder('utf-8').decode(bytes)).close()
  } catch {
    // Not well-formed: what was read before the error stands.
  }
  return { ...(type ? { type } : {}), docs }
}

/** A key file from `kouan card keygen` ({alg, publicKey, privateKey}; alg Ed25519 or SM2). */
function readKey(keyFile: string): KeyFile {
  let text: string
  try {
    text = readFileSync(keyFile, 'utf8')
  } catch (e) {
    throw new Error(`${keyFile}: cannot read the key file: ${(e as Error).message}`)
  }
  try {
    return parseKeyFile(text)
  } catch (e) {
    throw new Error(`${keyFile}: ${(e as Error).message}`)
  }
}

/**
 * Signs a message file with a key file for card `cardNo` (with the file's alg), as the intake verifies it: over the
 * canonical JSON of the parsed message. For an XML file returns the `x-kouan-signature` header value `cardNo;alg;signature`; for a
 * JSON file (`{type, message}` or a serialised message `{type, guid, documents, baseTransfer}`) the JSON body to POST,
 * `{type, message, signature: {cardNo, alg, value}}` (an existing signature is replaced).
 *
 * @throws CebFileError when the file is unreadable or not a valid message (problems with pointers, lines and
 * columns); Error for a bad key file or card number.
 */
export function signFile(path: string, keyFile: string, cardNo: string): string {
  if (!/^[^;\s]{1,32}$/.test(cardNo))
    throw new Error(`card number must be 1–32 characters without ";" or spaces: ${cardNo}`)
  const key = readKey(keyFile)
  const raw = readMessageFile(path)
  if (raw.kind === 'bad') throw new CebFileError(path, raw.problems)
  if (raw.kind === 'xml') {
    const r = parseCebXml(raw.bytes)
    if (!r.ok) throw new CebFileError(path, r.problems)
    return xmlSignatureHeader(cardNo, key.privateKey, r.message, key.alg)
  }
  const value = raw.value
  if (Array.isArray(value))
    throw new CebFileError(path, [formatProblem('sign one message per file; this file holds an array')])
  const r = parseJsonValue(value, '')
  if (!r.result.ok) throw new CebFileError(path, r.result.problems)
  const message = r.body ? (value as { message: unknown }).message : value
  const signature = { cardNo, alg: key.alg.alg, value: signPayload(key.privateKey, r.result.message, key.alg) }
  return JSON.stringify({ type: r.type, message, signature }, null, 2)
}

/** A reason on a line of `kouan ceb check`: a matching reason (rules.ts) or a refusal of the party rules (parties.ts). */
export interface CheckReason extends Omit<Reason, 'code'> {
  code: ReasonCode | PartyCode
  /** On FORMAT reasons of a file that fails its checks: the file. */
  file?: string
}

/** One line of `kouan ceb check`: an order's answer, or (returnStatus −1, CEB900) a file that could not be used. */
export interface CheckResult {
  orderNo: string
  /**
   * 120 accepted (logic checks passed), 100 rejected (the ticket, or a document intake would refuse), 2 incomplete
   * (a document is missing or waits for the one naming its party); −1: the file named in `file` is unusable and no
   * order number can be read from it.
   */
  returnStatus: number
  reasons: CheckReason[]
  /** Only on −1 results: the file. */
  file?: string
}

/** A buyer's dutiable value released before the input, in one calendar (China) year: CNY, a decimal string. */
export interface AnnualTotal {
  buyerIdNumber: string
  year: number
  amount: string
}

export interface CheckOptions {
  /**
   * China date of the check, `YYYY-MM-DD` (default: today in Asia/Shanghai). Documents count as sent at their appTime;
   * one dated later than the end of this day counts as sent then (intake receives nothing from the future).
   */
  today?: string
  /** Registered enterprise codes (any role); absent: every enterprise counts as registered. */
  registered?: readonly string[]
  /** Released totals before the input (see {@link readAnnualTotals}); absent: every buyer starts the year at 0. */
  annualTotals?: readonly AnnualTotal[]
}

/** The answer per order, and the files intake would refuse (their problems, for stderr). */
export interface CheckReport {
  results: CheckResult[]
  refused: Array<{ file: string; problems: CebProblem[] }>
}

const chinaToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)
const chinaDay = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10)
/** A CEB time `YYYYMMDDhhmmss` (China time, as field checks have admitted it) as epoch milliseconds. */
const cebMs = (t: string) =>
  Date.UTC(+t.slice(0, 4), +t.slice(4, 6) - 1, +t.slice(6, 8), +t.slice(8, 10), +t.slice(10, 12), +t.slice(12, 14)) -
  8 * 3600_000

type AnyDoc = CebDocuments[CebMessageType]

/**
 * Checks message files offline and answers per order what intake would answer for the same documents (DOMAIN §5,
 * service.ts `receiveMessage` with matching inline, as `kouan serve` runs):
 *
 * - Each message is taken as sent at its documents' appTime (the latest of them; at most the end of `today`), messages
 *   in that order, ties in input order. A file is one message; a JSON array holds one message per element.
 * - A message that fails its field checks is refused whole (CEB900): its problems are FORMAT reasons on the lines of the
 *   orders whose number can be read from it (a problem inside another document of the message is reported on them as
 *   "refused as a whole"); only problems whose order number cannot be read are a line of their own (−1, with `file`).
 * - Documents are applied as intake applies them: appType 1/2/3 against what is stored, identical resends, the party
 *   rules (a document joins only when the order, or for waybills the inventory, names its sender; parties.ts), one
 *   order number per ticket (DUPLICATE_ORDER), settled tickets (CEB_TICKET_SETTLED), and waybill numbers reused by
 *   another order only from 6 months (China dates) after their use (DUPLICATE_WAYBILL; rules.ts `waybillReusable`).
 * - A ticket is matched when its last document joins, and again when a counted document changes: `verifyTicket` on the
 *   China date of that message, with the default tax rates, every enterprise registered (or those of `registered`),
 *   and the buyer's released total of that calendar year: `annualTotals`, plus every order of the input released
 *   before it. An order that passes counts as released (the lane is customs' choice; the tool cannot know the
 *   selectivity rules), so a later order of the buyer that would cross ¥26,000 gets ANNUAL_LIMIT.
 *
 * A line is 100 when a document of the order would be refused or the ticket rejected (refusals first, then the
 * matching reasons), 120 when the ticket passed, 2 while it is incomplete (no reasons: intake judges a ticket once
 * complete). Returns first the −1 lines, then one line per order in order of first appearance in the input. Never
 * throws on file content.
 *
 * @throws RangeError when `today` is not a date or an annual total is malformed or given twice.
 */
export function checkFiles(paths: readonly string[], opts: CheckOptions = {}): CheckResult[] {
  return checkMessages(paths, opts).results
}

/** {@link checkFiles}, with the problems of every file intake would refuse (what `kouan ceb check` prints on stderr). */
export function checkMessages(paths: readonly string[], opts: CheckOptions = {}): CheckReport {
  const today = opts.today ?? chinaToday()
  if (!isDate(today)) throw new RangeError(`today must be YYYY-MM-DD: ${today}`)
  const latest = opts.today ? Date.parse(`${today}T23:59:59.999+08:00`) : Date.now()
  const totals = new Map<string, Big>()
  for (const t of opts.annualTotals ?? []) {
    const problem = annualTotalProblem(t)
    if (problem) throw new RangeError(`annual total ${JSON.stringify(t)}: ${problem}`)
    const k = `${t.buyerIdNumber}|${t.year}`
    if (totals.has(k)) throw new RangeError(`annual total of buyer ${t.buyerIdNumber}, year ${t.year} is given twice`)
    totals.set(k, new Big(t.amount))
  }
  const model = intakeModel({ totals, ...(opts.registered ? { registered: new Set(opts.registered) } : {}) })

  const lines: CheckResult[] = []
  const refused: CheckReport['refused'] = []
  const seen = new Set<string>()
  const appearance: string[] = []
  const appear = (orderNo: string) => {
    if (!seen.has(orderNo)) {
      seen.add(orderNo)
      appearance.push(orderNo)
    }
  }
  const messages: Array<{ message: CebMessage; at: number; seq: number }> = []
  for (const file of paths) {
    for (const item of loadFile(file)) {
      if (item.ok) {
        for (const d of item.message.documents) appear(orderNoOf(d as AnyDoc))
        const at = Math.min(latest, Math.max(...item.message.documents.map((d) => cebMs((d as AnyDoc).head.appTime))))
        messages.push({ message: item.message, at, seq: messages.length })
        continue
      }
      refused.push({ file, problems: item.problems })
      const docs = item.type ? [item.type] : []
      const reason = (p: CebProblem, message = p.message): CheckReason => ({
        code: 'FORMAT',
        message,
        pointer: p.pointer,
        documents: docs,
        file,
      })
      const inDoc = (p: CebProblem, d: DocRef) => p.pointer === d.pointer || p.pointer.startsWith(`${d.pointer}/`)
      const readable = item.docs.filter(
        (d) =>
          d.orderNo !== undefined &&
          !item.problems.some((p) => p.pointer === d.orderNoPointer || p.pointer.startsWith(`${d.orderNoPointer}/`)),
      )
      const unplaced = item.problems.filter((p) => !item.docs.some((d) => inDoc(p, d)))
      const orphans = item.problems.filter((p) => item.docs.some((d) => inDoc(p, d) && !readable.includes(d)))
      if (readable.length === 0) {
        lines.push({ file, orderNo: '', returnStatus: -1, reasons: item.problems.map((p) => reason(p)) })
        continue
      }
      if (orphans.length) lines.push({ file, orderNo: '', returnStatus: -1, reasons: orphans.map((p) => reason(p)) })
      for (const orderNo of new Set(readable.map((d) => d.orderNo!))) {
        appear(orderNo)
        const own = item.problems.filter((p) => readable.some((d) => d.orderNo === orderNo && inDoc(p, d)))
        const mine = [...own, ...unplaced].map((p) => reason(p))
        const first = item.problems[0]!
        model.refuse(
          orderNo,
          mine.length
            ? mine
            : [reason(first, `the message is refused as a whole (CEB900): ${first.pointer}: ${first.message}`)],
        )
      }
    }
  }
  messages.sort((a, b) => a.at - b.at || a.seq - b.seq)
  for (const m of messages) model.receive(m.message, m.at)

  for (const orderNo of appearance) {
    const answer = model.answer(orderNo)
    if (answer) lines.push({ orderNo, ...answer })
  }
  return { results: lines, refused }
}

/** Presence bit of each document type; a ticket is complete at 15 (as intake keeps `ceb_tickets.present`). */
const BIT: Record<CebMessageType, number> = { CEB311: 1, CEB411: 2, CEB511: 4, CEB621: 8 }
const COMPLETE = 15
const RELEASED = 800

/** A stored document, as intake keeps it in `ceb_documents`. */
interface StoredDoc {
  type: CebMessageType
  key: string
  orderNo: string
  body: AnyDoc
  version: number
  deleted: boolean
  /** Its canonical JSON (what intake hashes), computed when a document with its key comes again. */
  canonical?: string
  /** When the key was first stored (intake keeps `received_at` through changes); epoch ms. */
  receivedAt: number
}
interface TicketState {
  status: number
  reasons: Reason[]
  complete: boolean
}

/** Stored documents first come first, as intake reads them (received_at, type, doc_key). */
const byReceipt = (a: StoredDoc, b: StoredDoc) =>
  a.receivedAt - b.receivedAt ||
  (a.type < b.type ? -1 : a.type > b.type ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
const partyDoc = (d: StoredDoc, joined = false): PartyDoc => ({
  type: d.type,
  key: d.key,
  head: d.body.head as unknown as PartyHead,
  joined,
})

/**
 * What intake stores and decides for a sequence of messages, in memory: the documents, the tickets and their
 * verdicts, the refusals per order, and the buyers' released totals. The decisions are intake's pure functions
 * (keys.ts, parties.ts, rules.ts); the order of the checks is `receiveMessage`'s.
 */
function intakeModel(ctx: { totals: Map<string, Big>; registered?: ReadonlySet<string> }) {
  const docs = new Map<string, StoredDoc>()
  const byOrder = new Map<string, StoredDoc[]>()
  const tickets = new Map<string, TicketState>()
  const refusals = new Map<string, CheckReason[]>()
  const enterprises = ctx.registered ? (code: string) => ctx.registered!.has(code) : () => true

  const refuse = (orderNo: string, reasons: CheckReason[]) => {
    refusals.set(orderNo, [...(refusals.get(orderNo) ?? []), ...reasons])
  }
  const live = (orderNo: string) => (byOrder.get(orderNo) ?? []).filter((d) => !d.deleted).sort(byReceipt)
  const place = (d: StoredDoc) => {
    byOrder.set(d.orderNo, [...(byOrder.get(d.orderNo) ?? []), d])
  }
  const unplace = (d: StoredDoc) => {
    byOrder.set(
      d.orderNo,
      (byOrder.get(d.orderNo) ?? []).filter((x) => x !== d),
    )
  }
  /** The live documents of an order that count on its ticket (the others are held or refused). */
  const joined = (orderNo: string) => {
    const list = live(orderNo)
    const st = ticketStanding(
      orderNo,
      list.map((d) => partyDoc(d)),
    )
    return list.filter((_, i) => st[i]!.standing === 'joined')
  }

  /** `matchOrders` for one ticket at `now`: the verdict, and the buyer's total when it is released. */
  function match(orderNo: string, now: number) {
    const t = tickets.get(orderNo)!
    if (settled(t.status)) return
    const on = joined(orderNo)
    const get = <T extends CebMessageType>(type: T) =>
      on.find((d) => d.type === type)?.body as CebDocuments[T] | undefined
    const ticket: Ticket = {}
    const [order, payment, waybill, inventory] = [get('CEB311'), get('CEB411'), get('CEB511'), get('CEB621')]
    if (order) ticket.order = order
    if (payment) ticket.payment = payment
    if (waybill) ticket.waybill = waybill
    if (inventory) ticket.inventory = inventory
    const today = chinaDay(now)
    const year = Number(today.slice(0, 4))
    const v = verifyTicket(ticket, {
      today,
      enterprises,
      waybillSeen: () => [],
      rates: DEFAULT_TAX_RATES,
      buyerYearTotal: (id) => ctx.totals.get(`${id}|${year}`)?.toFixed() ?? '0',
    })
    if (!v.complete) {
      Object.assign(t, { status: 2, reasons: v.reasons, complete: false })
      return
    }
    if (v.returnStatus !== 120) {
      Object.assign(t, { status: 100, reasons: v.reasons, complete: true })
      return
    }
    Object.assign(t, { status: RELEASED, reasons: v.reasons, complete: true })
    const buyer = inventory!.head.buyerIdNumber
    const dutiable = v.tax?.dutiableValue
    if (buyer && dutiable)
      ctx.totals.set(`${buyer}|${year}`, (ctx.totals.get(`${buyer}|${year}`) ?? new Big(0)).plus(dutiable))
  }

  /** One message received at `now` (epoch ms), in the order of `receiveMessage`'s checks. */
  function receive(message: CebMessage, now: number) {
    const type = message.type
    const code = message.baseTransfer.copCode
    const day = chinaDay(now)
    const all = message.documents as AnyDoc[]
    const notParty = all.findIndex((d) => !senderCodes(type, d).includes(code))
    if (notParty >= 0) {
      // Intake refuses the message as a whole (403): the signing enterprise (BaseTransfer copCode) is no sender of one document.
      for (const d of all)
        refuse(orderNoOf(d), [
          {
            code: 'SIGNATURE',
            message: `the sending enterprise ${code} (BaseTransfer copCode) is not a party entitled to send this ${type} document`,
            pointer: `/${type}Message/${HEAD_NAME[type]}/${notParty}`,
            documents: [type],
          },
        ])
      return
    }
    const inMessage = new Set<string>()
    const touched = new Set<string>()
    for (const doc of all) {
      const key = docKey(type, doc)
      const orderNo = orderNoOf(doc)
      const head = doc.head as unknown as PartyHead
      const no = (c: ReasonCode | PartyCode, msg: string, pointer: string, documents: CebMessageType[] = [type]) =>
        refuse(orderNo, [{ code: c, message: msg, pointer, documents }])
      const at = (field: string) => fieldPointer(type, field)
      if (inMessage.has(key)) {
        no('FORMAT', `document ${key} appears twice in the message`, at('guid'))
        continue
      }
      inMessage.add(key)
      const e = docs.get(`${type}|${key}`)
      if (e && !e.deleted && (e.canonical ??= canonicalJson(e.body)) === canonicalJson(doc)) continue // an identical resend: idempotent
      const app = appTypeOf(doc)
      if (app !== '1' && e && !e.deleted && senderRoles(type, e.body.head as unknown as PartyHead, code).length === 0) {
        no(
          'CEB_PARTY_NOT_NAMED',
          `document ${key} names other parties; only they may change it`,
          at(senderField(type, head, code)),
        )
        continue
      }
      const before = live(orderNo)
      const was = ticketStanding(
        orderNo,
        before.map((d) => partyDoc(d)),
      )
      const joinedBefore = (d: StoredDoc) => was[before.indexOf(d)]?.standing === 'joined'
      const joinedHead = (t: CebMessageType) =>
        before.find((d) => d.type === t && joinedBefore(d))?.body.head as unknown as PartyHead | undefined
      const outsider = notNamed(orderNo, type, head, joinedHead('CEB311'), joinedHead('CEB621'))
      if (outsider?.standing === 'refused') {
        no(outsider.code, outsider.message, outsider.pointer)
        continue
      }
      const holder =
        type === 'CEB311' && app === '1' ? before.filter((d) => d.type === 'CEB311').at(-1)?.key : undefined
      if (holder && holder !== key) {
        no(
          'DUPLICATE_ORDER',
          `order number ${orderNo} is already used by order ${holder}; order numbers identify tickets across platforms`,
          at('orderNo'),
        )
        continue
      }
      const status = tickets.get(orderNo)?.status
      if (settled(status)) {
        no(
          'CEB_TICKET_SETTLED',
          `order ${orderNo} has verdict ${status}; its documents can no longer change or be added`,
          at('orderNo'),
        )
        continue
      }
      let write: { version: number; deleted: boolean; retires?: StoredDoc }
      if (app === '1') {
        if (type === 'CEB511' && e && e.orderNo !== orderNo) {
          if (!e.deleted && !waybillReusable(new Date(e.receivedAt).toISOString(), day)) {
            no(
              'DUPLICATE_WAYBILL',
              `waybill ${key} serves order ${e.orderNo} since ${chinaDay(e.receivedAt)}; a logistics firm may reuse a waybill number 6 months after its use`,
              at('logisticsNo'),
            )
            continue
          }
          write = { version: 1, deleted: false, retires: e }
        } else if (e && !e.deleted) {
          no('FORMAT', `document ${key} exists; modify it with appType 2`, at('appType'))
          continue
        } else write = { version: (e?.version ?? 0) + 1, deleted: false }
      } else if (!e || e.deleted) {
        no('FORMAT', `document ${key} does not exist; appType ${app} needs an earlier appType 1`, at('appType'))
        continue
      } else if (e.orderNo !== orderNo) {
        no(
          'FORMAT',
          `a ${app === '2' ? 'modification' : 'deletion'} cannot move document ${key} to another order`,
          at('orderNo'),
        )
        continue
      } else write = { version: e.version + 1, deleted: app === '3' }

      // The ticket's standing with the write applied: a write the party rules refuse is dropped.
      const replaced = !write.retires && e && !e.deleted && e.orderNo === orderNo ? e : undefined
      const rows: Array<StoredDoc | undefined> = []
      const list: PartyDoc[] = []
      for (const d of before) {
        if (d === replaced && write.deleted) continue
        rows.push(d)
        list.push(d === replaced ? { type, key, head, joined: joinedBefore(d) } : partyDoc(d, joinedBefore(d)))
      }
      if (!replaced && !write.deleted) {
        rows.push(undefined)
        list.push({ type, key, head, joined: false })
      }
      const after = ticketStanding(orderNo, list)
      const mine = replaced && !write.deleted ? rows.indexOf(replaced) : rows.indexOf(undefined)
      const own = mine >= 0 ? after[mine]! : undefined
      if (own?.standing === 'refused') {
        no(own.code, own.message, own.pointer)
        continue
      }

      // Applied: stored documents whose standing changes, the write, the ticket.
      if (own?.standing === 'joined' || (replaced && joinedBefore(replaced))) touched.add(orderNo)
      rows.forEach((d, i) => {
        if (!d || d === replaced) return
        const now2 = after[i]!
        const then = was[before.indexOf(d)]!.standing
        if (now2.standing === then) return
        if (now2.standing === 'refused') {
          d.deleted = true
          refuse(d.orderNo, [{ code: now2.code, message: now2.message, pointer: now2.pointer, documents: [d.type] }])
        }
        if (now2.standing === 'joined' || then === 'joined') touched.add(orderNo)
      })
      if (write.retires) {
        // The earlier use keeps its order under a key naming it; the number now serves this order.
        const old = write.retires
        docs.delete(`${type}|${key}`)
        old.key = `${key}#${old.orderNo}`
        docs.set(`${type}|${old.key}`, old)
      }
      const target = write.retires ? undefined : e
      if (target) {
        if (target.orderNo !== orderNo) {
          unplace(target)
          target.orderNo = orderNo
          place(target)
        }
        Object.assign(target, { body: doc, canonical: undefined, version: write.version, deleted: write.deleted })
      } else {
        const d: StoredDoc = {
          type,
          key,
          orderNo,
          body: doc,
          version: write.version,
          deleted: write.deleted,
          receivedAt: now,
        }
        docs.set(`${type}|${key}`, d)
        place(d)
      }
      if (!tickets.has(orderNo)) tickets.set(orderNo, { status: 2, reasons: [], complete: false })
    }
    // Matched when the last document joins, and again when a counted document of a matched ticket changes; tickets
    // completed by one message in order-number order, each counting the buyer totals of those before it.
    for (const orderNo of [...touched].sort()) {
      const t = tickets.get(orderNo)!
      const present = joined(orderNo).reduce((bits, d) => bits | BIT[d.type], 0)
      if (!settled(t.status) && (present === COMPLETE || t.complete)) match(orderNo, now)
    }
  }

  /** The line of an order: refusals make it 100; otherwise the ticket's verdict (released → 120) or 2. */
  function answer(orderNo: string): Omit<CheckResult, 'orderNo'> | undefined {
    const refused = refusals.get(orderNo) ?? []
    const t = tickets.get(orderNo)
    if (!refused.length && (!t || (!live(orderNo).length && !t.reasons.length))) return undefined // nothing of it left
    const status = refused.length || t?.status === 100 ? 100 : t && t.status >= 120 ? 120 : 2
    return { returnStatus: status, reasons: [...refused, ...(t?.reasons ?? [])] }
  }

  return { receive, refuse, answer }
}

// ---------------------------------------------------------------------------------------------------------------
// Earlier annual totals: `--annual-totals FILE`

/** A file of earlier annual totals that cannot be used; the message names the file, the line or JSON pointer, and the field. */
export class AnnualTotalsError extends Error {}

const TOTAL_FIELDS = ['buyerIdNumber', 'year', 'amount'] as const
const AMOUNT = /^\d{1,20}(\.\d{1,10})?$/

/** What is wrong with one annual total, naming the field; undefined when it is fine. */
function annualTotalProblem(t: { buyerIdNumber: unknown; year: unknown; amount: unknown }): string | undefined {
  if (typeof t.buyerIdNumber !== 'string' || !/^\S{1,60}$/.test(t.buyerIdNumber)) {
    return `buyerIdNumber: must be the buyer's ID number as the inventory gives it (1–60 characters, no spaces): ${JSON.stringify(t.buyerIdNumber)}`
  }
  if (typeof t.year !== 'number' || !Number.isInteger(t.year) || t.year < 1000 || t.year > 9999)
    return `year: must be a calendar year such as 2025: ${JSON.stringify(t.year)}`
  if (typeof t.amount !== 'string' || !AMOUNT.test(t.amount))
    return `amount: must be a non-negative decimal such as 1234.50 (CNY): ${JSON.stringify(t.amount)}`
  return undefined
}

/**
 * Reads earlier released totals per buyer and calendar year (China) for {@link CheckOptions.annualTotals}: what the
 * buyers had released before the files checked, as `ceb_buyer_totals` holds it. Two forms, told apart by the first
 * character:
 *
 * - CSV, one total per line: `buyerIdNumber,year,amount` (a header line with these names is optional; fields may be
 *   quoted), e.g. `110105199003071239,2025,18250.40`;
 * - JSON: an array of `{"buyerIdNumber": "…", "year": 2025, "amount": "18250.40"}`; the amount is a decimal string
 *   (a JSON number is refused: binary floats lose cents), the year an integer or a 4-digit string.
 *
 * A buyer and year given twice is refused. A UTF-8 BOM is ignored.
 *
 * @throws AnnualTotalsError naming the file and the line (CSV) or JSON pointer and the field.
 */
export function readAnnualTotals(path: string): AnnualTotal[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new AnnualTotalsError(
      `${path}: cannot read the file: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`,
    )
  }
  return parseAnnualTotals(text, path)
}

/** {@link readAnnualTotals} of a file's text; `name` opens the error messages. */
export function parseAnnualTotals(text: string, name: string): AnnualTotal[] {
  const body = text.replace(/^\uFEFF/, '')
  /** `name: where: message`, or `name: where, field: message` for a field's problem. */
  const fail = (where: string, message: string): never => {
    throw new AnnualTotalsError(`${name}: ${where}${message.startsWith(':') ? '' : ', '}${message}`)
  }
  const out: AnnualTotal[] = []
  const where = new Map<string, string>()
  const add = (t: AnnualTotal, at: string, named: (w: string) => string) => {
    const k = `${t.buyerIdNumber}|${t.year}`
    const earlier = where.get(k)
    if (earlier !== undefined) fail(at, `: buyer ${t.buyerIdNumber}, year ${t.year} is already ${named(earlier)}`)
    where.set(k, at)
    out.push(t)
  }
  if (/^\s*\[/.test(body) || /^\s*\{/.test(body)) {
    let value: unknown
    try {
      value = JSON.parse(body)
    } catch (e) {
      throw new AnnualTotalsError(`${name}: ${jsonSyntax(body, e).message}`)
    }
    if (!Array.isArray(value)) fail('/', ': must be a JSON array of {"buyerIdNumber", "year", "amount"}')
    ;(value as unknown[]).forEach((v, i) => {
      const at = `/${i}`
      if (!isRec(v)) return fail(at, ': must be an object {"buyerIdNumber", "year", "amount"}')
      for (const k of Object.keys(v))
        if (!(TOTAL_FIELDS as readonly string[]).includes(k))
          fail(`${at}/${k}`, `: not a field of an annual total (${TOTAL_FIELDS.join(', ')})`)
      for (const k of TOTAL_FIELDS) if (!(k in v)) fail(`${at}/${k}`, ': required')
      const year = typeof v.year === 'string' && /^\d{4}$/.test(v.year) ? Number(v.year) : v.year
      if (typeof v.amount === 'number')
        fail(
          `${at}/amount`,
          `: must be a decimal string such as "1234.50"; the JSON number ${String(v.amount)} is refused (binary floats lose cents)`,
        )
      const t = { buyerIdNumber: v.buyerIdNumber, year, amount: v.amount }
      const problem = annualTotalProblem(t)
      if (problem) fail(`${at}/${problem.slice(0, problem.indexOf(':'))}`, problem.slice(problem.indexOf(':')))
      add(t as AnnualTotal, at, (w) => `at ${w}`)
    })
    return out
  }
  let first = true
  body.split(/\r?\n|\r/).forEach((raw, i) => {
    const line = `line ${i + 1}`
    if (raw.trim() === '') return
    const fields = csvFields(raw) ?? fail(line, ': a quoted field is not closed')
    // The first line may be the header.
    if (first && ((first = false), fields[0]!.toLowerCase() === 'buyeridnumber')) {
      if (fields.join(',').toLowerCase() !== TOTAL_FIELDS.join(',').toLowerCase())
        fail(line, `: the header must be ${TOTAL_FIELDS.join(',')}`)
      return
    }
    if (fields.length !== 3) fail(line, `: 3 fields expected (${TOTAL_FIELDS.join(',')}), found ${fields.length}`)
    const [buyerIdNumber, year, amount] = fields as [string, string, string]
    const t = { buyerIdNumber, year: /^\d{4}$/.test(year) ? Number(year) : year, amount }
    const problem = annualTotalProblem(t)
    if (problem) fail(line, problem)
    add(t as AnnualTotal, line, (w) => `on ${w}`)
  })
  return out
}

/** The fields of one CSV line (RFC 4180 quoting within the line, fields trimmed); undefined when a quote is not closed. */
function csvFields(line: string): string[] | undefined {
  const out: string[] = []
  let i = 0
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++
    let field = ''
    if (line[i] === '"') {
      i++
      for (;;) {
        if (i >= line.length) return undefined
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"'
            i += 2
            continue
          }
          i++
          break
        }
        field += line[i++]
      }
      while (i < line.length && line[i] !== ',') field += line[i++]
    } else {
      while (i < line.length && line[i] !== ',') field += line[i++]
    }
    out.push(field.trim())
    if (i >= line.length) return out
    i++ // the comma
  }
}

function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  if (!m) return false
  const d = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
}

/** Where the commands write; the defaults are stdout, stderr and process.exitCode. */
export interface CebIo {
  out?: (line: string) => void
  err?: (line: string) => void
  exit?: (code: number) => void
}

/**
 * Adds `ceb sign` and `ceb check` to a commander program (kouan's cli.ts: `cebCommand(program)`).
 *
 * - `ceb sign <file> -k <key.json> -c <cardNo>`: prints the `x-kouan-signature` header value for an XML file, or the
 *   signed JSON body for a JSON file. Exit 2 with the problems on stderr when the file is not a valid message.
 * - `ceb check <files...> [--json] [--today YYYY-MM-DD] [--registered codes] [--annual-totals FILE]`: one JSON line
 *   per order on stdout, `{"orderNo","returnStatus","reasons"}`, what intake would answer ({@link checkFiles}); exit 0
 *   even when orders fail their checks. A file intake would refuse (field checks, CEB900) has its problems on stderr
 *   (file, line/column or pointer) and the exit code is 2; they are FORMAT reasons on its orders' lines, or a line with
 *   `"file"` and returnStatus −1 when no order number can be read from it. A bad `--annual-totals` file: exit 2 before
 *   anything is checked.
 */
export function cebCommand(program: Command, io: CebIo = {}): Command {
  const out =
    io.out ??
    ((l: string) => {
      process.stdout.write(`${l}\n`)
    })
  const err =
    io.err ??
    ((l: string) => {
      process.stderr.write(`${l}\n`)
    })
  const exit =
    io.exit ??
    ((c: number) => {
      process.exitCode = c
    })
  const ceb = program
    .command('ceb')
    .description('cross-border e-commerce messages (CEB311/411/511/621): sign and check files offline')

  ceb
    .command('sign')
    .description(
      'sign a CEB message file with a card key: prints the x-kouan-signature header value (XML) or the JSON body to POST',
    )
    .argument('<file>', 'CEB311/411/511/621 message, XML or JSON ({type, message})')
    .requiredOption('-k, --key <key.json>', 'key pair JSON from `kouan card keygen`')
    .requiredOption('-c, --card <cardNo>', 'card number customs issued')
    .action((file: string, o: { key: string; card: string }) => {
      try {
        out(signFile(file, o.key, o.card))
      } catch (e) {
        err(e instanceof CebFileError ? e.message : `kouan ceb sign: ${(e as Error).message}`)
        exit(2)
      }
    })

  ceb
    .command('check')
    .description(
      'check message files offline as intake would answer them (three-document matching, annual limit, waybill window): one JSON line per order on stdout',
    )
    .argument(
      '<files...>',
      'message files, XML or JSON; documents are grouped by orderNo across files and taken as sent at their appTime',
    )
    .option('--json', 'JSON lines on stdout (the default; kept for scripts)')
    .option(
      '--today <YYYY-MM-DD>',
      'China date of the check (default: today): no document counts as sent after it',
      (v: string) => {
        if (!isDate(v)) throw new InvalidArgumentError('must be a date YYYY-MM-DD')
        return v
      },
    )
    .option(
      '--registered <codes>',
      'comma-separated registered enterprise codes (default: all count as registered)',
      (v: string) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
    )
    .option(
      '--annual-totals <file>',
      "buyers' released totals before these files: CSV buyerIdNumber,year,amount or JSON [{buyerIdNumber, year, amount}], amounts as decimal strings",
    )
    .action((files: string[], o: { today?: string; registered?: string[]; annualTotals?: string }) => {
      let annualTotals: AnnualTotal[] | undefined
      if (o.annualTotals !== undefined) {
        try {
          annualTotals = readAnnualTotals(o.annualTotals)
        } catch (e) {
          if (!(e instanceof AnnualTotalsError)) throw e
          err(`kouan ceb check: ${e.message}`)
          exit(2)
          return
        }
      }
      const { results, refused } = checkMessages(files, {
        ...(o.today ? { today: o.today } : {}),
        ...(o.registered ? { registered: o.registered } : {}),
        ...(annualTotals ? { annualTotals } : {}),
      })
      for (const { file, problems } of refused) for (const p of problems) err(`${file}: ${describe(p)}`)
      for (const r of results) {
        if (r.returnStatus === -1)
          out(JSON.stringify({ file: r.file, orderNo: r.orderNo, returnStatus: r.returnStatus, reasons: r.reasons }))
        else out(JSON.stringify({ orderNo: r.orderNo, returnStatus: r.returnStatus, reasons: r.reasons }))
      }
      if (refused.length) exit(2)
    })
  return ceb
}
