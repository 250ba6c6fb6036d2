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
export async function loginUser(
  t: TestApp,
  role: 'officer' | 'admin' = 'officer',
  username = `${role}-${uniq()}`,
): Promise<{ id: string; username: string; headers: Headers }> {
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
  return `4403${Math.floor(Math.random() * 1e6)
    .toString()
    .padStart(6, '0')}`
}

export interface TestEnterprise {
  id: string
  customsCode: string
  uscc: string
  creditLevel: CreditLevel
}

export async function buildEnterprise(
  t: TestApp,
  admin: { headers: Headers },
  overrides: Partial<{ creditLevel: CreditLevel; name: string }> = {},
): Promise<TestEnterprise> {
  const body = {
    uscc: randomUscc(),
    customsCode: randomCustomsCode(),
    name: overrides.name ?? `Test Trading ${uniq()} Co.`,
    creditLevel: overrides.creditLevel ?? 'REGULAR',
    registeredDistrict: '5300',
  }
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/enterprises', headers: admin.headers, payload: body })
  if (res.statusCode !== 201) throw new Error(`enterprise: ${res.body}`)
  return res.json()
}

export interface TestOperator {
  cardId: string
  cardNo: string
  privateKey: string
  publicKey: string
  headers: Headers
  enterprise: TestEnterprise
}

/** Issues a port card with a fresh Ed25519 key and logs in with it by challenge–response. */
export async function buildOperator(
  t: TestApp,
  officer: { headers: Headers },
  enterprise: TestEnterprise,
): Promise<TestOperator> {
  const keys = ed25519.generate()
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/cards',
    headers: officer.headers,
    payload: { enterpriseId: enterprise.id, operatorName: 'Li Lei', publicKey: keys.publicKey },
  })
  if (res.statusCode !== 201) throw new Error(`card: ${res.body}`)
  const card = res.json()
  const headers = await cardLogin(t, card.cardNo, keys.privateKey)
  return { cardId: card.id, cardNo: card.cardNo, ...keys, headers, enterprise }
}

export async function cardLogin(t: TestApp, cardNo: string, privateKey: string): Promise<Headers> {
  const ch = await t.app.inject({ method: 'POST', url: '/api/v1/auth/challenge', payload: { cardNo } })
  if (ch.statusCode !== 200) throw new Error(`challenge: ${ch.body}`)
  const { challengeId, challenge } = ch.json()
  const login = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/card-login',
    payload: { challengeId, signature: ed25519.sign(privateKey, Buffer.from(challenge, 'utf8')) },
  })
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
      {
        hsCode: '0808100000',
        description: 'Fresh apples',
        quantity: '1200',
        unit: '035',
        unitPrice: '1.25',
        totalValue: '1500.00',
        originCountry: 'USA',
      },
      {
        hsCode: '8517130000',
        description: 'Smartphones',
        quantity: '10',
        unit: '001',
        unitPrice: '300.5',
        totalValue: '3005.00',
        originCountry: 'CHN',
      },
    ],
    ...overrides,
  }
}

/** Signs content with the operator's card: the body to POST. */
export function signed(
  op: Pick<TestOperator, 'cardNo' | 'privateKey'>,
  content: DeclarationContent,
): SubmitDeclaration {
  return { ...content, signature: { cardNo: op.cardNo, alg: 'Ed25519', value: signPayload(op.privateKey, content) } }
}

export interface AuditRowView {
  seq: number
  at: string
  actor: string
  action: string
  data: Record<string, unknown>
}

/** The audit rows of one entity as stored, oldest first: what a test reads back after a write. */
export async function auditRows(t: Pick<TestApp, 'db'>, entityType: string, entityId: string): Promise<AuditRowView[]> {
  const rows = await t.db.query<{
    seq: number
    at: Date
    actor: string
    action: string
    data: Record<string, unknown>
  }>(
    'select seq, at, actor, action, data from audit_log where entity_type = $1 and entity_id = $2 order by at, chain, seq',
    [entityType, entityId],
  )
  return rows.map((r) => ({
    seq: r.seq,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    data: r.data,
  }))
}

/** An enterprise with a logged-in port card, for the e-commerce parties of the CEB examples. */
export interface CebParty {
  code: string
  enterpriseId: string
  cardNo: string
  privateKey: string
  headers: Headers
}

/** Registers the five parties of reference-data/ceb/examples (platform, seller, payment, logistics, agent). */
export async function buildCebParties(t: TestApp, admin: { headers: Headers }): Promise<Record<string, CebParty>> {
  const parties: Record<string, CebParty> = {}
  for (const code of ['4601000EBP', '4601000EBC', '4601000PAY', '4601000LOG', '4601000AGT']) {
    const ent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/enterprises',
      headers: admin.headers,
      payload: { uscc: randomUscc(), customsCode: code, name: `Party ${code}`, registeredDistrict: '6400' },
    })
    if (ent.statusCode !== 201) throw new Error(`enterprise ${code}: ${ent.body}`)
    const keys = ed25519.generate()
    const card = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/cards',
        headers: admin.headers,
        payload: { enterpriseId: ent.json().id, operatorName: code, publicKey: keys.publicKey },
      })
    ).json()
    parties[code] = {
      code,
      enterpriseId: ent.json().id,
      cardNo: card.cardNo,
      privateKey: keys.privateKey,
      headers: await cardLogin(t, card.cardNo, keys.privateKey),
    }
  }
  return parties
}

/**
 * The CEB parties and an officer, with selectivity's random control picks turned off so verdicts are
 * deterministic (no random inspection of a consistent ticket).
 */
export async function deterministicCebSetup(
  t: TestApp,
): Promise<{ parties: Record<string, CebParty>; officer: { headers: Headers } }> {
  const admin = await loginUser(t, 'admin')
  const officer = await loginUser(t, 'officer')
  const params = (
    await t.app.inject({ method: 'GET', url: '/api/v1/selectivity/params', headers: admin.headers })
  ).json().params
  await t.app.inject({
    method: 'PUT',
    url: '/api/v1/selectivity/params',
    headers: admin.headers,
    payload: { params: { ...params, minRandomRate: 0, explorationRate: 0 } },
  })
  return { parties: await buildCebParties(t, admin), officer }
}

/** Posts a CEB XML message signed by the party's card (signature over the parsed message, in the header). */
export async function sendCeb(t: TestApp, p: CebParty, xml: string) {
  const { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } = await import('../src/modules/ecommerce/xml.js')
  const parsed = parseCebXml(xml)
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/ceb/messages',
    headers: {
      ...p.headers,
      'content-type': 'application/xml',
      [SIGNATURE_HEADER]: xmlSignatureHeader(p.cardNo, p.privateKey, parsed.message),
    },
    payload: xml,
  })
}

/** The example CEB message `n` (311, 411, 511, 621). */
export const cebExample = (n: number) =>
  readFileSync(join(import.meta.dirname, '..', 'reference-data', 'ceb', 'examples', `CEB${n}Message.xml`), 'utf8')

// ---- certificates and archives ------------------------------------------------------------------------------

/** Publishes selectivity parameters without the random control draw, so lanes follow the rules only. */
export async function noRandomSelection(t: TestApp, admin: { headers: Headers }): Promise<void> {
  const { DEFAULT_PARAMS } = await import('../src/modules/selectivity/engine.js')
  const res = await t.app.inject({
    method: 'PUT',
    url: '/api/v1/selectivity/params',
    headers: admin.headers,
    payload: { params: { ...DEFAULT_PARAMS, minRandomRate: 0, explorationRate: 0 } },
  })
  if (res.statusCode !== 200) throw new Error(`params: ${res.body}`)
}

/** A selectivity rule authored by one officer and activated by another (four eyes). */
export async function activeRule(
  t: TestApp,
  author: { headers: Headers },
  approver: { headers: Headers },
  name: string,
  conditions: object[],
  action: object,
): Promise<{ id: string }> {
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/selectivity/rules',
    headers: author.headers,
    payload: { name, conditions, action },
  })
  if (created.statusCode !== 201) throw new Error(`rule: ${created.body}`)
  const activated = await t.app.inject({
    method: 'POST',
    url: `/api/v1/selectivity/rules/${created.json().id}/activate`,
    headers: approver.headers,
  })
  if (activated.statusCode !== 200) throw new Error(`activate: ${activated.body}`)
  return activated.json()
}

/** Frozen chicken feet from Russia (HS8 02071422), the goods of the Shenzhen 2025 automatic certificate. */
export const CHICKEN_FEET = {
  hsCode: '0207142200',
  description: '冷冻鸡爪 Frozen chicken feet',
  quantity: '12000',
  unit: '035',
  unitPrice: '2.1',
  totalValue: '25200.00',
  originCountry: 'RUS',
}

/** Cotton T-shirts made in China: general trade, green lane under the rules alone (no quarantine, no price anomaly). */
export const TSHIRTS = {
  hsCode: '6109100000',
  description: 'Cotton T-shirts',
  quantity: '100',
  unit: '011',
  unitPrice: '5',
  totalValue: '500.00',
  originCountry: 'CHN',
}

export interface SubmittedDeclaration {
  id: string
  entryId: string | null
  state: string
  lane: string | null
  [k: string]: unknown
}

/** Submits a signed declaration for the operator; throws unless it was created. */
export async function submitDeclaration(
  t: TestApp,
  op: TestOperator,
  overrides: Partial<DeclarationContent> = {},
): Promise<SubmittedDeclaration> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/declarations',
    headers: op.headers,
    payload: signed(op, declarationContent(op, overrides)),
  })
  if (res.statusCode !== 201) throw new Error(`declaration: ${res.body}`)
  return res.json()
}

/** Records an inspection result on the declaration's one inspection task; returns the declaration after it. */
export async function inspect(
  t: TestApp,
  officer: { headers: Headers },
  declarationId: string,
  result: object = { result: 'COMPLIANT' },
): Promise<SubmittedDeclaration> {
  const list = await t.app.inject({
    method: 'GET',
    url: `/api/v1/inspections?declarationId=${declarationId}`,
    headers: officer.headers,
  })
  const [task] = list.json().items as Array<{ id: string }>
  if (!task) throw new Error(`no inspection for ${declarationId}`)
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/inspections/${task.id}/result`,
    headers: officer.headers,
    payload: result,
  })
  if (res.statusCode !== 200) throw new Error(`inspection result: ${res.body}`)
  return (
    await t.app.inject({ method: 'GET', url: `/api/v1/declarations/${declarationId}`, headers: officer.headers })
  ).json()
}

/**
 * Decodes the QR code a Kouan PDF draws (the 1-bit image XObject `KouanQR` of its last page) with jsQR, as a
 * scanner would read it off the paper: the image is upscaled to 4 pixels per module first.
 */
export async function decodePdfQr(pdf: Uint8Array): Promise<string | undefined> {
  const { PDFDocument, PDFName, PDFRawStream, PDFDict, PDFNumber } = await import('pdf-lib')
  const { inflateSync } = await import('node:zlib')
  // jsqr is CommonJS: its module.exports is the function, which TypeScript types as the namespace's `default`.
  const mod = await import('jsqr')
  const jsQR = ((mod.default as unknown as { default?: unknown }).default ??
    mod.default) as unknown as typeof mod.default.default
  const doc = await PDFDocument.load(pdf)
  for (const page of doc.getPages().reverse()) {
    const xobjects = page.node.Resources()?.lookupMaybe(PDFName.of('XObject'), PDFDict)
    if (!xobjects) continue
    for (const [name, ref] of xobjects.entries()) {
      if (!name.asString().startsWith('/KouanQR')) continue
      const stream = doc.context.lookup(ref)
      if (!(stream instanceof PDFRawStream)) continue
      const n = stream.dict.lookup(PDFName.of('Width'), PDFNumber).asNumber()
      const bits = inflateSync(stream.getContents())
      const scale = 4
      const size = n * scale
      const rgba = new Uint8ClampedArray(size * size * 4)
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const r = Math.floor(y / scale),
            c = Math.floor(x / scale)
          const white = (bits[r * Math.ceil(n / 8) + (c >> 3)]! >> (7 - (c & 7))) & 1
          rgba.fill(white ? 255 : 0, (y * size + x) * 4, (y * size + x) * 4 + 3)
          rgba[(y * size + x) * 4 + 3] = 255
        }
      }
      return jsQR(rgba, size, size)?.data
    }
  }
  return undefined
}

// ---- entrustments (报关委托) -------------------------------------------------------------------------------

export type EntrustmentTermsInput = import('../src/modules/entrustments/schema.js').EntrustmentTerms

/** Terms by which `trader` entrusts `declarant`: today's China date to a year on, every trade mode and district. */
export function entrustmentTerms(
  trader: TestOperator,
  declarant: { enterprise: TestEnterprise },
  overrides: Partial<EntrustmentTermsInput> = {},
): EntrustmentTermsInput {
  return {
    clientRef: `ENT-${uniq()}`,
    traderCode: trader.enterprise.customsCode,
    declarantCode: declarant.enterprise.customsCode,
    validFrom: '2026-01-01',
    validTo: '2027-12-31',
    tradeModes: 'ALL',
    customsDistricts: 'ALL',
    ...overrides,
  }
}

/** Signs a body (any JSON object) with the operator's card: `{...body, signature}` over its canonical JSON. */
export function signedBody<T extends object>(
  op: Pick<TestOperator, 'cardNo' | 'privateKey'>,
  body: T,
): T & { signature: { cardNo: string; alg: 'Ed25519'; value: string } } {
  return { ...body, signature: { cardNo: op.cardNo, alg: 'Ed25519', value: signPayload(op.privateKey, body) } }
}

/** The trader's operator entrusts the declarant and the declarant's operator accepts: an ACTIVE entrustment. */
export async function entrust(
  t: TestApp,
  trader: TestOperator,
  declarant: TestOperator,
  overrides: Partial<EntrustmentTermsInput> = {},
): Promise<{ id: string; termsHash: string; state: string }> {
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/entrustments',
    headers: trader.headers,
    payload: signedBody(trader, entrustmentTerms(trader, declarant, overrides)),
  })
  if (created.statusCode !== 201) throw new Error(`entrustment: ${created.body}`)
  const { id, termsHash } = created.json()
  const accepted = await t.app.inject({
    method: 'POST',
    url: `/api/v1/entrustments/${id}/accept`,
    headers: declarant.headers,
    payload: signedBody(declarant, { decision: 'ACCEPT', entrustmentId: id, termsHash }),
  })
  if (accepted.statusCode !== 200) throw new Error(`accept: ${accepted.body}`)
  return accepted.json()
}
