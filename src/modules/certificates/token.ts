import { createHash } from 'node:crypto'
import { algorithms, canonicalJson } from '../../shared/signing.js'
import { CERTIFICATE_NUMBER_PATTERN, PRINT_SERIAL_PATTERN, TOKEN_MAX } from './schema.js'

/**
 * The compact signed token a QR code carries (DOMAIN §6: number, content digest, key id, signature):
 *
 *     K1.<kind>.<number>.<digest>.<kid>.<signature>
 *
 * `K1` is the format version; kind `C` is a certificate, `P` an archive printout; `digest` is the SHA-256 of the
 * RFC 8785 canonical JSON of the printed content (base64url, 43 characters); `kid` names the issuing key in the
 * published key set; `signature` is the key's signature (base64url) over the UTF-8 bytes of everything before the
 * last dot: 64 bytes for either algorithm an issuing key may have (Ed25519, or SM2 as r‖s), so the format does not
 * change with the key. About 180 characters, so a verify URL with it stays well under 300 bytes (a version 10 QR code at
 * level M). Anyone with the public key set can check it offline.
 */
export const TOKEN_VERSION = 'K1'

export type TokenKind = 'CERTIFICATE' | 'ARCHIVE_PRINT'
const KIND_CODE: Record<TokenKind, string> = { CERTIFICATE: 'C', ARCHIVE_PRINT: 'P' }
const KIND_OF: Record<string, TokenKind> = { C: 'CERTIFICATE', P: 'ARCHIVE_PRINT' }
const NUMBER_RE: Record<TokenKind, RegExp> = {
  CERTIFICATE: new RegExp(CERTIFICATE_NUMBER_PATTERN),
  ARCHIVE_PRINT: new RegExp(PRINT_SERIAL_PATTERN),
}

/** What a token asserts. */
export interface TokenClaims {
  kind: TokenKind
  number: string
  digest: string
  kid: string
}
export interface ParsedToken extends TokenClaims {
  text: string
  signed: string
  signature: string
}
export type ParseResult = { ok: true; token: ParsedToken } | { ok: false; reason: 'MALFORMED' | 'UNSUPPORTED_VERSION' }

/** A private signing key of the issuer. */
export interface SigningKey {
  kid: string
  alg: string
  privateKey: string
}

/** SHA-256 of the canonical JSON of `content`, base64url: what a token's digest commits to. */
export function contentDigest(content: unknown): string {
  return createHash('sha256').update(canonicalJson(content), 'utf8').digest('base64url')
}

/** Signs claims into a token. */
export function signToken(claims: TokenClaims, key: SigningKey): string {
  const alg = algorithms[key.alg]
  if (!alg) throw new Error(`unsupported signing algorithm ${key.alg}`)
  if (claims.kid !== key.kid) throw new Error('claims name another key')
  const signed = [TOKEN_VERSION, KIND_CODE[claims.kind], claims.number, claims.digest, claims.kid].join('.')
  return `${signed}.${alg.sign(key.privateKey, Buffer.from(signed, 'utf8'))}`
}

// base64url of exactly n bytes, in its one canonical spelling (unused trailing bits zero), so that a token
// has a single textual form.
function canonicalB64(s: string, bytes: number): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(s) || s.length !== Math.ceil((bytes * 4) / 3)) return false
  return Buffer.from(s, 'base64url').toString('base64url') === s
}

/** Parses a token's text; never throws. The signature is checked separately, with the key it names. */
export function parseToken(text: string): ParseResult {
  if (typeof text !== 'string' || text.length === 0 || text.length > TOKEN_MAX)
    return { ok: false, reason: 'MALFORMED' }
  const parts = text.split('.')
  const version = parts[0] ?? ''
  if (!/^K[0-9]{1,3}$/.test(version)) return { ok: false, reason: 'MALFORMED' }
  if (version !== TOKEN_VERSION) return { ok: false, reason: 'UNSUPPORTED_VERSION' }
  if (parts.length !== 6) return { ok: false, reason: 'MALFORMED' }
  const [, kindCode, number, digest, kid, signature] = parts as [string, string, string, string, string, string]
  const kind = KIND_OF[kindCode]
  if (
    !kind ||
    !NUMBER_RE[kind].test(number) ||
    !canonicalB64(digest, 32) ||
    !/^[A-Za-z0-9_-]{1,64}$/.test(kid) ||
    !canonicalB64(signature, 64)
  ) {
    return { ok: false, reason: 'MALFORMED' }
  }
  return {
    ok: true,
    token: { kind, number, digest, kid, signature, text, signed: text.slice(0, text.length - signature.length - 1) },
  }
}

/** Whether the token's signature verifies with `publicKey` under `alg`; false for an unknown algorithm. */
export function signatureValid(t: ParsedToken, key: { alg: string; publicKey: string }): boolean {
  const alg = algorithms[key.alg]
  return !!alg && alg.verify(key.publicKey, Buffer.from(t.signed, 'utf8'), t.signature)
}

/**
 * The token inside what a scanner read: the token itself, or a verify URL ending in `/verify/<token>` (query
 * string and fragment ignored). Surrounding whitespace is dropped.
 */
export function tokenFromInput(input: string): string {
  const s = input.trim()
  const m = /\/verify\/([^/?#\s]+)(?:[?#].*)?$/.exec(s)
  if (!m) return s
  try {
    return decodeURIComponent(m[1]!)
  } catch {
    return m[1]!
  }
}

/** The URL a QR code carries: the public verify page of the token. */
export function verifyUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/verify/${token}`
}
