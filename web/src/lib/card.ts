import canonicalize from 'canonicalize'

/**
 * The electronic port card in the browser. `kouan card keygen` writes a key file `{"alg", "publicKey", "privateKey"}`
 * in base64url: for `Ed25519` raw 32-byte keys (the JWK `x` and `d`); for `SM2` (SM2 with SM3, signer ID
 * 1234567812345678) the 65-byte point 04‖x‖y and the 32-byte scalar. An Ed25519 key is imported with WebCrypto as a
 * non-extractable key. WebCrypto has no SM2, so an SM2 key is held by the JS signer (`src/shared/sm2.ts`, the same
 * code the server verifies with, loaded only when needed) in a closure. Either way the key lives in this page's
 * memory only: it signs here and is never stored or sent.
 */
export type CardAlg = 'Ed25519' | 'SM2'
export interface KeyFile {
  alg: CardAlg
  publicKey: string
  privateKey: string
  /** The card number, when the file names it (the demo card `kouan start` writes does). */
  cardNo?: string
}

const KEY_CHARS: Record<CardAlg, { publicKey: RegExp; privateKey: RegExp }> = {
  Ed25519: { publicKey: /^[A-Za-z0-9_-]{43}$/, privateKey: /^[A-Za-z0-9_-]{43}$/ },
  SM2: { publicKey: /^[A-Za-z0-9_-]{87}$/, privateKey: /^[A-Za-z0-9_-]{43}$/ },
}

/** Checks a key file's text; returns the key pair or a reason code (see i18n `card.*`). */
export function parseKeyFile(
  text: string,
): { ok: true; key: KeyFile } | { ok: false; reason: 'NOT_JSON' | 'UNSUPPORTED_ALG' | 'BAD_KEY' } {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'NOT_JSON' }
  }
  if (typeof v !== 'object' || v === null) return { ok: false, reason: 'NOT_JSON' }
  const o = v as Record<string, unknown>
  if (o.alg !== 'Ed25519' && o.alg !== 'SM2') return { ok: false, reason: 'UNSUPPORTED_ALG' }
  const chars = KEY_CHARS[o.alg]
  if (
    typeof o.publicKey !== 'string' ||
    typeof o.privateKey !== 'string' ||
    !chars.publicKey.test(o.publicKey) ||
    !chars.privateKey.test(o.privateKey)
  ) {
    return { ok: false, reason: 'BAD_KEY' }
  }
  const cardNo = typeof o.cardNo === 'string' && /^[0-9A-Z]{1,32}$/.test(o.cardNo) ? { cardNo: o.cardNo } : {}
  return { ok: true, key: { alg: o.alg, publicKey: o.publicKey, privateKey: o.privateKey, ...cardNo } }
}

/** A loaded card key: signs the UTF-8 bytes of a text, base64url (what the server verifies with the card's alg). */
export interface CardSigner {
  readonly alg: CardAlg
  /** True when the browser holds the key as a non-extractable WebCrypto key (Ed25519); false for SM2 (JS). */
  readonly nonExtractable: boolean
  sign(text: string): Promise<string>
}

/** Thrown by {@link importSigningKey} when the private and public key of an SM2 file do not belong together. */
export class KeyMismatchError extends Error {}

export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let s = ''
  for (const x of b) s += String.fromCharCode(x)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * Imports the key pair for signing only. Ed25519: a WebCrypto key with `extractable: false`, so even this page cannot
 * read it back. SM2: the JS signer, after checking that the private key gives the public
 * key (else {@link KeyMismatchError}).
 */
export async function importSigningKey(key: KeyFile, subtle: SubtleCrypto = crypto.subtle): Promise<CardSigner> {
  if (key.alg === 'SM2') {
    const { sm2, sm2PublicKeyOf } = await import('../../../src/shared/sm2.js')
    let pair = false
    try {
      pair = sm2PublicKeyOf(key.privateKey) === key.publicKey
    } catch {
      /* not a private key */
    }
    if (!pair) throw new KeyMismatchError('the SM2 private key does not belong to the public key')
    const privateKey = key.privateKey
    return {
      alg: 'SM2',
      nonExtractable: false,
      sign: async (text) => sm2.sign(privateKey, new TextEncoder().encode(text)),
    }
  }
  const k = await subtle.importKey(
    'jwk',
    { kty: 'OKP', crv: 'Ed25519', d: key.privateKey, x: key.publicKey },
    { name: 'Ed25519' },
    false,
    ['sign'],
  )
  return {
    alg: 'Ed25519',
    nonExtractable: !k.extractable,
    sign: async (text) => base64url(await subtle.sign({ name: 'Ed25519' }, k, new TextEncoder().encode(text))),
  }
}

/** The card's signature of the UTF-8 bytes of `text`, base64url (what the server verifies). */
export async function signText(key: CardSigner, text: string): Promise<string> {
  return key.sign(text)
}

/** RFC 8785 canonical JSON: what a card signs for a declaration (the body without `signature`). */
export function canonicalJson(value: unknown): string {
  const s = canonicalize(value)
  if (s === undefined) throw new TypeError('value cannot be canonicalised')
  return s
}

/** A declaration body ready to POST: the content plus the card's signature over its canonical JSON. */
export async function signDeclaration<C extends object>(key: CardSigner, cardNo: string, content: C) {
  return { ...content, signature: { cardNo, alg: key.alg, value: await signText(key, canonicalJson(content)) } }
}
