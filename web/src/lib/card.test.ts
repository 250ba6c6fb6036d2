import { describe, expect, it } from 'vitest'
import { ed25519, signPayload, canonicalJson as serverCanonical } from '../../../src/shared/signing.js'
import { sm2 } from '../../../src/shared/sm2.js'
import {
  KeyMismatchError,
  base64url,
  canonicalJson,
  importSigningKey,
  parseKeyFile,
  signDeclaration,
  signText,
} from './card.js'

// What `kouan card keygen` (--alg sm2) writes.
const keyFile = (alg: 'Ed25519' | 'SM2' = 'Ed25519') => {
  const k = (alg === 'SM2' ? sm2 : ed25519).generate()
  return { text: JSON.stringify({ alg, publicKey: k.publicKey, privateKey: k.privateKey }, null, 2), ...k }
}

describe('port card key file in the browser (WebCrypto Ed25519)', () => {
  it('reads a keygen file and signs a challenge the server verifies', async () => {
    const k = keyFile()
    const parsed = parseKeyFile(k.text)
    expect(parsed.ok).toBe(true)
    const key = await importSigningKey(parsed.ok ? parsed.key : (undefined as never))
    expect(key).toMatchObject({ alg: 'Ed25519', nonExtractable: true })
    const sig = await signText(key, 'kouan-login:abc:2026-05-11T01:00:00Z')
    expect(ed25519.verify(k.publicKey, Buffer.from('kouan-login:abc:2026-05-11T01:00:00Z', 'utf8'), sig)).toBe(true)
    expect(ed25519.verify(k.publicKey, Buffer.from('another challenge', 'utf8'), sig)).toBe(false)
  })

  it('signs a declaration exactly as the server and `kouan card sign` do (RFC 8785 canonical JSON)', async () => {
    const k = keyFile()
    const p = parseKeyFile(k.text)
    if (!p.ok) throw new Error('key file')
    const content = {
      clientRef: 'WEB-1',
      packages: 10,
      grossMassKg: '1250.5',
      items: [{ hsCode: '0808100000', description: '苹果 Äpfel', quantity: '1200' }],
      ieFlag: 'I',
    }
    const body = await signDeclaration(await importSigningKey(p.key), 'C0001', content)
    expect(canonicalJson(content)).toBe(serverCanonical(content))
    expect(body.signature).toEqual({ cardNo: 'C0001', alg: 'Ed25519', value: signPayload(k.privateKey, content) })
  })

  it('reads the card number a key file names (the demo card kouan start writes), and ignores a malformed one', () => {
    const k = keyFile()
    const named = JSON.stringify({ ...JSON.parse(k.text), cardNo: 'EP4403994EMGFAMYRE', enterprise: { name: 'Demo' } })
    expect(parseKeyFile(named)).toEqual({
      ok: true,
      key: { alg: 'Ed25519', publicKey: k.publicKey, privateKey: k.privateKey, cardNo: 'EP4403994EMGFAMYRE' },
    })
    expect(parseKeyFile(k.text)).toEqual({
      ok: true,
      key: { alg: 'Ed25519', publicKey: k.publicKey, privateKey: k.privateKey },
    })
    const odd = JSON.stringify({ ...JSON.parse(k.text), cardNo: 'not a card <script>' })
    expect(parseKeyFile(odd)).toEqual({
      ok: true,
      key: { alg: 'Ed25519', publicKey: k.publicKey, privateKey: k.privateKey },
    })
  })

  it('refuses files that are not Ed25519 or SM2 key pairs, with a reason', () => {
    expect(parseKeyFile('not json')).toEqual({ ok: false, reason: 'NOT_JSON' })
    expect(parseKeyFile('{"alg":"RSA","publicKey":"x","privateKey":"y"}')).toEqual({
      ok: false,
      reason: 'UNSUPPORTED_ALG',
    })
    expect(parseKeyFile('{"alg":"Ed25519","publicKey":"short","privateKey":"y"}')).toEqual({
      ok: false,
      reason: 'BAD_KEY',
    })
    // An Ed25519 key pair labelled SM2 (and the reverse) has the wrong lengths.
    const e = ed25519.generate()
    const s = sm2.generate()
    expect(parseKeyFile(JSON.stringify({ alg: 'SM2', ...e }))).toEqual({ ok: false, reason: 'BAD_KEY' })
    expect(parseKeyFile(JSON.stringify({ alg: 'Ed25519', ...s }))).toEqual({ ok: false, reason: 'BAD_KEY' })
  })

  it("reads an SM2 key file and signs a challenge in JS that the server's sm2.verify accepts", async () => {
    const k = keyFile('SM2')
    const parsed = parseKeyFile(k.text)
    if (!parsed.ok) throw new Error(parsed.reason)
    const key = await importSigningKey(parsed.key)
    expect(key).toMatchObject({ alg: 'SM2', nonExtractable: false })
    const challenge = 'kouan-login:EP4403000001ABCDEF:Zm9v'
    const sig = await signText(key, challenge)
    expect(Buffer.from(sig, 'base64url')).toHaveLength(64)
    expect(sm2.verify(k.publicKey, Buffer.from(challenge, 'utf8'), sig)).toBe(true)
    expect(sm2.verify(k.publicKey, Buffer.from('another challenge', 'utf8'), sig)).toBe(false)
    expect(sm2.verify(sm2.generate().publicKey, Buffer.from(challenge, 'utf8'), sig)).toBe(false)
  })

  it("signs a declaration with an SM2 key as `kouan card sign` does: alg SM2, verifying over the server's canonical JSON", async () => {
    const k = keyFile('SM2')
    const p = parseKeyFile(k.text)
    if (!p.ok) throw new Error('key file')
    const content = {
      clientRef: 'WEB-SM2',
      packages: 3,
      grossMassKg: '12.5',
      items: [{ hsCode: '0808100000', description: '苹果 🍎', quantity: '10' }],
      ieFlag: 'I',
    }
    const body = await signDeclaration(await importSigningKey(p.key), 'EP0001', content)
    expect(body.signature).toMatchObject({ cardNo: 'EP0001', alg: 'SM2' })
    expect(sm2.verify(k.publicKey, Buffer.from(serverCanonical(content), 'utf8'), body.signature.value)).toBe(true)
    // SM2 signatures take a fresh k each time, so they differ from the CLI's; both verify.
    expect(
      sm2.verify(k.publicKey, Buffer.from(serverCanonical(content), 'utf8'), signPayload(k.privateKey, content, sm2)),
    ).toBe(true)
  })

  it('refuses an SM2 key file whose private key does not give its public key', async () => {
    const k = keyFile('SM2')
    const other = sm2.generate()
    const p = parseKeyFile(JSON.stringify({ alg: 'SM2', publicKey: other.publicKey, privateKey: k.privateKey }))
    if (!p.ok) throw new Error('key file')
    await expect(importSigningKey(p.key)).rejects.toBeInstanceOf(KeyMismatchError)
  })

  it('encodes base64url without padding', () => {
    expect(base64url(new Uint8Array([251, 255, 191]))).toBe('-_-_')
    expect(base64url(new Uint8Array([1]))).toBe('AQ')
  })
})
