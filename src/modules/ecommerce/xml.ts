import { XMLBuilder } from 'fast-xml-parser'
import { SaxesParser } from 'saxes'
import { ed25519, signPayload, type SignatureAlgorithm } from '../../shared/signing.js'
import {
  BASE_TRANSFER_MESSAGE,
  CEB_STRUCTURE,
  FORMAT,
  MESSAGE_ATTRIBUTE_FIELDS,
  fieldsFor,
  isRecord,
  nonXmlChar,
  pointerSegment,
  validateBaseTransfer,
  validateDocument,
  validateFields,
  type FieldSpec,
} from './fields.js'
import type { BaseTransfer, CebDocuments, CebMessage, CebMessageType, CebProblem } from './types.js'

/** The CEB message namespace; any prefix (or the default namespace) bound to it is accepted. */
export const CEB_NAMESPACE = 'http://www.chinaport.gov.cn/ceb'
const DSIG_NAMESPACE = 'http://www.w3.org/2000/09/xmldsig#'
const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance'

/** The signature of an XML message travels in this header: `cardNo;alg;base64url-signature` (alg `Ed25519` or `SM2`, the card's). */
export const SIGNATURE_HEADER = 'x-kouan-signature'

/**
 * The {@link SIGNATURE_HEADER} value for a parsed message: the card's signature (with its algorithm, Ed25519 by
 * default) over the message's canonical JSON (what intake verifies), with the card number.
 */
export function xmlSignatureHeader(
  cardNo: string,
  privateKey: string,
  message: CebMessage,
  alg: SignatureAlgorithm = ed25519,
): string {
  return `${cardNo};${alg.alg};${signPayload(privateKey, message, alg)}`
}

/** Default size limit of one message, in bytes (UTF-8). */
export const CEB_MAX_BYTES = 10 * 1024 * 1024
/** Default limit of documents (Order, Payment, …) in one message. */
export const CEB_MAX_DOCUMENTS = 5000
/** At most this many problems are listed; a last one says how many were left out. */
export const CEB_MAX_PROBLEMS = 1000

/** Options of {@link parseCebXml} and {@link parseCebJson}. */
export interface CebParseOptions {
  /** Refuse larger input, in bytes (UTF-8). Default {@link CEB_MAX_BYTES}. */
  maxBytes?: number
  /** Refuse messages with more documents. Default {@link CEB_MAX_DOCUMENTS}. */
  maxDocuments?: number
}

/** A parsed and format-checked message, or the FORMAT problems that reject it. */
export type CebParseResult = { ok: true; message: CebMessage } | { ok: false; problems: CebProblem[] }

const MESSAGE_TYPES: readonly CebMessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621']
const ROOTS = new Map<string, CebMessageType>(MESSAGE_TYPES.map((t) => [CEB_STRUCTURE[t].root, t]))

const problem = (pointer: string, message: string): CebProblem => ({ code: FORMAT, message, pointer })
const failed = (problems: CebProblem[]): CebParseResult => ({ ok: false, problems: capped(problems) })

function capped(problems: CebProblem[]): CebProblem[] {
  if (problems.length <= CEB_MAX_PROBLEMS) return problems
  const rest = problems.length - CEB_MAX_PROBLEMS
  return [...problems.slice(0, CEB_MAX_PROBLEMS), problem('/', `${rest} more problems not listed`)]
}

/** Characters outside XML 1.0 `Char`: tab, LF, CR and the Unicode ranges minus surrogates, U+FFFE and U+FFFF. */
const NON_XML_CHARS = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

/** 1-based line and column of a string offset. */
function lineCol(s: string, index: number): string {
  let line = 1
  let last = -1
  for (let i = s.indexOf('\n'); i !== -1 && i < index; i = s.indexOf('\n', i + 1)) {
    line++
    last = i
  }
  return `line ${line}, column ${index - last}`
}

/** Document and line elements: the pointers of problems index them (`/CEB621Message/Inventory/1/InventoryList/2/gcode`). */
const INDEXED = new Set<string>(
  Object.values(CEB_STRUCTURE).flatMap((s) => (s.line ? [s.document, s.line] : [s.document])),
)

/**
 * The pointer of the element open at `offset` of `text`, as the field checks write it (local names, documents and
 * lines indexed), for a problem found before the tree exists: a character XML cannot carry. A scan of the tags up
 * to `offset`, run only on that error path; `/` when no element is open there.
 */
function elementPointerAt(text: string, offset: number): string {
  const stack: Array<{ seg: string[]; counts: Map<string, number> }> = []
  // Comments, CDATA and PIs are skipped whole, or to the end when `text` stops inside one.
  const tags =
    /<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<\?[\s\S]*?(?:\?>|$)|<(\/?)([^\s/>!?]+)(?:"[^"]*"|'[^']*'|[^>"'])*?(\/?)>/g
  for (let m = tags.exec(text); m && m.index < offset; m = tags.exec(text)) {
    if (!m[2]) continue
    if (m[1]) {
      stack.pop()
      continue
    }
    const local = m[2].slice(m[2].indexOf(':') + 1)
    const parent = stack[stack.length - 1]
    const n = parent?.counts.get(local) ?? 0
    parent?.counts.set(local, n + 1)
    const entry = { seg: INDEXED.has(local) ? [local, String(n)] : [local], counts: new Map<string, number>() }
    // Inside this start tag (an attribute value), or an element left open: the element is where the offset is.
    if (!m[3] || m.index + m[0].length > offset) stack.push(entry)
    if (m[3] && m.index + m[0].length > offset) break
  }
  return stack.length
    ? `/${stack
        .flatMap((e) => e.seg)
        .map(pointerSegment)
        .join('/')}`
    : '/'
}

/** Byte offset of the first byte sequence that is not UTF-8 (overlong forms, surrogates, above U+10FFFF included). */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1
    if (n < 0) return i
    // The second byte's range excludes overlong forms (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
    const [lo, hi] =
      c === 0xe0
        ? [0xa0, 0xbf]
        : c === 0xed
          ? [0x80, 0x9f]
          : c === 0xf0
            ? [0x90, 0xbf]
            : c === 0xf4
              ? [0x80, 0x8f]
              : [0x80, 0xbf]
    for (let k = 1; k <= n; k++) {
      const x = b[i + k]
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i
    }
    i += n + 1
  }
  return b.length
}

/**
 * Refuses DTDs and processing instructions before any parser sees them. Comments and CDATA sections are skipped, so
 * `<!--<!DOCTYPE-->` is fine; the XML declaration is allowed at offset 0 only.
 */
function markupProblem(s: string): CebProblem | undefined {
  const re = /<[!?]/g
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const i = m.index
    const skip = s.startsWith('<!--', i) ? '-->' : s.startsWith('<![CDATA[', i) ? ']]>' : undefined
    if (skip) {
      const end = s.indexOf(skip, i + 4)
      if (end < 0) return undefined // unterminated: the well-formedness check reports it with its position
      re.lastIndex = end + skip.length
      continue
    }
    if (s[i + 1] === '!') {
      const what = /^<!([A-Za-z]*)/.exec(s.slice(i, i + 12))?.[1] ?? ''
      return problem(
        '/',
        `DTDs are not allowed: <!${what} at ${lineCol(s, i)}; a CEB message has no DOCTYPE or ENTITY declarations`,
      )
    }
    if (i === 0 && /^<\?xml[\s?]/.test(s.slice(0, 6))) {
      const end = s.indexOf('?>')
      re.lastIndex = end < 0 ? s.length : end + 2
      continue
    }
    return problem(
      '/',
      `processing instructions are not allowed (${lineCol(s, i)}); only the XML declaration may open the message`,
    )
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------------
// The element tree, built by saxes (a strict, well-formedness-checking SAX parser): elements with their qualified
// name, attributes (keys prefixed `@_`) and children, text as trimmed strings. Namespaces are resolved below,
// element by element, from the xmlns attributes: stripping prefixes would let `<x:orderNo xmlns:x="urn:other">` pass
// as a CEB element.

interface El {
  qname: string
  attrs: Record<string, string>
  children: Array<El | string>
}

/** Elements nest at most this deep (a CEB message needs 4). */
const MAX_DEPTH = 32

function elementOf(node: El | string): El | undefined {
  return typeof node === 'string' ? undefined : node
}

function textOf(node: El | string): string | undefined {
  return typeof node === 'string' ? node : undefined
}

class TreeProblem extends Error {}

/** A well-formedness error from saxes (`line:column: what`) and the offset it stopped at. */
class SyntaxProblem extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
  }
}

/** Parses well-formed XML into the tree and the XML declaration's encoding; throws on the first error. */
function parseTree(text: string): { root: El | undefined; roots: number; encoding: string | undefined } {
  const parser = new SaxesParser({ xmlns: false, position: true })
  const stack: El[] = []
  let root: El | undefined
  let roots = 0
  let encoding: string | undefined
  let pending = ''
  const flush = () => {
    const t = pending.trim()
    pending = ''
    if (t !== '') stack[stack.length - 1]?.children.push(t)
  }
  parser.on('xmldecl', (d) => {
    encoding = d.encoding
  })
  parser.on('doctype', () => {
    throw new TreeProblem('DTDs are not allowed')
  })
  parser.on('processinginstruction', () => {
    throw new TreeProblem('processing instructions are not allowed')
  })
  parser.on('text', (t) => {
    if (stack.length) pending += t
  })
  parser.on('cdata', (t) => {
    if (stack.length) pending += t
  })
  parser.on('opentag', (tag) => {
    if (pending !== '') flush()
    if (stack.length >= MAX_DEPTH) throw new TreeProblem(`more than ${MAX_DEPTH} nested tags`)
    const attrs: Record<string, string> = {}
    const a = tag.attributes as Record<string, string>
    for (const k in a) attrs['@_' + k] = a[k] as string
    const el: El = { qname: tag.name, attrs, children: [] }
    const parent = stack[stack.length - 1]
    if (parent) parent.children.push(el)
    else if (roots++ === 0) root = el
    if (!tag.isSelfClosing) stack.push(el)
  })
  parser.on('closetag', (tag) => {
    if (pending !== '') flush()
    if (!tag.isSelfClosing) stack.pop()
  })
  try {
    parser.write(text).close()
  } catch (e) {
    if (e instanceof TreeProblem) throw e
    throw new SyntaxProblem((e as Error).message, parser.position)
  }
  return { root, roots, encoding }
}

type Scope = ReadonlyMap<string, string>
const ROOT_SCOPE: Scope = new Map([['xml', 'http://www.w3.org/XML/1998/namespace']])

// Identical scopes are shared across messages (every sender declares the same prefixes on the root), so the name
// cache below survives from one message to the next. Bounded, as senders choose the declarations.
const interned = new Map<string, Scope>()

/** The scope inside an element: its own `xmlns` / `xmlns:p` declarations over the parent's. */
function enter(scope: Scope, attrs: Record<string, string>): Scope {
  let next: Map<string, string> | undefined
  for (const k in attrs) {
    if (k === '@_xmlns' || k.startsWith('@_xmlns:')) {
      next ??= new Map(scope)
      next.set(k === '@_xmlns' ? '' : k.slice(8), attrs[k] as string)
    }
  }
  if (!next) return scope
  const key = JSON.stringify([...next])
  const known = interned.get(key)
  if (known) return known
  if (interned.size < 100) interned.set(key, next)
  return next
}

interface Name {
  ns: string
  local: string
}

// Scopes are shared by every element that declares nothing, so a per-scope cache turns name resolution into a lookup.
const resolved = new WeakMap<Scope, Map<string, Name | string>>()

function resolve(qname: string, scope: Scope): Name | string {
  let cache = resolved.get(scope)
  if (!cache) resolved.set(scope, (cache = new Map()))
  let name = cache.get(qname)
  if (name === undefined) {
    name = resolveName(qname, scope)
    // Bounded: a hostile message could otherwise grow one cache with every distinct element name it sends.
    if (cache.size < 1000) cache.set(qname, name)
  }
  return name
}

function resolveName(qname: string, scope: Scope): Name | string {
  const colon = qname.indexOf(':')
  if (colon < 0) return { ns: scope.get('') ?? '', local: qname }
  const prefix = qname.slice(0, colon)
  const local = qname.slice(colon + 1)
  if (!prefix || !local || local.includes(':')) return `${qname} is not a valid element name`
  const ns = scope.get(prefix)
  return ns ? { ns, local } : `namespace prefix ${prefix} of ${qname} is not declared`
}

const isNamespaceDeclaration = (attr: string) => attr === '@_xmlns' || attr.startsWith('@_xmlns:')

/** Collects structural problems while walking one message. */
class Walker {
  readonly problems: CebProblem[] = []

  add(pointer: string, message: string) {
    this.problems.push(problem(pointer, message))
  }

  /** Only namespace declarations may sit on elements below the root. */
  noAttributes(el: El, local: string, pointer: string) {
    for (const k of Object.keys(el.attrs)) {
      if (!isNamespaceDeclaration(k))
        this.add(`${pointer}/@${pointerSegment(k.slice(2))}`, `${local} takes no attribute ${k.slice(2)}`)
    }
  }

  /** Yields the child elements with their resolved name and scope; reports stray text, PIs and unbound prefixes. */
  *children(el: El, scope: Scope, local: string, pointer: string): Generator<[El, Name, Scope]> {
    for (const node of el.children) {
      const text = textOf(node)
      if (text !== undefined) {
        if (text !== '') this.add(pointer, `${local} may contain elements only, not text`)
        continue
      }
      const child = elementOf(node)
      if (!child) continue
      if (child.qname.startsWith('?')) {
        this.add(pointer, `processing instructions are not allowed in ${local}`)
        continue
      }
      const inner = enter(scope, child.attrs)
      const name = resolve(child.qname, inner)
      if (typeof name === 'string') this.add(`${pointer}/${pointerSegment(child.qname)}`, name)
      else yield [child, name, inner]
    }
  }

  /** A head, line or BaseTransfer: text-only CEB elements, each at most once, into a record of strings. */
  leaves(el: El, scope: Scope, local: string, pointer: string): Record<string, string> {
    this.noAttributes(el, local, pointer)
    const rec: Record<string, string> = Object.create(null) as Record<string, string>
    for (const [child, name] of this.children(el, scope, local, pointer)) {
      const at = () => `${pointer}/${pointerSegment(name.local)}`
      if (name.ns !== CEB_NAMESPACE) {
        this.add(at(), `${child.qname} is not in the CEB namespace ${CEB_NAMESPACE}`)
        continue
      }
      if (name.local in rec) {
        this.add(at(), `${name.local} must occur at most once in ${local}`)
        continue
      }
      if (Object.keys(child.attrs).length > 0) this.noAttributes(child, name.local, at())
      let value = ''
      let nested = false
      for (const n of child.children) {
        const t = textOf(n)
        if (t !== undefined) value += t
        else nested = true
      }
      if (nested) this.add(at(), `${name.local} must contain text only`)
      else rec[name.local] = value
    }
    return rec
  }
}

/** Maps one document element (`<ceb:Order>`) to `{ head, lines }`; missing parts are left to validateDocument. */
function mapDocument(w: Walker, type: CebMessageType, el: El, scope: Scope, pointer: string): Record<string, unknown> {
  const s = CEB_STRUCTURE[type]
  w.noAttributes(el, s.document, pointer)
  let head: Record<string, string> | undefined
  const lines: Record<string, string>[] = []
  for (const [child, name, inner] of w.children(el, scope, s.document, pointer)) {
    const local = name.ns === CEB_NAMESPACE ? name.local : undefined
    if (local === s.head) {
      if (head) w.add(`${pointer}/${s.head}`, `${s.document} must have exactly one ${s.head}`)
      else head = w.leaves(child, inner, s.head, `${pointer}/${s.head}`)
    } else if (s.line && local === s.line) {
      lines.push(w.leaves(child, inner, s.line, `${pointer}/${s.line}/${lines.length}`))
    } else {
      w.add(`${pointer}/${pointerSegment(name.local)}`, `unexpected element ${child.qname} in ${s.document}`)
    }
  }
  const doc: Record<string, unknown> = {}
  if (head) doc.head = head
  if (s.line) doc.lines = lines
  return doc
}

/** A fresh object with the fields present in `rec`, in spec order (so XML and JSON give identical key order). */
function pick(fields: readonly FieldSpec[], rec: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!isRecord(rec)) return out
  for (const f of fields) {
    const v = Object.prototype.hasOwnProperty.call(rec, f.element) ? rec[f.element] : undefined
    if (typeof v === 'string') out[f.element] = v
  }
  return out
}

function normalizeDocument(type: CebMessageType, doc: Record<string, unknown>): CebDocuments[CebMessageType] {
  const s = CEB_STRUCTURE[type]
  const head = pick(fieldsFor(s.root, `${s.document}/${s.head}`), doc.head)
  if (!s.line) return { head } as unknown as CebDocuments[CebMessageType]
  const lineFields = fieldsFor(s.root, `${s.document}/${s.line}`)
  const lines = (doc.lines as unknown[]).map((l) => pick(lineFields, l))
  return { head, lines } as unknown as CebDocuments[CebMessageType]
}

function limits(opts: CebParseOptions) {
  const maxBytes = opts.maxBytes ?? CEB_MAX_BYTES
  const maxDocuments = opts.maxDocuments ?? CEB_MAX_DOCUMENTS
  if (!(maxBytes > 0) || !(maxDocuments > 0)) throw new RangeError('maxBytes and maxDocuments must be positive')
  return { maxBytes, maxDocuments }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Input as text, or the problem that stops it: too large, not UTF-8. */
function textInput(xml: unknown, maxBytes: number): string | CebProblem {
  if (typeof xml === 'string') {
    // UTF-8 takes at least one byte per UTF-16 unit, so a long string is refused before it is measured.
    const bytes = xml.length > maxBytes ? xml.length : Buffer.byteLength(xml, 'utf8')
    if (bytes > maxBytes) return problem('/', `message exceeds ${maxBytes} bytes`)
    return xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml
  }
  if (!(xml instanceof Uint8Array)) return problem('/', 'message must be XML text or bytes')
  if (xml.byteLength > maxBytes) return problem('/', `message exceeds ${maxBytes} bytes (${xml.byteLength} bytes)`)
  if ((xml[0] === 0xfe && xml[1] === 0xff) || (xml[0] === 0xff && xml[1] === 0xfe)) {
    return problem('/', 'message must be encoded in UTF-8, not UTF-16')
  }
  try {
    return utf8.decode(xml) // drops a UTF-8 BOM
  } catch {
    // Where: the valid text before the first bad byte locates the element (the UTF-8 of a lone surrogate, say).
    const at = firstInvalidUtf8(xml)
    const before = new TextDecoder('utf-8').decode(xml.subarray(0, at))
    return problem(
      elementPointerAt(before, before.length),
      `message is not valid UTF-8 at byte ${at} (${lineCol(before, before.length)})`,
    )
  }
}

/**
 * Parses and format-checks a CEB311 (order), CEB411 (payment), CEB511 (waybill) or CEB621 (inventory) message.
 * Never throws on bad input. Safe by construction: DTDs (DOCTYPE, ENTITY) and processing instructions are refused
 * before parsing, only the five predefined entities and character references are expanded, size, document count
 * and nesting are bounded. Namespaces are checked on every element, not only the root.
 *
 * Values stay strings exactly as sent (trimmed); empty elements become `''`, absent optional ones are omitted. Every
 * problem has code `FORMAT` and a JSON Pointer with the XML element names, e.g.
 * `/CEB621Message/Inventory/1/InventoryList/2/gcode`; whole-message problems point at `/`.
 * Bytes must be UTF-8; a string is taken as already decoded. An XML-DSig `<ds:Signature>` child of the root is
 * accepted but neither verified nor returned: verification needs the original bytes.
 */
export function parseCebXml(xml: string | Buffer, opts: CebParseOptions = {}): CebParseResult {
  const { maxBytes, maxDocuments } = limits(opts)
  const text = textInput(xml, maxBytes)
  if (typeof text !== 'string') return failed([text])
  const markup = markupProblem(text)
  if (markup) return failed([markup])
  const bad = nonXmlChar(text)
  if (bad)
    return failed([
      problem(
        elementPointerAt(text, bad.index),
        `character ${bad.label} is not allowed in XML (${lineCol(text, bad.index)})`,
      ),
    ])
  let tree: ReturnType<typeof parseTree>
  try {
    tree = parseTree(text)
  } catch (e) {
    const msg = (e as Error).message
    if (!(e instanceof SyntaxProblem)) return failed([problem('/', msg)])
    // saxes reports `line:column: what.`, the position just past the offending markup; a bad reference is quoted.
    const at = /^(?:[^:\n]*:)?(\d+):(\d+): (.*?)\.?$/s.exec(msg)
    let what = at ? at[3]! : msg
    let where = '/'
    if (/entity/.test(what)) {
      const amp = text.lastIndexOf('&', e.offset)
      if (amp >= 0) what += ` ${text.slice(amp, Math.min(amp + 40, e.offset + 1)).replace(/[<\s].*$/s, '')}`
      // A reference to a character XML cannot carry (&#0;, &#xD800;) is the content of an element: point at it.
      if (/character entity/.test(what) && amp >= 0) where = elementPointerAt(text, amp)
    }
    return failed([
      problem(
        where,
        at ? `XML is not well-formed at line ${at[1]}, column ${at[2]}: ${what}` : `XML is not well-formed: ${what}`,
      ),
    ])
  }
  return mapMessage(tree, xml instanceof Uint8Array, maxDocuments)
}

function mapMessage(tree: ReturnType<typeof parseTree>, fromBytes: boolean, maxDocuments: number): CebParseResult {
  const encoding = tree.encoding
  if (fromBytes && encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
    return failed([problem('/', `message must be encoded in UTF-8, not ${encoding.slice(0, 40)}`)])
  }
  const root = tree.root
  if (!root || tree.roots > 1) return failed([problem('/', 'a message must have exactly one root element')])
  const scope = enter(ROOT_SCOPE, root.attrs)
  const name = resolve(root.qname, scope)
  if (typeof name === 'string') return failed([problem('/', name)])
  const type = ROOTS.get(name.local)
  if (!type) {
    return failed([
      problem('/', `unknown root element ${name.local.slice(0, 60)}; expected one of ${[...ROOTS.keys()].join(', ')}`),
    ])
  }
  if (name.ns !== CEB_NAMESPACE) {
    const got = name.ns === '' ? 'has no namespace' : `is in namespace ${name.ns.slice(0, 100)}`
    return failed([problem('/', `root element ${name.local} ${got}; expected ${CEB_NAMESPACE}`)])
  }
  const s = CEB_STRUCTURE[type]
  const base = `/${s.root}`
  const w = new Walker()

  const attrs: Record<string, string> = {}
  for (const [k, v] of Object.entries(root.attrs)) {
    const attr = k.slice(2)
    if (isNamespaceDeclaration(k)) continue
    if (attr === 'guid' || attr === 'version') attrs[attr] = v
    else if (attr.startsWith('xsi:') && scope.get('xsi') === XSI_NAMESPACE)
      continue // schemaLocation and kin
    else w.add(`${base}/@${pointerSegment(attr)}`, `${s.root} takes no attribute ${attr}`)
  }

  const documents: Array<[El, Scope]> = []
  let baseTransfer: [El, Scope] | undefined
  let signatures = 0
  for (const [child, cname, inner] of w.children(root, scope, s.root, base)) {
    if (cname.ns === CEB_NAMESPACE && cname.local === s.document) {
      documents.push([child, inner])
      if (documents.length > maxDocuments) {
        return failed([problem(`${base}/${s.document}`, `a message may carry at most ${maxDocuments} documents`)])
      }
    } else if (cname.ns === CEB_NAMESPACE && cname.local === 'BaseTransfer') {
      if (baseTransfer) w.add(`${base}/BaseTransfer`, `${s.root} must have exactly one BaseTransfer`)
      else baseTransfer = [child, inner]
    } else if (cname.ns === DSIG_NAMESPACE && cname.local === 'Signature') {
      if (++signatures > 1) w.add(`${base}/Signature`, `${s.root} may have one Signature`)
    } else {
      w.add(`${base}/${pointerSegment(cname.local)}`, `unexpected element ${child.qname} in ${s.root}`)
    }
  }

  const problems = w.problems
  problems.push(...validateFields(MESSAGE_ATTRIBUTE_FIELDS, attrs, base, s.root, '@'))
  if (documents.length === 0) problems.push(problem(`${base}/${s.document}`, `at least one ${s.document} is required`))
  const docs = documents.map(([el, inner], i) => {
    const pointer = `${base}/${s.document}/${i}`
    const doc = mapDocument(w, type, el, inner, pointer)
    problems.push(...validateDocument(type, doc, pointer))
    return doc
  })
  let bt: Record<string, string> | undefined
  if (!baseTransfer) problems.push(problem(`${base}/BaseTransfer`, 'BaseTransfer is required'))
  else {
    bt = w.leaves(baseTransfer[0], baseTransfer[1], 'BaseTransfer', `${base}/BaseTransfer`)
    problems.push(...validateBaseTransfer(bt, `${base}/BaseTransfer`))
  }
  if (problems.length > 0 || !bt) return failed(problems)
  return {
    ok: true,
    message: {
      type,
      guid: attrs.guid ?? '',
      version: attrs.version ?? '',
      documents: docs.map((d) => normalizeDocument(type, d)),
      baseTransfer: pick(fieldsFor(BASE_TRANSFER_MESSAGE, 'BaseTransfer'), bt) as unknown as BaseTransfer,
    },
  }
}

/**
 * The JSON form of a message of `type`: `{ guid, version?, documents: [{ head, lines? }], baseTransfer }` with the
 * element names of types.ts (a `type` property equal to `type` is allowed, so a serialised {@link CebMessage} reads
 * back). Checked exactly like the XML form; unknown properties are FORMAT problems, not dropped, and values must be
 * strings (amounts as decimal strings, never JSON numbers). Pointers use the JSON names (`/documents/0/lines/1/qty`).
 * Never throws on bad input.
 */
export function parseCebJson(
  type: CebMessageType,
  value: unknown,
  opts: Pick<CebParseOptions, 'maxDocuments'> = {},
): CebParseResult {
  const { maxDocuments } = limits(opts)
  if (!MESSAGE_TYPES.includes(type))
    return failed([problem('/', `unknown message type; expected one of ${MESSAGE_TYPES.join(', ')}`)])
  if (!isRecord(value)) return failed([problem('/', 'message must be a JSON object')])
  const problems: CebProblem[] = []
  const attrs: Record<string, unknown> = {}
  for (const k of Object.keys(value)) {
    if (k === 'guid' || k === 'version') attrs[k] = value[k]
    else if (k === 'type') {
      if (value.type !== type) problems.push(problem('/type', `type must be ${type}`))
    } else if (k !== 'documents' && k !== 'baseTransfer')
      problems.push(problem(`/${pointerSegment(k)}`, `${k} is not part of a ${type} message`))
  }
  problems.push(...validateFields(MESSAGE_ATTRIBUTE_FIELDS, attrs, '', 'the message'))
  const documents = value.documents
  if (!Array.isArray(documents) || documents.length === 0) {
    problems.push(problem('/documents', 'documents must be an array of at least one document'))
  } else if (documents.length > maxDocuments) {
    return failed([...problems, problem('/documents', `a message may carry at most ${maxDocuments} documents`)])
  } else {
    documents.forEach((d, i) => problems.push(...validateDocument(type, d, `/documents/${i}`, { json: true })))
  }
  if (value.baseTransfer === undefined) problems.push(problem('/baseTransfer', 'baseTransfer is required'))
  else problems.push(...validateBaseTransfer(value.baseTransfer, '/baseTransfer'))
  if (problems.length > 0 || !Array.isArray(documents)) return failed(problems)
  return {
    ok: true,
    message: {
      type,
      guid: attrs.guid as string,
      version: typeof attrs.version === 'string' ? attrs.version : '',
      documents: documents.map((d: Record<string, unknown>) => normalizeDocument(type, d)),
      baseTransfer: pick(
        fieldsFor(BASE_TRANSFER_MESSAGE, 'BaseTransfer'),
        value.baseTransfer,
      ) as unknown as BaseTransfer,
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Receipts

/** Receipt messages this module writes, and the element of each receipt. */
export const CEB_RECEIPTS = {
  CEB312: 'OrderReturn',
  CEB412: 'PaymentReturn',
  CEB512: 'LogisticsReturn',
  CEB622: 'InventoryReturn',
} as const
/** `CEB312` order, `CEB412` payment, `CEB512` waybill, `CEB622` inventory receipt. */
export type CebReceiptKind = keyof typeof CEB_RECEIPTS

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  suppressEmptyNode: false,
  processEntities: true, // escapes & < > " ' in text and attributes
})

/** Characters XML 1.0 cannot carry, even escaped, become U+FFFD so a receipt always parses. */
const xmlSafe = (s: string) => s.replace(NON_XML_CHARS, '\uFFFD')

function build(
  rootName: string,
  rootAttrs: Record<string, string>,
  itemName: string,
  items: Array<Array<[string, string]>>,
): string {
  const root: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(rootAttrs)) root[`@_${k}`] = xmlSafe(v)
  root['@_xmlns:ceb'] = CEB_NAMESPACE
  root[`ceb:${itemName}`] = items.map((fields) => Object.fromEntries(fields.map(([k, v]) => [`ceb:${k}`, xmlSafe(v)])))
  return builder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' }, [`ceb:${rootName}`]: root }) as string
}

/**
 * Serialises receipts as a `CEB312Message` / `CEB412Message` / `CEB512Message` / `CEB622Message` (namespace prefix
 * `ceb:`), one `OrderReturn` (…) per receipt, elements in the field list's order, text escaped. Field names are the
 * field list's (guid, ebpCode, orderNo, returnStatus, returnTime `YYYYMMDDhhmmssSSS`, returnInfo, …). `opts.guid`
 * sets the root guid attribute (omitted otherwise: ids are the caller's to make). Throws a TypeError on an unknown
 * or missing required field or a non-string value: receipts are built by our own code.
 */
export function cebReceiptXml(
  kind: CebReceiptKind,
  receipts: Array<Record<string, string>>,
  opts: { guid?: string; version?: string } = {},
): string {
  const node = CEB_RECEIPTS[kind]
  if (!node) throw new TypeError(`unknown receipt kind ${String(kind)}`)
  if (receipts.length === 0) throw new TypeError(`${kind} needs at least one receipt`)
  const fields = fieldsFor(`${kind}Message`, node)
  const known = new Set(fields.map((f) => f.element))
  const items = receipts.map((r, i) => {
    for (const k of Object.keys(r)) if (!known.has(k)) throw new TypeError(`${kind} receipt ${i}: unknown field ${k}`)
    const out: Array<[string, string]> = []
    for (const f of fields) {
      const v: unknown = Object.prototype.hasOwnProperty.call(r, f.element) ? r[f.element] : undefined
      if (v === undefined) {
        if (f.required) throw new TypeError(`${kind} receipt ${i}: ${f.element} is required`)
        continue
      }
      if (typeof v !== 'string') throw new TypeError(`${kind} receipt ${i}: ${f.element} must be a string`)
      out.push([f.element, v])
    }
    return out
  })
  const attrs: Record<string, string> = {}
  if (opts.guid !== undefined) attrs.guid = opts.guid
  attrs.version = opts.version ?? '1.0'
  return build(`${kind}Message`, attrs, node, items)
}

/**
 * Serialises a CEB900 format-error receipt: `<ceb:CEB900Message><ceb:MessageReturn>` with guid, returnStatus,
 * returnTime (`YYYYMMDDhhmmssSSS`, when given), returnInfo, oriCopMsgId and oriMessageType (when given), in that
 * order. `returnStatus` is negative for processing errors (DOMAIN §5).
 */
export function ceb900Xml(p: {
  guid: string
  returnStatus: string
  returnInfo: string
  returnTime?: string
  oriCopMsgId?: string
  oriMessageType?: string
}): string {
  const order = ['guid', 'returnStatus', 'returnTime', 'returnInfo', 'oriCopMsgId', 'oriMessageType'] as const
  const fields: Array<[string, string]> = []
  for (const k of order) {
    const v = p[k]
    if (v !== undefined) fields.push([k, String(v)])
  }
  return build('CEB900Message', { version: '1.0' }, 'MessageReturn', [fields])
}
