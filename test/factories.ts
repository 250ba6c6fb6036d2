import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestApp } from './app.js'
import { createUser } from '../src/modules/auth/service.js'
import { ed25519, signPayload } from '../src/shared/signing.js'
import { withUsccCheck, USCC_ALPHABET } from '../src/shared/uscc.js'
import type { CreditLevel } from '../src/modules/enterprises/schema.js'
import type { DeclarationContent, SubmitDeclaration } from '../src/modules/declarations/schema.js'
import { systemIds } from '../src/shared/clock.js'

let seq = 0
const uniq = () => `${process.pid % 1000}${(++seq).toString().padStart(4, '0')}${Math.floor(Math.random() * 1000)}`

export type Headers = { authorization: string }

/** An officer or admin account, logged in through the API. */
export async function loginUser(t: TestApp, role: 'officer' | 'admin' = 'officer', username = `${role}-${uniq()}`): Promise<{ id: string; username: string; headers: Headers }> {
  const password = `pw-${uniq()}-secret`
  const id = await createUser(t.db, t.clock, systemIds, { username, password, role })
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`)
  return { id, username, headers: { authorization: `Bearer ${res.json().token}` } }
}

/** A valid USCC whose body is random (check character computed). */
export function randomUscc(): string {
  let body = '91' + '440300'
  for (let i = 0; i < 9; i++) body += USCC_ALPHABET[Math.floor(Math.random() * 31)]
  return withUsccCheck(body)
}

export function randomCustomsCode(): string {
  return `4403${Math.floor(Math.random() * 1e6).toString().padStart(6, '0')}`
}

export interface TestEnterprise { id: string; customsCode: string; uscc: string; creditLevel: CreditLevel }

export async function buildEnterprise(t: TestApp, admin: { headers: Headers }, overrides: Partial<{ creditLevel: CreditLevel; name: string }> = {}): Promise<TestEnterprise> {
  const body = { uscc: randomUscc(), customsCode: randomCustomsCode(), name: overrides.name ?? `Test Trading ${uniq()} Co.`, creditLevel: overrides.creditLevel ?? 'REGULAR', registeredDistrict: '5300' }
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/enterprises', headers: admin.headers, payload: body })
  if (res.statusCode !== 201) throw new Error(`enterprise: ${res.body}`)
  return res.json()
}

export interface TestOperator { cardId: string; cardNo: string; privateKey: string; publicKey: string; headers: Headers; enterprise: TestEnterprise }

/** Issues a port card with a fresh Ed25519 key and logs in with it by challenge–response. */
export async function buildOperator(t: TestApp, officer: { headers: Headers }, enterprise: TestEnterprise): Promise<TestOperator> {
  const keys = ed25519.generate()
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/cards', headers: officer.headers, payload: { enterpriseId: enterprise.id, operatorName: 'Li Lei', publicKey: keys.publicKey } })
  if (res.statusCode !== 201) throw new Error(`card: ${res.body}`)
  const card = res.json()
  const headers = await cardLogin(t, card.cardNo, keys.privateKey)
  return { cardId: card.id, cardNo: card.cardNo, ...keys, headers, enterprise }
}

export async function cardLogin(t: TestApp, cardNo: string, privateKey: string): Promise<Headers> {
  const ch = await t.app.inject({ method: 'POST', url: '/api/v1/auth/challenge', payload: { cardNo } })
  if (ch.statusCode !== 200) throw new Error(`challenge: ${ch.body}`)
  const { challengeId, challenge } = ch.json()
  const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/card-login', payload: { challengeId, signature: ed25519.sign(privateKey, Buffer.from(challenge, 'utf8')) } })
  if (login.statusCode !== 200) throw new Error(`card login: ${login.body}`)
  return { authorization: `Bearer ${login.json().token}` }
}

/** A valid general-trade import declaration content, adjustable by `overrides`. */
export function declarationContent(op: TestOperator, overrides: Partial<DeclarationContent> = {}): DeclarationContent {
  return {
    clientRef: `REF-${uniq()}`,
    ieFlag: 'I',
    customsDistrict: '5301',
    iePort: '5302',
    tradeMode: '0110',
    transportMode: '2',
    transactionTerms: '1',
    currency: 'USD',
    traderCode: op.enterprise.customsCode,
    declarantCode: op.enterprise.customsCode,
    tradeCountry: 'USA',
    billNo: `COSU${uniq()}`,
    packages: 10,
    grossMassKg: '1250.5',
    netMassKg: '1200',
    items: [
      { hsCode: '0808100000', description: 'Fresh apples', quantity: '1200', unit: '035', unitPrice: '1.25', totalValue: '1500.00', originCountry: 'USA' },
      { hsCode: '8517130000', description: 'Smartphones', quantity: '10', unit: '001', unitPrice: '300.5', totalValue: '3005.00', originCountry: 'CHN' },
    ],
    ...overrides,
  }
}

/** Signs content with the operator's card: the body to POST. */
export function signed(op: Pick<TestOperator, 'cardNo' | 'privateKey'>, content: DeclarationContent): SubmitDeclaration {
  return { ...content, signature: { cardNo: op.cardNo, alg: 'Ed25519', value: signPayload(op.privateKey, content) } }
}

export interface AuditRowView { seq: number; at: string; actor: string; action: string; data: Record<string, unknown> }

/** The audit rows of one entity as stored, oldest first: what a test reads back after a write. */
export async function auditRows(t: Pick<TestApp, 'db'>, entityType: string, entityId: string): Promise<AuditRowView[]> {
  const rows = await t.db.query<{ seq: number; at: Date; actor: string; action: string; data: Record<string, unknown> }>(
    'select seq, at, actor, action, data from audit_log where entity_type = $1 and entity_id = $2 order by at, chain, seq', [entityType, entityId])
  return rows.map((r) => ({ seq: r.seq, at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, data: r.data }))
}

/** An enterprise with a logged-in port card, for the e-commerce parties of the CEB examples. */
export interface CebParty { code: string; enterpriseId: string; cardNo: string; privateKey: string; headers: Headers }

/** Registers the five parties of reference-data/ceb/examples (platform, seller, payment, logistics, agent). */
export async function buildCebParties(t: TestApp, admin: { headers: Headers }): Promise<Record<string, CebParty>> {
  const parties: Record<string, CebParty> = {}
  for (const code of ['4601000EBP', '4601000EBC', '4601000PAY', '4601000LOG', '4601000AGT']) {
    const ent = await t.app.inject({ method: 'POST', url: '/api/v1/enterprises', headers: admin.headers, payload: { uscc: randomUscc(), customsCode: code, name: `Party ${code}`, registeredDistrict: '6400' } })
    if (ent.statusCode !== 201) throw new Error(`enterprise ${code}: ${ent.body}`)
    const keys = ed25519.generate()
    const card = (await t.app.inject({ method: 'POST', url: '/api/v1/cards', headers: admin.headers, payload: { enterpriseId: ent.json().id, operatorName: code, publicKey: keys.publicKey } })).json()
    parties[code] = { code, enterpriseId: ent.json().id, cardNo: card.cardNo, privateKey: keys.privateKey, headers: await cardLogin(t, card.cardNo, keys.privateKey) }
  }
  return parties
}

/** Posts a CEB XML message signed by the party's card (signature over the parsed message, in the header). */
export async function sendCeb(t: TestApp, p: CebParty, xml: string) {
  const { parseCebXml } = await import('../src/modules/ecommerce/xml.js')
  const parsed = parseCebXml(xml)
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
  const sig = signPayload(p.privateKey, parsed.message)
  return t.app.inject({ method: 'POST', url: '/api/v1/ceb/messages', headers: { ...p.headers, 'content-type': 'application/xml', 'x-kouan-signature': `${p.cardNo};Ed25519;${sig}` }, payload: xml })
}

/** The example CEB message `n` (311, 411, 511, 621). */
export const cebExample = (n: number) => readFileSync(join(import.meta.dirname, '..', 'reference-data', 'ceb', 'examples', `CEB${n}Message.xml`), 'utf8')
