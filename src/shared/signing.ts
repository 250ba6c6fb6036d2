import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto'
import canonicalize from 'canonicalize'
import { sm2 } from './sm2.js'

/**
 * RFC 8785 (JCS) canonical JSON: sorted keys, no whitespace, ECMAScript number form. What a card signs is
 * `canonicalJson(body without its "signature" member)`, UTF-8 encoded.
 */
export function canonicalJson(value: unknown): string {
  const s = canon(value, 0)
  if (s === undefined) throw new TypeError('value cannot be canonicalised')
  return s
}

// The `canonicalize` package is the reference (a property test checks this against it); this walk gives the same
// output several times faster on the hot path (CEB messages of thousands of documents): no cycle set per call and a
// native regex before the exact lone-surrogate scan. Deep structures (cycles among them) go to the reference.
const SURROGATE = /[\uD800-\uDFFF]/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const MAX_FAST_DEPTH = 64

function canon(v: unknown, depth: number): string | undefined {
  switch (typeof v) {
    case 'string':
      if (SURROGATE.test(v) && LONE_SURROGATE.test(v)) throw new Error('Lone surrogate is not allowed')
      return JSON.stringify(v)
    case 'number':
      if (!Number.isFinite(v)) throw new Error(Number.isNaN(v) ? 'NaN is not allowed' : 'Infinity is not allowed')
      return JSON.stringify(v)
    case 'boolean':
      return v ? 'true' : 'false'
    case 'object':
      break
    default:
      return canonicalize(v)
  }
  if (v === null) return 'null'
  if (depth >= MAX_FAST_DEPTH) return canonicalize(v)
  const o = v as Record<string, unknown> & { toJSON?: () => unknown }
  if (typeof o.toJSON === 'function') return canon(o.toJSON(), depth + 1)
  if (Array.isArray(v)) {
    let out = '['
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i]
      if (i > 0) out += ','
      out += x === undefined || typeof x === 'symbol' ? 'null' : canon(x, depth + 1)
    }
    return out + ']'
  }
  let out = '{'
  let first = true
  for (const key of Object.keys(o).sort()) {
    const x = o[key]
    if (x === undefined || typeof x === 'symbol') continue
    out += (first ? '' : ',') + canon(key, depth + 1) + ':' + canon(x, depth + 1)
    first = false
  }
  return out + '}'
}

/**
 * Pluggable signature algorithm (DOMAIN §8): Ed25519 (below) and SM2 with SM3 (`sm2.ts`) are registered in
 * {@link algorithms}; hardware tokens plug in the same way. Keys and signatures travel as base64url strings.
 */
export interface SignatureAlgorithm {
  readonly alg: string
  generate(): { publicKey: string; privateKey: string }
  sign(privateKey: string, data: Uint8Array): string
  verify(publicKey: string, data: Uint8Array, signature: string): boolean
  /** Throws when the public key is not a valid key of this algorithm. */
  parsePublicKey(publicKey: string): unknown
}

const publicKeyCache = new Map<string, KeyObject>()

// Curve25519 field prime and the Edwards curve constant d = -121665/121666 (RFC 8032 §5.1).
const P = 2n ** 255n - 19n
const modP = (a: bigint) => ((a % P) + P) % P
function powMod(b: bigint, e: bigint): bigint {
  let r = 1n
  b = modP(b)
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P
    b = (b * b) % P
    e >>= 1n
  }
  return r
}
const D = modP(-121665n * powMod(121666n, P - 2n))
const SQRT_M1 = powMod(2n, (P - 1n) / 4n)

/** RFC 8032 §5.1.3 point decoding: y < p and x² = (y² − 1)/(d·y² + 1) has a root (with the sign bit consistent). */
export function isEd25519Point(bytes: Uint8Array): boolean {
  if (bytes.length !== 32) return false
  const le = Uint8Array.from(bytes)
  const sign = (le[31]! >> 7) & 1
  le[31]! &= 0x7f
  let y = 0n
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(le[i]!)
  if (y >= P) return false
  const u = modP(y * y - 1n)
  const v = modP(D * y * y + 1n)
  let x = modP(u * powMod(v, 3n) * powMod(u * powMod(v, 7n), (P - 5n) / 8n))
  const vx2 = modP(v * x * x)
  if (vx2 !== u) {
    if (vx2 !== modP(-u)) return false
    x = modP(x * SQRT_M1)
  }
  return !(x === 0n && sign === 1)
}

function ed25519Public(x: string): KeyObject {
  let key = publicKeyCache.get(x)
  if (!key) {
    if (!/^[A-Za-z0-9_-]{43}$/.test(x))
      throw new TypeError('Ed25519 public key must be 32 bytes in base64url (43 characters)')
    if (!isEd25519Point(Buffer.from(x, 'base64url'))) throw new TypeError('not a point of the Ed25519 curve')
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
    if (publicKeyCache.size > 10_000) publicKeyCache.clear()
    publicKeyCache.set(x, key)
  }
  return key
}

/** Ed25519 with raw 32-byte keys in base64url (JWK `x` / `d`). */
export const ed25519: SignatureAlgorithm = {
  alg: 'Ed25519',
  generate() {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    const jwk = privateKey.export({ format: 'jwk' })
    return { publicKey: publicKey.export({ format: 'jwk' }).x!, privateKey: jwk.d! }
  },
  sign(privateKey, data) {
    const d = privateKey
    // The JWK needs x as well; derive it from the private key.
    const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x: derivePublic(d) }, format: 'jwk' })
    return sign(null, data, key).toString('base64url')
  },
  verify(publicKey, data, signature) {
    try {
      // One spelling per signature: exactly 64 bytes in canonical base64url (Buffer.from alone skips stray characters
      // and ignores the unused trailing bits).
      if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(signature)) return false
      const bytes = Buffer.from(signature, 'base64url')
      if (bytes.toString('base64url') !== signature) return false
      return verify(null, data, ed25519Public(publicKey), bytes)
    } catch {
      return false
    }
  },
  parsePublicKey: ed25519Public,
}

function derivePublic(d: string): string {
  // PKCS#8 prefix for an Ed25519 private key; the public key follows from the seed.
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(d, 'base64url')])
  const priv = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
  return createPublicKey(priv).export({ format: 'jwk' }).x!
}

/**
 * The registered algorithms by name: what a card's, a key file's and a signature's `alg` says. `Ed25519`: RFC 8032,
 * raw 32-byte keys, 64-byte signatures. `SM2`: SM2 with SM3 and signer ID 1234567812345678, 65-byte 04‖x‖y public
 * keys, 32-byte private keys, 64-byte r‖s signatures (see `sm2.ts`). All base64url.
 */
export const algorithms: Record<string, SignatureAlgorithm> = { Ed25519: ed25519, SM2: sm2 }
export const ALGORITHM_NAMES = ['Ed25519', 'SM2'] as const
export type AlgorithmName = (typeof ALGORITHM_NAMES)[number]

/** A card key file as `kouan card keygen` writes it: `{alg, publicKey, privateKey}`. */
export interface KeyFile {
  alg: SignatureAlgorithm
  publicKey: string
  privateKey: string
}

/** Looks an algorithm up by name among the registered ones (own names only: `toString` is no algorithm). */
export function algorithmNamed(name: unknown): SignatureAlgorithm | undefined {
  return typeof name === 'string' && Object.hasOwn(algorithms, name) ? algorithms[name] : undefined
}

/**
 * Whether `signature` over `data` verifies with a card's key: the signature must claim the card's own algorithm
 * (no downgrade to another registered one), which must be registered. What declarations, CEB messages and
 * entrustments check.
 */
export function verifiesWithCard(
  card: { alg: string; publicKey: string },
  signature: { alg: string; value: string },
  data: string | Uint8Array,
): boolean {
  const alg = algorithmNamed(card.alg)
  return (
    !!alg &&
    signature.alg === card.alg &&
    alg.verify(card.publicKey, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, signature.value)
  )
}

/**
 * Reads a key file's text: a known `alg` (a file without one is an Ed25519 file of older versions), a private key of
 * that algorithm, and the public key that belongs to it (checked by signing and verifying a probe).
 * @throws Error saying what is wrong
 */
export function parseKeyFile(text: string): KeyFile {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new Error('not JSON')
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>
  const name = o.alg ?? 'Ed25519'
  const alg = algorithmNamed(name)
  if (!alg)
    throw new Error(`alg ${JSON.stringify(name)} is not supported; expected one of ${ALGORITHM_NAMES.join(', ')}`)
  const { publicKey, privateKey } = o
  if (typeof privateKey !== 'string' || typeof publicKey !== 'string')
    throw new Error(
      `publicKey and privateKey must be ${alg.alg} keys in base64url, as \`kouan card keygen\` writes them`,
    )
  const probe = Buffer.from('kouan key file check', 'utf8')
  let ok = false
  try {
    ok = alg.verify(publicKey, probe, alg.sign(privateKey, probe))
  } catch {
    /* a malformed private key */
  }
  if (!ok) throw new Error(`privateKey and publicKey are not an ${alg.alg} key pair`)
  return { alg, publicKey, privateKey }
}

/** Key identifier: first 16 bytes of SHA-256 over the public key bytes, base64url. */
export function keyId(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest().subarray(0, 16).toString('base64url')
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Signs `payload` (any JSON value) in canonical form; what `kouan card sign` and the simulator do. */
export function signPayload(privateKey: string, payload: unknown, alg: SignatureAlgorithm = ed25519): string {
  return alg.sign(privateKey, Buffer.from(canonicalJson(payload), 'utf8'))
}
