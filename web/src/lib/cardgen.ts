import { base64url, type CardAlg, type KeyFile } from './card.js'

/**
 * Port card keys made or read on the card office's screens. A key pair generated here is the same key file
 * `kouan card keygen` writes (`{alg, publicKey, privateKey}`, base64url raw keys), plus the issued `cardNo` and the
 * enterprise as the demo card has them, so the portal login (card.ts `parseKeyFile`) reads it as it is. Only the
 * public key ever goes to the server.
 */

/** A fresh Ed25519 key pair from WebCrypto. The private key is extractable only to be exported this once. */
export async function generateCardKey(
  subtle: SubtleCrypto = crypto.subtle,
): Promise<{ publicKey: string; privateKey: string }> {
  const pair = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair
  const jwk = await subtle.exportKey('jwk', pair.privateKey)
  if (!jwk.d || !jwk.x) throw new Error('the browser exported no Ed25519 key')
  return { publicKey: jwk.x, privateKey: jwk.d }
}

/** The key file's text: what `kouan card keygen` writes, with the card number and the enterprise it was issued to. */
export function cardKeyFileText(
  key: { publicKey: string; privateKey: string },
  cardNo: string,
  enterprise?: { name: string; customsCode: string },
): string {
  const file: KeyFile & { enterprise?: { name: string; customsCode: string } } = {
    alg: 'Ed25519',
    publicKey: key.publicKey,
    privateKey: key.privateKey,
    cardNo,
    ...(enterprise ? { enterprise: { name: enterprise.name, customsCode: enterprise.customsCode } } : {}),
  }
  return `${JSON.stringify(file, null, 2)}\n`
}

/** Why a pasted or read public key was refused (i18n `admin.key.*`). */
export type PublicKeyProblem = 'EMPTY' | 'PRIVATE_ONLY' | 'UNKNOWN_FORMAT' | 'UNSUPPORTED_ALG'
export type PublicKeyResult =
  { ok: true; alg: CardAlg; publicKey: string; hadPrivateKey: boolean } | { ok: false; problem: PublicKeyProblem }

// SubjectPublicKeyInfo DER prefixes: Ed25519 (OID 1.3.101.112) and SM2 (id-ecPublicKey with curve 1.2.156.10197.1.301).
const SPKI_ED25519 = '302a300506032b6570032100'
const SPKI_SM2 = '3059301306072a8648ce3d020106082a811ccf5501822d034200'

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
function fromBase64(s: string): Uint8Array | undefined {
  const std = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')
  if (!/^[A-Za-z0-9+/]*$/.test(std)) return undefined
  try {
    const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4))
    return Uint8Array.from(bin, (c) => c.charCodeAt(0))
  } catch {
    return undefined
  }
}
/** The raw key of its alg from its bytes: Ed25519 32 bytes, SM2 the uncompressed point 04‖x‖y (65 bytes). */
function fromRaw(bytes: Uint8Array): PublicKeyResult {
  if (bytes.length === 32) return { ok: true, alg: 'Ed25519', publicKey: base64url(bytes), hadPrivateKey: false }
  if (bytes.length === 65 && bytes[0] === 4)
    return { ok: true, alg: 'SM2', publicKey: base64url(bytes), hadPrivateKey: false }
  return { ok: false, problem: 'UNKNOWN_FORMAT' }
}

/**
 * Reads a public key as a person has it: a `kouan card keygen` key file (the private key in it is ignored, never
 * sent), a JWK (Ed25519 `OKP`), a PEM `PUBLIC KEY` (Ed25519 or SM2 SubjectPublicKeyInfo), or the raw key in base64url
 * or base64 (Ed25519 32 bytes, SM2 65 bytes). Gives what POST /cards takes: `alg` and the base64url raw key.
 */
export function readPublicKey(text: string): PublicKeyResult {
  const s = text.trim()
  if (!s) return { ok: false, problem: 'EMPTY' }
  if (s.startsWith('{')) {
    let o: Record<string, unknown>
    try {
      o = JSON.parse(s) as Record<string, unknown>
    } catch {
      return { ok: false, problem: 'UNKNOWN_FORMAT' }
    }
    if (typeof o !== 'object' || o === null) return { ok: false, problem: 'UNKNOWN_FORMAT' }
    const hadPrivateKey = typeof o.privateKey === 'string' || typeof o.d === 'string'
    if (o.kty !== undefined) {
      if (o.kty !== 'OKP' || o.crv !== 'Ed25519') return { ok: false, problem: 'UNSUPPORTED_ALG' }
      const x = typeof o.x === 'string' ? fromBase64(o.x) : undefined
      const r = x ? fromRaw(x) : ({ ok: false, problem: 'UNKNOWN_FORMAT' } as const)
      return r.ok && r.alg === 'Ed25519' ? { ...r, hadPrivateKey } : { ok: false, problem: 'UNKNOWN_FORMAT' }
    }
    if (o.alg !== 'Ed25519' && o.alg !== 'SM2') return { ok: false, problem: 'UNSUPPORTED_ALG' }
    if (typeof o.publicKey !== 'string')
      return { ok: false, problem: hadPrivateKey ? 'PRIVATE_ONLY' : 'UNKNOWN_FORMAT' }
    const raw = fromBase64(o.publicKey)
    const r = raw ? fromRaw(raw) : ({ ok: false, problem: 'UNKNOWN_FORMAT' } as const)
    return r.ok && r.alg === o.alg ? { ...r, hadPrivateKey } : { ok: false, problem: 'UNKNOWN_FORMAT' }
  }
  const pem = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(s)
  if (pem) {
    if (pem[1] !== 'PUBLIC KEY')
      return { ok: false, problem: /PRIVATE/.test(pem[1]!) ? 'PRIVATE_ONLY' : 'UNKNOWN_FORMAT' }
    const der = fromBase64(pem[2]!.replace(/\s+/g, ''))
    if (!der) return { ok: false, problem: 'UNKNOWN_FORMAT' }
    const h = hex(der)
    if (h.startsWith(SPKI_ED25519) && der.length === 44) return fromRaw(der.slice(12))
    if (h.startsWith(SPKI_SM2) && der.length === 91) return fromRaw(der.slice(26))
    return { ok: false, problem: 'UNSUPPORTED_ALG' }
  }
  const raw = fromBase64(s.replace(/\s+/g, ''))
  return raw ? fromRaw(raw) : { ok: false, problem: 'UNKNOWN_FORMAT' }
}
