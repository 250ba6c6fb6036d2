/**
 * The world the authorization matrix and the fuzz suites run against: two enterprises A and B with logged-in port
 * cards, an officer, a second officer (four eyes), an admin, and one resource of each kind owned by A (declaration,
 * inspection task, certificate, archive, CEB ticket with receipts and tax bill, card, rule, entrustment of a third
 * enterprise D as declarant), plus makers of fresh resources for calls that change state, so each matrix row is
 * independent of the others.
 */
import type { TestApp } from '../app.js'
import { createUser } from '../../src/modules/auth/service.js'
import { systemIds, seededRandom } from '../../src/shared/clock.js'
import { ed25519 } from '../../src/shared/signing.js'
import {
  baseTransferFor,
  generateTicket,
  toMessageXml,
  type GeneratedTicket,
  type Parties,
} from '../../src/modules/ecommerce/generator.js'
import type { CebMessageType } from '../../src/modules/ecommerce/types.js'
import { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from '../../src/modules/ecommerce/xml.js'
import { matchQueued } from '../../src/modules/ecommerce/service.js'
import {
  CHICKEN_FEET,
  TSHIRTS,
  activeRule,
  buildEnterprise,
  buildOperator,
  entrust,
  entrustmentTerms,
  inspect,
  noRandomSelection,
  randomCustomsCode,
  randomUscc,
  signedBody,
  submitDeclaration,
  type CebParty,
  type Headers,
  type TestEnterprise,
  type TestOperator,
} from '../factories.js'

export const ROLES = ['anon', 'opA', 'opB', 'officer', 'admin'] as const
export type Role = (typeof ROLES)[number]

export interface User {
  id: string
  username: string
  password: string
  headers: Headers
}

/** General trade, green lane with the rules of the world: cleared (and archived) at intake. */
export { TSHIRTS }
/** The China date of the test clock (T0 = 2026-05-11T01:00Z). */
export const CEB_DATE = '2026-05-11'

let seq = 0
export const uniq = () => `${process.pid % 1000}${(++seq).toString().padStart(5, '0')}`

export interface World {
  t: TestApp
  officer: User
  officer2: User
  admin: User
  A: TestOperator
  B: TestOperator
  /** Seriously dishonest: its declarations wait in SUBMITTED for an officer (accept / reject). */
  H: TestOperator
  /** A declarant enterprise (报关企业) A and B entrust; not a matrix role (its operator accepts and declines). */
  D: TestOperator
  /** CEB parties: platform, payment, logistics and agent; A and B are e-commerce enterprises. */
  ceb: Record<'P' | 'Y' | 'L' | 'G' | 'A' | 'B', CebParty>
  /** The session headers of each role (anonymous: none). */
  headers: Record<Role, Record<string, string>>
  /** Resources owned by A (and a few by B). */
  res: {
    /** A's green general-trade declaration, cleared at intake (so archived). */
    declaration: { id: string; entryId: string; clientRef: string }
    /** A's chicken feet: red lane, inspected compliant, released and cleared, certificate issued. */
    certified: { id: string; entryId: string; inspectionId: string; certificate: { number: string; token: string } }
    /** A second card of A (not the one A is logged in with). */
    cardA2: { id: string; cardNo: string }
    /** An inactive rule and an active one (never firing). */
    rule: { id: string }
    /** A's released CEB ticket (A is the e-commerce enterprise); tax bill and buyer total exist. */
    order: { orderNo: string; buyerIdNumber: string; ticket: GeneratedTicket }
    /** B's own cleared declaration. */
    declarationB: { id: string; entryId: string }
    /** A's entrustment of D, accepted by D (ACTIVE). */
    entrustment: { id: string; clientRef: string }
    /** B's entrustment of D, proposed: A must not see it. */
    entrustmentB: { id: string; clientRef: string }
  }
  /** Identifiers only A (resp. B) may see: an operator's 2xx answer must not contain the other's. */
  markers: { A: Set<string>; B: Set<string> }
  fresh: FreshMakers
}

export interface FreshMakers {
  /** A new card of A, not used for any session. */
  cardOfA(): Promise<{ id: string; cardNo: string }>
  /** A new enterprise registered by the officer. */
  enterprise(): Promise<TestEnterprise>
  /** A's red-lane declaration with its open inspection task. */
  inspecting(): Promise<{ id: string; inspectionId: string }>
  /** A's declaration detained after a non-compliant inspection. */
  detained(): Promise<{ id: string }>
  /** A's processing-trade declaration, released (not yet closed). */
  released(): Promise<{ id: string }>
  /** H's declaration held in SUBMITTED. */
  held(): Promise<{ id: string }>
  /** A certificate of A (new declaration, compliant inspection). */
  certificate(): Promise<{ number: string; token: string; declarationId: string }>
  /** An inactive rule authored by officer2 (never fires). */
  rule(): Promise<{ id: string }>
  /** An active rule (never fires). */
  activeRule(): Promise<{ id: string }>
  /** A login challenge for A's card, signed: the body of POST /auth/card-login. */
  signedChallenge(): Promise<{ challengeId: string; signature: string }>
  /** A fresh CEB ticket of `ebc` (A or B). */
  ticket(ebc: 'A' | 'B'): GeneratedTicket
  /** XML message of one document type of a ticket, from its sender, with the signature header. */
  cebXml(
    type: CebMessageType,
    ticket: GeneratedTicket,
    sender: CebParty,
  ): { xml: string; headers: Record<string, string> }
  /** A's entrustment of D, proposed (signed by A's card), waiting for D. */
  entrustment(): Promise<{ id: string; termsHash: string; clientRef: string }>
  /** D's signed acceptance of an entrustment: the body of POST /entrustments/{id}/accept. */
  acceptance(e: { id: string; termsHash: string }): Record<string, unknown>
}

async function user(t: TestApp, role: 'officer' | 'admin'): Promise<User> {
  const username = `${role}-${uniq()}`
  const password = `pw-${uniq()}-secret`
  const id = await createUser(t.db, t.clock, systemIds, { username, password, role })
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`)
  return { id, username, password, headers: { authorization: `Bearer ${res.json().token}` } }
}

const partyOf = (op: TestOperator): CebParty => ({
  code: op.enterprise.customsCode,
  enterpriseId: op.enterprise.id,
  cardNo: op.cardNo,
  privateKey: op.privateKey,
  headers: op.headers,
})

/** Builds the world (about 3 s on PGlite). Call in `beforeAll` after `useTestApp()`. */
export async function buildWorld(t: TestApp): Promise<World> {
  const officer = await user(t, 'officer')
  const officer2 = await user(t, 'officer')
  const admin = await user(t, 'admin')
  await noRandomSelection(t, admin)
  // Chicken feet (HS 0207) go to the red lane: inspection tasks and, when compliant, certificates.
  await activeRule(t, officer2, officer, `poultry-red-${uniq()}`, [{ field: 'hsCode', op: 'prefix', value: '0207' }], {
    lane: 'RED',
    reason: 'poultry under inspection order',
  })

  const A = await buildOperator(t, officer, await buildEnterprise(t, officer, { name: `Matrix A ${uniq()} Co.` }))
  const B = await buildOperator(t, officer, await buildEnterprise(t, officer, { name: `Matrix B ${uniq()} Co.` }))
  const H = await buildOperator(t, officer, await buildEnterprise(t, officer, { creditLevel: 'SERIOUSLY_DISHONEST' }))
  const D = await buildOperator(
    t,
    officer,
    await buildEnterprise(t, officer, { name: `Matrix D ${uniq()} Customs Brokers` }),
  )
  const cebOp = async () => partyOf(await buildOperator(t, officer, await buildEnterprise(t, officer)))
  const ceb = { P: await cebOp(), Y: await cebOp(), L: await cebOp(), G: await cebOp(), A: partyOf(A), B: partyOf(B) }

  const post = async (headers: Headers, url: string, payload?: unknown) => {
    const res = await t.app.inject({
      method: 'POST',
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    })
    if (res.statusCode >= 300) throw new Error(`world: POST ${url}: ${res.statusCode} ${res.body}`)
    return res.json()
  }
  const inspectionOf = async (declarationId: string): Promise<string> => {
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/inspections?declarationId=${declarationId}`,
      headers: officer.headers,
    })
    const id = (list.json().items as Array<{ id: string }>)[0]?.id
    if (!id) throw new Error(`world: no inspection for ${declarationId}`)
    return id
  }

  let ticketIndex = 0
  const prefix = `W${(process.pid % 46656).toString(36).toUpperCase().padStart(3, '0')}`
  const rng = seededRandom(20260511)
  const partiesOf = (ebc: 'A' | 'B'): Parties => cebPartiesOf(ceb, ebc)

  const fresh: FreshMakers = {
    async cardOfA() {
      const keys = ed25519.generate()
      const c = await post(officer.headers, '/api/v1/cards', {
        enterpriseId: A.enterprise.id,
        operatorName: 'Spare Card',
        publicKey: keys.publicKey,
      })
      return { id: c.id, cardNo: c.cardNo }
    },
    enterprise: () => buildEnterprise(t, officer),
    async inspecting() {
      const d = await submitDeclaration(t, A, { items: [CHICKEN_FEET], tradeCountry: 'RUS' })
      if (d.state !== 'INSPECTING') throw new Error(`world: expected INSPECTING, got ${d.state}`)
      return { id: d.id, inspectionId: await inspectionOf(d.id) }
    },
    async detained() {
      const d = await fresh.inspecting()
      await post(officer.headers, `/api/v1/inspections/${d.inspectionId}/result`, {
        result: 'NON_COMPLIANT',
        findings: [{ category: 'OTHER', note: 'labels missing' }],
        disposal: 'TECHNICAL_TREATMENT',
      })
      return { id: d.id }
    },
    async released() {
      const d = await submitDeclaration(t, A, {
        items: [TSHIRTS],
        tradeMode: '0615',
        manualNo: 'C53012600001',
        iePort: '5345',
      })
      if (d.state !== 'RELEASED') throw new Error(`world: expected RELEASED, got ${d.state}`)
      return { id: d.id }
    },
    async held() {
      const d = await submitDeclaration(t, H, { items: [TSHIRTS] })
      if (d.state !== 'SUBMITTED') throw new Error(`world: expected SUBMITTED, got ${d.state}`)
      return { id: d.id }
    },
    async certificate() {
      const d = await fresh.inspecting()
      await inspect(t, officer, d.id)
      const list = await t.app.inject({
        method: 'GET',
        url: `/api/v1/certificates?declarationId=${d.id}`,
        headers: officer.headers,
      })
      const c = (list.json().items as Array<{ number: string; token: string }>)[0]
      if (!c) throw new Error(`world: no certificate for ${d.id}`)
      return { number: c.number, token: c.token, declarationId: d.id }
    },
    async rule() {
      return post(officer2.headers, '/api/v1/selectivity/rules', {
        name: `never-${uniq()}`,
        conditions: [{ field: 'description', op: 'eq', value: `never matches ${uniq()}` }],
        action: { score: 1 },
      })
    },
    async activeRule() {
      const r = await fresh.rule()
      return post(officer.headers, `/api/v1/selectivity/rules/${r.id}/activate`)
    },
    async signedChallenge() {
      const ch = await post({ authorization: '' }, '/api/v1/auth/challenge', { cardNo: A.cardNo })
      return { challengeId: ch.challengeId, signature: ed25519.sign(A.privateKey, Buffer.from(ch.challenge, 'utf8')) }
    },
    ticket: (ebc) => generateTicket(rng, { index: ++ticketIndex, parties: partiesOf(ebc), prefix, date: CEB_DATE }),
    cebXml: cebMessage,
    async entrustment() {
      const terms = entrustmentTerms(A, D, { clientRef: `MX-${uniq()}` })
      const e = await post(A.headers, '/api/v1/entrustments', signedBody(A, terms))
      return { id: e.id, termsHash: e.termsHash, clientRef: terms.clientRef }
    },
    acceptance: (e) => signedBody(D, { decision: 'ACCEPT', entrustmentId: e.id, termsHash: e.termsHash }),
  }

  // A's resources.
  const green = await submitDeclaration(t, A, { items: [TSHIRTS] })
  if (green.state !== 'CLEARED') throw new Error(`world: expected CLEARED, got ${green.state}`)
  const cert = await fresh.certificate()
  const certDecl = await t.app.inject({
    method: 'GET',
    url: `/api/v1/declarations/${cert.declarationId}`,
    headers: officer.headers,
  })
  const cardA2 = await fresh.cardOfA()
  const rule = await fresh.rule()
  const ticket = fresh.ticket('A')
  for (const [type, sender] of [
    ['CEB311', ceb.A],
    ['CEB411', ceb.Y],
    ['CEB511', ceb.L],
    ['CEB621', ceb.G],
  ] as const) {
    const { xml, headers } = fresh.cebXml(type, ticket, sender)
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ceb/messages',
      headers: { ...sender.headers, ...headers },
      payload: xml,
    })
    if (res.statusCode !== 200) throw new Error(`world: ${type}: ${res.statusCode} ${res.body}`)
  }
  await matchQueued(t.app.kouan)
  const bill = await t.app.inject({
    method: 'GET',
    url: `/api/v1/ceb/orders/${ticket.order.head.orderNo}/tax-bill`,
    headers: officer.headers,
  })
  if (bill.statusCode !== 200) throw new Error(`world: A's ticket was not released: ${bill.body}`)
  const greenB = await submitDeclaration(t, B, { items: [TSHIRTS] })
  // A's archive printed once, so the print log has an entry of A's.
  await t.app.inject({ method: 'POST', url: `/api/v1/archives/${green.entryId}/print`, headers: A.headers })
  const entrustmentRef = `MXA-${uniq()}`
  const entrustment = await entrust(t, A, D, { clientRef: entrustmentRef })
  const entrustmentRefB = `MXB-${uniq()}`
  const entrustmentB = await post(
    B.headers,
    '/api/v1/entrustments',
    signedBody(B, entrustmentTerms(B, D, { clientRef: entrustmentRefB })),
  )

  const res: World['res'] = {
    declaration: { id: green.id, entryId: green.entryId!, clientRef: green.clientRef as string },
    certified: {
      id: cert.declarationId,
      entryId: certDecl.json().entryId,
      inspectionId: await inspectionOf(cert.declarationId),
      certificate: { number: cert.number, token: cert.token },
    },
    cardA2,
    rule,
    order: { orderNo: ticket.order.head.orderNo, buyerIdNumber: ticket.order.head.buyerIdNumber, ticket },
    declarationB: { id: greenB.id, entryId: greenB.entryId! },
    entrustment: { id: entrustment.id, clientRef: entrustmentRef },
    entrustmentB: { id: entrustmentB.id, clientRef: entrustmentRefB },
  }
  const markers = {
    A: new Set([
      A.cardId,
      A.cardNo,
      cardA2.id,
      cardA2.cardNo,
      green.id,
      green.entryId!,
      green.clientRef as string,
      cert.declarationId,
      res.certified.entryId,
      cert.number,
      ticket.order.head.orderNo,
      entrustment.id,
      entrustmentRef,
    ]),
    B: new Set([
      B.cardId,
      B.cardNo,
      greenB.id,
      greenB.entryId!,
      greenB.clientRef as string,
      entrustmentB.id,
      entrustmentRefB,
    ]),
  }
  const headers: World['headers'] = {
    anon: {},
    opA: A.headers,
    opB: B.headers,
    officer: officer.headers,
    admin: admin.headers,
  }
  return { t, officer, officer2, admin, A, B, H, D, ceb, headers, res, markers, fresh }
}

/** The parties of a ticket of e-commerce enterprise A or B (platform P, payment Y, logistics L, agent G). */
export const cebPartiesOf = (ceb: Record<'P' | 'Y' | 'L' | 'G' | 'A' | 'B', CebParty>, ebc: 'A' | 'B'): Parties => ({
  ebp: ceb.P.code,
  ebc: ceb[ebc].code,
  pay: ceb.Y.code,
  logistics: ceb.L.code,
  agent: ceb.G.code,
})

/** The XML message of one document of a ticket from `sender`, and the headers that sign it with the sender's card. */
export function cebMessage(
  type: CebMessageType,
  ticket: GeneratedTicket,
  sender: CebParty,
): { xml: string; headers: Record<string, string> } {
  const doc = { CEB311: ticket.order, CEB411: ticket.payment, CEB511: ticket.waybill, CEB621: ticket.inventory }[type]
  const xml = toMessageXml(type, [doc as never], baseTransferFor(sender.code))
  const parsed = parseCebXml(xml)
  if (!parsed.ok) throw new Error(`world: generated ${type} does not parse: ${JSON.stringify(parsed.problems)}`)
  return {
    xml,
    headers: {
      'content-type': 'application/xml',
      [SIGNATURE_HEADER]: xmlSignatureHeader(sender.cardNo, sender.privateKey, parsed.message),
    },
  }
}

/**
 * Only the e-commerce side of the world, for the CEB fuzz suite: an officer, random control off, and the parties
 * P (platform), Y (payment), L (logistics), G (agent) and A, B (e-commerce enterprises), each with a logged-in card.
 */
export async function buildCebWorld(
  t: TestApp,
): Promise<{ officer: User; ceb: Record<'P' | 'Y' | 'L' | 'G' | 'A' | 'B', CebParty> }> {
  const officer = await user(t, 'officer')
  const admin = await user(t, 'admin')
  await noRandomSelection(t, admin)
  const party = async () => partyOf(await buildOperator(t, officer, await buildEnterprise(t, officer)))
  return {
    officer,
    ceb: { P: await party(), Y: await party(), L: await party(), G: await party(), A: await party(), B: await party() },
  }
}

/** A body for POST /enterprises that registers a new enterprise. */
export const newEnterpriseBody = () => ({
  uscc: randomUscc(),
  customsCode: randomCustomsCode(),
  name: `Matrix New ${uniq()} Co.`,
  registeredDistrict: '5300',
})
