/**
 * Text the database cannot store faithfully: NUL (PostgreSQL text and jsonb refuse it) and unpaired UTF-16
 * surrogates (JSON.parse turns `"\ud800"` into one; encoding it to UTF-8 fails or silently becomes U+FFFD).
 * With the `u` flag a valid surrogate pair is one code point above U+FFFF, so only lone halves match.
 */
const BAD_TEXT = /[\u0000\uD800-\uDFFF]/u

/**
 * Whether JSON text, already checked to be valid UTF-8, could parse into such strings: NUL and surrogates can then
 * only come from `\u` escapes (raw control characters are invalid JSON, and UTF-8 cannot encode a surrogate). A
 * native scan of the text that lets clean bodies skip {@link textProblem}; a match (an escaped pair, `\\u0000`)
 * may be harmless, so the parsed value is then walked.
 */
export const jsonMayHoldBadText = (json: string) => /\\u(?:0000|[dD][89a-fA-F])/.test(json)

const describe = (s: string) => (s.includes('\u0000') ? 'a NUL character' : 'an unpaired surrogate')

/** A JSON Pointer segment (RFC 6901); characters the pointer itself could not carry are shown as U+FFFD. */
const segment = (key: string) =>
  key
    .replace(/~/g, '~0')
    .replace(/\//g, '~1')
    .replace(/[\u0000\uD800-\uDFFF]/gu, '\uFFFD')

export interface TextProblem {
  /** JSON Pointer of the string (or of the object key) at fault, under `base`. */
  pointer: string
  what: string
}

/**
 * The first string or object key under `value` holding NUL or an unpaired surrogate, or undefined. One pass,
 * one regex test per string and key; the pointer is built only for the culprit; iterative, so nesting depth
 * cannot overflow the stack.
 */
export function textProblem(value: unknown, base: string): TextProblem | undefined {
  if (typeof value === 'string') return BAD_TEXT.test(value) ? { pointer: base, what: describe(value) } : undefined
  if (value === null || typeof value !== 'object') return undefined
  // Depth-first with an explicit stack of [container, keys, next index] frames.
  const stack: { node: object; keys: string[] | null; i: number }[] = [
    { node: value, keys: Array.isArray(value) ? null : Object.keys(value), i: 0 },
  ]
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!
    const n = top.keys ? top.keys.length : (top.node as unknown[]).length
    if (top.i >= n) {
      stack.pop()
      continue
    }
    const i = top.i++
    let child: unknown
    if (top.keys) {
      const key = top.keys[i]!
      if (BAD_TEXT.test(key)) return { pointer: pointerOf(base, stack, segment(key)), what: describe(key) }
      child = (top.node as Record<string, unknown>)[key]
    } else {
      child = (top.node as unknown[])[i]
    }
    if (typeof child === 'string') {
      if (BAD_TEXT.test(child)) return { pointer: pointerOf(base, stack, null), what: describe(child) }
    } else if (child !== null && typeof child === 'object' && !Buffer.isBuffer(child)) {
      stack.push({ node: child, keys: Array.isArray(child) ? null : Object.keys(child), i: 0 })
    }
  }
  return undefined
}

/** The pointer of the element each frame last visited (its index is `i - 1`), plus `last` if given. */
function pointerOf(base: string, stack: { keys: string[] | null; i: number }[], last: string | null): string {
  const parts = stack.map((f, depth) => {
    const at = f.i - 1
    // The deepest frame's current key is named by `last` when the key itself is at fault.
    if (last !== null && depth === stack.length - 1) return last
    return f.keys ? segment(f.keys[at]!) : String(at)
  })
  return `${base}/${parts.join('/')}`
}
