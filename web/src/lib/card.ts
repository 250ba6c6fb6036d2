import canonicalize from 'canonicalize'

/**
 * The electronic port card in the browser. `kouan card keygen` writes a key file
 * `{"alg":"Ed25519","publicKey":"<x>","privateKey":"<d>"}` (raw 32-byte keys in base64url, the JWK `x` and
 * `d`). The portal imports it with WebCrypto as a non-extractable key: it signs here and is never sent.
 */
export interface KeyFile { alg: 'Ed25519'; publicKey: string; privateKey: string }

const B64URL = /^[A-Za-z0-9_-]{43}$/

/** Checks a key file's text; returns the key pair or a reason code (see i18n `card.*`). */
export function parseKeyFile(text: string): { ok: true; key: KeyFile } | { ok: false; reason: 'NOT_JSON' | 'NOT_ED25519' | 'BAD_KEY' } {
  let v: unknown
  try { v = JSON.parse(text) } catch { return { ok: false, reason: 'NOT_JSON' } }
  if (typeof v !== 'object' || v === null) return { ok: false, reason: 'NOT_JSON' }
  const o = v as Record<string, unknown>
  if (o.alg !== 'Ed25519') return { ok: false, reason: 'NOT_ED25519' }
  if (typeof o.publicKey !== 'string' || typeof o.privateKey !== 'string' || !B64URL.test(o.publicKey) || !B64URL.test(o.privateKey)) {
    return { ok: false, reason: 'BAD_KEY' }
  }
  return { ok: true, key: { alg: 'Ed25519', publicKey: o.publicKey, privateKey: o.privateKey } }
}

export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let s = ''
  for (const x of b) s += String.fromCharCode(x)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Imports the key pair for signing only; `extractable: false`, so even this page cannot read it back. */
export async function importSigningKey(key: KeyFile, subtle: SubtleCrypto = crypto.subtle): Promise<CryptoKey> {
  return subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', d: key.privateKey, x: key.publicKey }, { name: 'Ed25519' }, false, ['sign'])
}

/** Ed25519 signature of the UTF-8 bytes of `text`, base64url (what the server verifies). */
export async function signText(key: CryptoKey, text: string, subtle: SubtleCrypto = crypto.subtle): Promise<string> {
  return base64url(await subtle.sign({ name: 'Ed25519' }, key, new TextEncoder().encode(text)))
}

/** RFC 8785 canonical JSON: what a card signs for a declaration (the body without `signature`). */
export function canonicalJson(value: unknown): string {
  const s = canonicalize(value)
  if (s === undefined) throw new TypeError('value cannot be canonicalised')
  return s
}

/** A declaration body ready to POST: the content plus the card's signature over its canonical JSON. */
export async function signDeclaration<C extends object>(key: CryptoKey, cardNo: string, content: C, subtle: SubtleCrypto = crypto.subtle) {
  return { ...content, signature: { cardNo, alg: 'Ed25519' as const, value: await signText(key, canonicalJson(content), subtle) } }
}
