/**
 * Decimal strings without floats: money and quantities travel as strings (the API's `Decimal`), so the form
 * computes `quantity × unit price` exactly with BigInt and rounds half up to `dp` places.
 */
const DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/

export function isDecimal(s: string, maxDp = 5): boolean {
  const m = DECIMAL.exec(s)
  return !!m && (m[2] ?? '.').length - 1 <= maxDp
}

function parse(s: string): { n: bigint; scale: number } {
  if (!DECIMAL.test(s)) throw new RangeError(`not a decimal: ${s}`)
  const [int, frac = ''] = s.split('.')
  return { n: BigInt(int! + frac), scale: frac.length }
}

/** `a × b` rounded half up to `dp` decimals, e.g. mulDecimal('1200', '1.25', 2) === '1500.00'. */
export function mulDecimal(a: string, b: string, dp: number): string {
  const x = parse(a)
  const y = parse(b)
  const scale = x.scale + y.scale
  let n = x.n * y.n
  if (scale > dp) {
    const div = 10n ** BigInt(scale - dp)
    n = (n + div / 2n) / div
  } else n *= 10n ** BigInt(dp - scale)
  const s = n.toString().padStart(dp + 1, '0')
  return dp === 0 ? s : `${s.slice(0, -dp)}.${s.slice(-dp)}`
}
