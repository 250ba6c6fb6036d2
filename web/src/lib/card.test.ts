import { describe, expect, it } from 'vitest'
import { ed25519, signPayload, canonicalJson as serverCanonical } from '../../../src/shared/signing.js'
import { base64url, canonicalJson, importSigningKey, parseKeyFile, signDeclaration, signText } from './card.js'

// What `kouan card keygen` writes.
const keyFile = () => {
  const k = ed25519.generate()
  return { text: JSON.stringify({ alg: 'Ed25519', publicKey: k.publicKey, privateKey: k.privateKey }, null, 2), ...k }
}

describe('port card key file in the browser (WebCrypto Ed25519)', () => {
  it('reads a keygen file and signs a challenge the server verifies', async () => {
    const k = keyFile()
    const parsed = parseKeyFile(k.text)
    expect(parsed.ok).toBe(true)
    const key = await importSigningKey(parsed.ok ? parsed.key : (undefined as never))
    expect(key.extractable).toBe(false)
    const sig = await signText(key, 'kouan-login:abc:2026-05-11T01:00:00Z')
    expect(ed25519.verify(k.publicKey, Buffer.from('kouan-login:abc:2026-05-11T01:00:00Z', 'utf8'), sig)).toBe(true)
    expect(ed25519.verify(k.publicKey, Buffer.from('another challenge', 'utf8'), sig)).toBe(false)
  })

  it('signs a declaration exactly as the server and `kouan card sign` do (RFC 8785 canonical JSON)', async () => {
    const k = keyFile()
    const p = parseKeyFile(k.text)
    if (!p.ok) throw new Error('key file')
    const content = { clientRef: 'WEB-1', packages: 10, grossMassKg: '1250.5', items: [{ hsCode: '0808100000', description: '苹果 Äpfel', quantity: '1200' }], ieFlag: 'I' }
    const body = await signDeclaration(await importSigningKey(p.key), 'C0001', content)
    expect(canonicalJson(content)).toBe(serverCanonical(content))
    expect(body.signature).toEqual({ cardNo: 'C0001', alg: 'Ed25519', value: signPayload(k.privateKey, content) })
  })

  it('refuses files that are not Ed25519 key pairs, with a reason', () => {
    expect(parseKeyFile('not json')).toEqual({ ok: false, reason: 'NOT_JSON' })
    expect(parseKeyFile('{"alg":"RSA","publicKey":"x","privateKey":"y"}')).toEqual({ ok: false, reason: 'NOT_ED25519' })
    expect(parseKeyFile('{"alg":"Ed25519","publicKey":"short","privateKey":"y"}')).toEqual({ ok: false, reason: 'BAD_KEY' })
  })

  it('encodes base64url without padding', () => {
    expect(base64url(new Uint8Array([251, 255, 191]))).toBe('-_-_')
    expect(base64url(new Uint8Array([1]))).toBe('AQ')
  })
})
