import { readFileSync } from 'node:fs'
import { Command, InvalidArgumentError } from 'commander'
import { parseKeyFile, signPayload, type KeyFile } from '../../shared/signing.js'
import { docKey } from './keys.js'
import { verifyTicket, type Reason, type Ticket } from './rules.js'
import { DEFAULT_TAX_RATES } from './tax.js'
import type { CebDocuments, CebMessage, CebMessageType, CebProblem, Inventory, Order, Payment, Waybill } from './types.js'
import { parseCebJson, parseCebXml, xmlSignatureHeader, type CebParseResult } from './xml.js'

/**
 * Offline tools for enterprises and operators: sign a CEB message file for `POST /api/v1/ceb/messages`, and check
 * files the way the matching does (三单对碰) before sending them. Behind `kouan ceb sign` and `kouan ceb check`.
 */

const MESSAGE_TYPES: readonly CebMessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621']
const HEAD: Record<CebMessageType, string> = { CEB311: 'OrderHead', CEB411: 'PaymentHead', CEB511: 'LogisticsHead', CEB621: 'InventoryHead' }
const SLOT = { CEB311: 'order', CEB411: 'payment', CEB511: 'waybill', CEB621: 'inventory' } as const

/** A file that cannot be used: unreadable, not well-formed, or not a valid CEB message. */
export class CebFileError extends Error {
  constructor(readonly file: string, readonly problems: CebProblem[]) {
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
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++ }
  const fail = (): never => { throw i }
  const lit = (w: string) => { if (text.startsWith(w, i)) i += w.length; else fail() }
  const str = () => {
    i++ // opening quote
    for (;;) {
      if (i >= text.length) fail()
      const c = text.charCodeAt(i)
      if (c === 0x22) { i++; return }
      if (c < 0x20) fail()
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === 'u') { if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) { i += 2; fail() } i += 6 }
        else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else { i++; fail() }
      } else i++
    }
  }
  const value = (depth: number): void => {
    ws()
    const c = text[i]
    if (depth > 1000) fail()
    if (c === '{') {
      i++; ws()
      if (text[i] === '}') { i++; return }
      for (;;) {
        ws(); if (text[i] !== '"') fail(); str(); ws()
        if (text[i] !== ':') fail(); i++
        value(depth + 1); ws()
        if (text[i] === ',') { i++; continue }
        if (text[i] === '}') { i++; return }
        fail()
      }
    } else if (c === '[') {
      i++; ws()
      if (text[i] === ']') { i++; return }
      for (;;) {
        value(depth + 1); ws()
        if (text[i] === ',') { i++; continue }
        if (text[i] === ']') { i++; return }
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
    value(0); ws()
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
  const reason = msg.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '').replace(/, ".*" is not valid JSON$/s, '')
    .replace(/^Unexpected end of JSON input$/, 'unexpected end of input')
  return formatProblem(`JSON is not well-formed at ${lineCol(text, offset)}: ${reason}`)
}

interface Parsed { ok: true; messages: Array<{ message: CebMessage; pointer: string }> }
interface Failed { ok: false; problems: CebProblem[]; type?: CebMessageType }

/**
 * A JSON message: the API body `{type, message, signature?}`, a serialised CebMessage `{type, guid, documents,
 * baseTransfer}`, or an array of either. Pointers are prefixed to point into the file.
 */
function parseJsonValue(value: unknown, at: string): { type?: CebMessageType; result: CebParseResult; body: boolean } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { result: { ok: false, problems: [formatProblem('a JSON message is an object {type, message} or {type, guid, documents, baseTransfer}', at || '/')] }, body: false }
  }
  const rec = value as Record<string, unknown>
  const type = rec.type
  if (typeof type !== 'string' || !MESSAGE_TYPES.includes(type as CebMessageType)) {
    return { result: { ok: false, problems: [formatProblem(`type must be one of ${MESSAGE_TYPES.join(', ')}`, `${at}/type`)] }, body: false }
  }
  const t = type as CebMessageType
  if ('message' in rec) {
    const extra = Object.keys(rec).filter((k) => !['type', 'message', 'signature'].includes(k))
    if (extra.length) return { type: t, result: { ok: false, problems: extra.map((k) => formatProblem(`${k} is not part of a message body {type, message, signature}`, `${at}/${k}`)) }, body: true }
    const r = parseCebJson(t, rec.message)
    return { type: t, body: true, result: r.ok ? r : { ok: false, problems: r.problems.map((p) => ({ ...p, pointer: `${at}/message${p.pointer === '/' ? '' : p.pointer}` })) } }
  }
  const r = parseCebJson(t, rec)
  return { type: t, body: false, result: r.ok ? r : { ok: false, problems: r.problems.map((p) => ({ ...p, pointer: `${at}${p.pointer}` || '/' })) } }
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
    return bad(`cannot read the file: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`)
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
    return bad(`neither XML nor JSON: the file starts with ${JSON.stringify(String.fromCodePoint(text.trimStart().codePointAt(0)!))}`)
  }
  try {
    return { kind: 'json', value: JSON.parse(text) }
  } catch (e) {
    return { kind: 'bad', problems: [jsonSyntax(text, e)] }
  }
}

/** Reads and parses one message file (XML, or JSON in one of the forms of {@link parseJsonValue}). Never throws. */
function loadFile(path: string): Parsed | Failed {
  const raw = readMessageFile(path)
  if (raw.kind === 'bad') return { ok: false, problems: raw.problems }
  if (raw.kind === 'xml') {
    const r = parseCebXml(raw.bytes)
    return r.ok ? { ok: true, messages: [{ message: r.message, pointer: '' }] } : { ok: false, problems: r.problems }
  }
  const value = raw.value
  const items = Array.isArray(value) ? value.map((v, k) => [v, `/${k}`] as const) : [[value, ''] as const]
  if (items.length === 0) return { ok: false, problems: [formatProblem('an empty array holds no message')] }
  const messages: Parsed['messages'] = []
  const problems: CebProblem[] = []
  let type: CebMessageType | undefined
  for (const [v, at] of items) {
    const r = parseJsonValue(v, at)
    type ??= r.type
    if (r.result.ok) messages.push({ message: r.result.message, pointer: at })
    else problems.push(...r.result.problems)
  }
  return problems.length ? { ok: false, problems, ...(type ? { type } : {}) } : { ok: true, messages }
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
  if (!/^[^;\s]{1,32}$/.test(cardNo)) throw new Error(`card number must be 1–32 characters without ";" or spaces: ${cardNo}`)
  const key = readKey(keyFile)
  const raw = readMessageFile(path)
  if (raw.kind === 'bad') throw new CebFileError(path, raw.problems)
  if (raw.kind === 'xml') {
    const r = parseCebXml(raw.bytes)
    if (!r.ok) throw new CebFileError(path, r.problems)
    return xmlSignatureHeader(cardNo, key.privateKey, r.message, key.alg)
  }
  const value = raw.value
  if (Array.isArray(value)) throw new CebFileError(path, [formatProblem('sign one message per file; this file holds an array')])
  const r = parseJsonValue(value, '')
  if (!r.result.ok) throw new CebFileError(path, r.result.problems)
  const message = r.body ? (value as { message: unknown }).message : value
  const signature = { cardNo, alg: key.alg.alg, value: signPayload(key.privateKey, r.result.message, key.alg) }
  return JSON.stringify({ type: r.type, message, signature }, null, 2)
}

/** One line of `kouan ceb check`: an order's verdict, or (returnStatus −1, CEB900) a file that could not be used. */
export interface CheckResult {
  orderNo: string
  /** 120 accepted, 100 rejected, 2 incomplete (a document is missing); −1: the file named in `file` is unusable. */
  returnStatus: number
  reasons: Reason[]
  /** Only on −1 results: the file. */
  file?: string
}

export interface CheckOptions {
  /** China date of the check, `YYYY-MM-DD` (birth dates, waybill window). Default: today in Asia/Shanghai. */
  today?: string
  /** Registered enterprise codes (any role); absent: every enterprise counts as registered. */
  registered?: readonly string[]
}

const chinaToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)

type AnyDoc = CebDocuments[CebMessageType]

/**
 * Checks message files offline as the matching would: parses each (XML or JSON), groups documents by orderNo across
 * files, and runs `verifyTicket` per order with every enterprise registered (or those of `registered`), annual
 * totals 0 and the default tax rates. Documents apply in file order: appType 1/2 replace a document with the same
 * business key in the same order, 3 deletes it. A waybill number used by an earlier order in the input gets
 * DUPLICATE_WAYBILL; two orders with one order number (from two platforms) get DUPLICATE_ORDER, as intake answers;
 * two other documents of one type for one order are reported as FORMAT.
 *
 * Returns first one result per unusable file (returnStatus −1, its problems as FORMAT reasons with pointers), then
 * one per order in order of first appearance. Never throws on file content.
 *
 * @throws RangeError when `today` is not a date.
 */
export function checkFiles(paths: readonly string[], opts: CheckOptions = {}): CheckResult[] {
  const today = opts.today ?? chinaToday()
  if (!isDate(today)) throw new RangeError(`today must be YYYY-MM-DD: ${today}`)
  const failed: CheckResult[] = []
  // orderNo → type → docKey → document, in first-appearance order.
  const orders = new Map<string, Map<CebMessageType, Map<string, AnyDoc>>>()
  for (const file of paths) {
    const r = loadFile(file)
    if (!r.ok) {
      const docs = r.type ? [r.type] : []
      failed.push({ file, orderNo: '', returnStatus: -1, reasons: r.problems.map((p) => ({ code: 'FORMAT', message: p.message, pointer: p.pointer, documents: docs })) })
      continue
    }
    for (const { message } of r.messages) {
      for (const d of message.documents) {
        const doc = d as AnyDoc
        const orderNo = doc.head.orderNo
        let byType = orders.get(orderNo)
        if (!byType) orders.set(orderNo, (byType = new Map()))
        let byKey = byType.get(message.type)
        if (!byKey) byType.set(message.type, (byKey = new Map()))
        const key = docKey(message.type, doc)
        if (doc.head.appType === '3') byKey.delete(key)
        else {
          byKey.delete(key) // a modification moves to the end: the latest version counts
          byKey.set(key, doc)
        }
      }
    }
  }

  // Earlier uses of each waybill number, by order of first appearance.
  const seq = new Map([...orders.keys()].map((o, i) => [o, i]))
  const waybills = new Map<string, Array<{ orderNo: string; seq: number }>>()
  for (const [orderNo, byType] of orders) {
    for (const doc of byType.get('CEB511')?.values() ?? []) {
      const h = (doc as Waybill).head
      const k = `${h.logisticsCode}|${h.logisticsNo}`
      waybills.set(k, [...(waybills.get(k) ?? []), { orderNo, seq: seq.get(orderNo)! }])
    }
  }
  const registered = opts.registered ? new Set(opts.registered) : undefined

  const results: CheckResult[] = []
  for (const [orderNo, byType] of orders) {
    const ticket: Ticket = {}
    const conflicts: Reason[] = []
    for (const type of MESSAGE_TYPES) {
      const docs = [...(byType.get(type)?.values() ?? [])]
      if (docs.length === 0) continue
      if (docs.length > 1 && type === 'CEB311') {
        // As intake answers: order numbers identify tickets, so a second platform's order with the number is refused.
        conflicts.push({ code: 'DUPLICATE_ORDER', message: `order number ${orderNo} is used by ${docs.length} orders (${docs.map((d) => docKey(type, d)).join(', ')}); order numbers identify tickets across platforms`, pointer: `/${type}/${HEAD[type]}/orderNo`, documents: [type] })
      } else if (docs.length > 1) {
        conflicts.push({ code: 'FORMAT', message: `order ${orderNo} has ${docs.length} ${type} documents (${docs.map((d) => docKey(type, d)).join(', ')}); a ticket has one of each`, pointer: `/${type}/${HEAD[type]}`, documents: [type] })
      }
      const slot = SLOT[type]
      ;(ticket as Record<string, AnyDoc>)[slot] = docs[0]!
    }
    if (!ticket.order && !ticket.payment && !ticket.waybill && !ticket.inventory) continue // everything deleted
    const mine = seq.get(orderNo)!
    const v = verifyTicket(ticket as { order?: Order; payment?: Payment; waybill?: Waybill; inventory?: Inventory }, {
      today,
      enterprises: registered ? (code) => registered.has(code) : () => true,
      waybillSeen: (code, no) => (waybills.get(`${code}|${no}`) ?? []).filter((u) => u.seq < mine).map((u) => ({ orderNo: u.orderNo, at: today })),
      buyerYearTotal: () => '0',
      rates: DEFAULT_TAX_RATES,
    })
    const reasons = [...conflicts, ...v.reasons]
    results.push({ orderNo, returnStatus: v.returnStatus === 120 && conflicts.length ? 100 : v.returnStatus, reasons })
  }
  return [...failed, ...results]
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
 * - `ceb check <files...> [--json] [--today YYYY-MM-DD] [--registered codes]`: one JSON line per order on stdout,
 *   `{"orderNo","returnStatus","reasons"}`; exit 0 even when orders fail their checks. An unusable file adds a line
 *   with `"file"` and returnStatus −1 (CEB900), its problems go to stderr (file, line/column or pointer), and the
 *   exit code is 2.
 */
export function cebCommand(program: Command, io: CebIo = {}): Command {
  const out = io.out ?? ((l: string) => { process.stdout.write(`${l}\n`) })
  const err = io.err ?? ((l: string) => { process.stderr.write(`${l}\n`) })
  const exit = io.exit ?? ((c: number) => { process.exitCode = c })
  const ceb = program.command('ceb').description('cross-border e-commerce messages (CEB311/411/511/621): sign and check files offline')

  ceb.command('sign')
    .description('sign a CEB message file with a card key: prints the x-kouan-signature header value (XML) or the JSON body to POST')
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

  ceb.command('check')
    .description('check message files offline as the three-document matching does: one JSON line per order on stdout')
    .argument('<files...>', 'message files, XML or JSON; documents are grouped by orderNo across files')
    .option('--json', 'JSON lines on stdout (the default; kept for scripts)')
    .option('--today <YYYY-MM-DD>', 'China date of the check (default: today)', (v: string) => {
      if (!isDate(v)) throw new InvalidArgumentError('must be a date YYYY-MM-DD')
      return v
    })
    .option('--registered <codes>', 'comma-separated registered enterprise codes (default: all count as registered)', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .action((files: string[], o: { today?: string; registered?: string[] }) => {
      const results = checkFiles(files, { ...(o.today ? { today: o.today } : {}), ...(o.registered ? { registered: o.registered } : {}) })
      let unusable = false
      for (const r of results) {
        if (r.returnStatus === -1) {
          unusable = true
          for (const reason of r.reasons) err(`${r.file}: ${describe(reason)}`)
          out(JSON.stringify({ file: r.file, orderNo: r.orderNo, returnStatus: r.returnStatus, reasons: r.reasons }))
        } else out(JSON.stringify({ orderNo: r.orderNo, returnStatus: r.returnStatus, reasons: r.reasons }))
      }
      if (unusable) exit(2)
    })
  return ceb
}
