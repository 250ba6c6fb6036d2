import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ed25519 } from '../../../src/shared/signing.js'
import { sm2 } from '../../../src/shared/sm2.js'
import { importSigningKey, parseKeyFile, signText } from './card.js'
import { cardKeyFileText, generateCardKey, readPublicKey } from './cardgen.js'

describe('a port card key generated in the browser (WebCrypto Ed25519)', () => {
  it('is a key file the portal login reads, naming the card, and signs a challenge the server verifies', async () => {
    const key = await generateCardKey()
    const text = cardKeyFileText(key, 'EP4403960001ABC123', { name: '示范贸易', customsCode: '4403960001' })
    const parsed = parseKeyFile(text)
    expect(parsed).toEqual({
      ok: true,
      key: { alg: 'Ed25519', publicKey: key.publicKey, privateKey: key.privateKey, cardNo: 'EP4403960001ABC123' },
    })
    if (!parsed.ok) throw new Error('key file')
    // The public key is what POST /cards takes (base64url raw, 43 characters) and the server parses.
    expect(() => ed25519.parsePublicKey(key.publicKey)).not.toThrow()
    expect(readPublicKey(text)).toEqual({ ok: true, alg: 'Ed25519', publicKey: key.publicKey, hadPrivateKey: true })
    // The login signs `kouan-login:<cardNo>:<nonce>`; the server verifies it with the card's public key.
    const challenge = 'kouan-login:EP4403960001ABC123:n0nce'
    const sig = await signText(await importSigningKey(parsed.key), challenge)
    expect(ed25519.verify(key.publicKey, Buffer.from(challenge, 'utf8'), sig)).toBe(true)
    expect(ed25519.verify(key.publicKey, Buffer.from('kouan-login:other:n0nce', 'utf8'), sig)).toBe(false)
    // And the private key is the pair of the public key as node:crypto (the server's signer) sees it.
    expect(ed25519.verify(key.publicKey, Buffer.from('x'), ed25519.sign(key.privateKey, Buffer.from('x')))).toBe(true)
  })

  it('makes a new pair every time', async () => {
    const a = await generateCardKey()
    const b = await generateCardKey()
    expect(a.publicKey).not.toBe(b.publicKey)
    expect(a.privateKey).not.toBe(b.privateKey)
  })
})

describe('reading a public key as pasted or read from a file', () => {
  const k = ed25519.generate()
  const s = sm2.generate()
  const ed = { ok: true, alg: 'Ed25519', publicKey: k.publicKey, hadPrivateKey: false }

  it('takes the raw key in base64url or base64, a JWK and a keygen file', () => {
    expect(readPublicKey(`  ${k.publicKey}\n`)).toEqual(ed)
    expect(readPublicKey(Buffer.from(k.publicKey, 'base64url').toString('base64'))).toEqual(ed)
    expect(readPublicKey(JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: k.publicKey }))).toEqual(ed)
    expect(readPublicKey(JSON.stringify({ alg: 'SM2', publicKey: s.publicKey }))).toEqual({
      ok: true,
      alg: 'SM2',
      publicKey: s.publicKey,
      hadPrivateKey: false,
    })
    expect(readPublicKey(s.publicKey)).toMatchObject({ ok: true, alg: 'SM2', publicKey: s.publicKey })
  })

  it('takes a PEM public key (SubjectPublicKeyInfo) of Ed25519', () => {
    const { publicKey } = generateKeyPairSync('ed25519')
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const x = createPublicKey(pem).export({ format: 'jwk' }).x!
    expect(readPublicKey(pem)).toEqual({ ok: true, alg: 'Ed25519', publicKey: x, hadPrivateKey: false })
  })

  it('refuses private keys alone, other algorithms and noise, with a reason', () => {
    const { privateKey } = generateKeyPairSync('ed25519')
    expect(readPublicKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toEqual({
      ok: false,
      problem: 'PRIVATE_ONLY',
    })
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
    expect(readPublicKey(rsa.export({ type: 'spki', format: 'pem' }).toString())).toEqual({
      ok: false,
      problem: 'UNSUPPORTED_ALG',
    })
    expect(readPublicKey(JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }))).toEqual({
      ok: false,
      problem: 'UNSUPPORTED_ALG',
    })
    expect(readPublicKey(JSON.stringify({ alg: 'Ed25519', privateKey: k.privateKey }))).toEqual({
      ok: false,
      problem: 'PRIVATE_ONLY',
    })
    // An Ed25519 key labelled SM2 is not an SM2 key.
    expect(readPublicKey(JSON.stringify({ alg: 'SM2', publicKey: k.publicKey }))).toEqual({
      ok: false,
      problem: 'UNKNOWN_FORMAT',
    })
    expect(readPublicKey('')).toEqual({ ok: false, problem: 'EMPTY' })
    expect(readPublicKey('hello world!')).toEqual({ ok: false, problem: 'UNKNOWN_FORMAT' })
    expect(readPublicKey('AAAA')).toEqual({ ok: false, problem: 'UNKNOWN_FORMAT' })
  })
})
