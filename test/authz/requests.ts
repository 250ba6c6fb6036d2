/**
 * How the authorization matrix calls each operation: path parameters name A's resources, bodies are valid (so
 * the answer is the role check's, not the validator's), and calls that change state get a fresh resource per
 * role, so rows do not depend on each other. An operation without an entry is called as `GET path` when its
 * path has no parameters; anything else needs an entry here (the matrix test says which).
 */
import type { Response } from 'light-my-request'
import { ed25519, signPayload } from '../../src/shared/signing.js'
import { systemIds } from '../../src/shared/clock.js'
import { createUser } from '../../src/modules/auth/index.js'
import { declarationContent, entrustmentTerms, signed, signedBody } from '../factories.js'
import { TSHIRTS, newEnterpriseBody, uniq, type Role, type World } from './world.js'

export interface Call {
  /** Path and query string. */
  url: string
  /** JSON body (sent serialised). */
  body?: unknown
  /** A body sent as it is, with its content type. */
  raw?: { payload: string; contentType: string }
  /** Headers added to the role's (which may replace its authorization). */
  headers?: Record<string, string>
  /** The status the matrix compares when it is not the HTTP status (a batch answers 200 with a status per item). */
  statusOf?: (res: Response) => number
  /** An event stream: called over a real connection, closed once the status is known. */
  stream?: boolean
}

export type RequestMaker = (w: World, role: Role) => Call | Promise<Call>

/** A fresh officer account (not the caller), for the account operations that change it. */
const freshUser = (w: World) =>
  createUser(w.t.db, w.t.clock, systemIds, { username: `acct-${uniq()}`, password: `pw-${uniq()}-x`, role: 'officer' })

const officerGet = async (w: World, url: string) => {
  const res = await w.t.app.inject({ method: 'GET', url, headers: w.admin.headers })
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** A's content signed by A; for opB, B's declaration naming A as trader (no entrustment), signed by B. */
function declarationBody(w: World, role: Role) {
  if (role === 'opB')
    return signed(w.B, declarationContent(w.B, { traderCode: w.A.enterprise.customsCode, items: [TSHIRTS] }))
  return signed(w.A, declarationContent(w.A, { items: [TSHIRTS] }))
}

let appointments = 0
/** A's booking body: a night slot three weeks after the world's clock, a new hour and client reference each time. */
function appointmentBody(w: World, overrides: Record<string, unknown> = {}) {
  const k = appointments++
  const china = new Date(w.t.clock.now().getTime() + (8 + 24 * (21 + Math.floor(k / 6))) * 3600_000)
  return {
    clientRef: `AUTHZ-${uniq()}`,
    enterpriseCode: w.A.enterprise.customsCode,
    contactName: 'Zhang Wei',
    contactMobile: '13912345678',
    service: 'CLEARANCE',
    category: 'PERISHABLE',
    site: '5301',
    iePort: '5301',
    ieFlag: 'I',
    goods: [{ name: 'fresh apples', hsCode: '08081000' }],
    transportMode: '4',
    date: china.toISOString().slice(0, 10),
    hour: 18 + (k % 6),
    reason: 'perishables arrive at night',
    ...overrides,
  }
}

/** A fresh booking of A (PERISHABLE: accepted at once; OTHER_URGENT: pending), cancelled when asked. */
async function appointmentOfA(w: World, overrides: Record<string, unknown> = {}, cancel = false): Promise<string> {
  const res = await w.t.app.inject({
    method: 'POST',
    url: '/api/v1/appointments',
    headers: w.A.headers,
    payload: appointmentBody(w, overrides),
  })
  if (res.statusCode !== 201) throw new Error(`appointment: ${res.body}`)
  const id = res.json().id as string
  if (cancel) {
    const c = await w.t.app.inject({
      method: 'POST',
      url: `/api/v1/appointments/${id}/cancel`,
      headers: w.A.headers,
      payload: { reason: 'consignment withdrawn' },
    })
    if (c.statusCode !== 200) throw new Error(`cancel: ${c.body}`)
  }
  return id
}
const pendingOfA = (w: World) => appointmentOfA(w, { category: 'OTHER_URGENT' })

export const REQUESTS: Record<string, RequestMaker> = {
  'POST /api/v1/auth/login': (w) => ({
    url: '/api/v1/auth/login',
    body: { username: w.officer.username, password: w.officer.password },
  }),
  'POST /api/v1/auth/challenge': (w) => ({ url: '/api/v1/auth/challenge', body: { cardNo: w.A.cardNo } }),
  'POST /api/v1/auth/card-login': async (w) => ({
    url: '/api/v1/auth/card-login',
    body: await w.fresh.signedChallenge(),
  }),
  'GET /api/v1/reference/hs': () => ({ url: '/api/v1/reference/hs?q=apples' }),
  'GET /api/v1/reference/hs/{code}': () => ({ url: '/api/v1/reference/hs/0808' }),

  'POST /api/v1/users': () => ({
    url: '/api/v1/users',
    body: { username: `new-${uniq()}`, role: 'officer', password: `pw-${uniq()}-secret` },
  }),
  'POST /api/v1/users/{id}/disable': async (w) => ({ url: `/api/v1/users/${await freshUser(w)}/disable` }),
  'POST /api/v1/users/{id}/enable': async (w) => ({ url: `/api/v1/users/${await freshUser(w)}/enable` }),
  'POST /api/v1/users/{id}/password': async (w) => ({
    url: `/api/v1/users/${await freshUser(w)}/password`,
    body: { password: `pw-${uniq()}-secret` },
  }),
  'POST /api/v1/audit/verify': () => ({ url: '/api/v1/audit/verify', body: {} }),

  'POST /api/v1/enterprises': () => ({ url: '/api/v1/enterprises', body: newEnterpriseBody() }),
  'GET /api/v1/enterprises/{id}': (w) => ({ url: `/api/v1/enterprises/${w.A.enterprise.id}` }),
  // A is reachable: setting it again changes nothing.
  'PATCH /api/v1/enterprises/{id}': (w) => ({
    url: `/api/v1/enterprises/${w.A.enterprise.id}`,
    body: { reachable: true },
  }),
  // A credit change would change how A's later declarations are routed: a fresh enterprise each time.
  'POST /api/v1/enterprises/{id}/credit': async (w) => ({
    url: `/api/v1/enterprises/${(await w.fresh.enterprise()).id}/credit`,
    body: { creditLevel: 'CERTIFIED', reason: 'authorization matrix' },
  }),
  'GET /api/v1/enterprises/{id}/credit-history': (w) => ({
    url: `/api/v1/enterprises/${w.A.enterprise.id}/credit-history`,
  }),
  'PUT /api/v1/aeo-partners': async (w) => ({
    url: '/api/v1/aeo-partners',
    body: { items: (await officerGet(w, '/api/v1/aeo-partners')).items },
  }),

  'POST /api/v1/cards': (w) => ({
    url: '/api/v1/cards',
    body: { enterpriseId: w.A.enterprise.id, operatorName: 'Matrix', publicKey: ed25519.generate().publicKey },
  }),
  'GET /api/v1/cards/stats': () => ({ url: '/api/v1/cards/stats?from=2026-01-01&to=2026-12-31&period=month' }),
  'GET /api/v1/cards/{id}': (w) => ({ url: `/api/v1/cards/${w.res.cardA2.id}` }),
  'POST /api/v1/cards/{id}/replace': async (w) => ({
    url: `/api/v1/cards/${(await w.fresh.cardOfA()).id}/replace`,
    body: { publicKey: ed25519.generate().publicKey, reason: 'worn out' },
  }),
  'POST /api/v1/cards/{id}/revoke': async (w) => ({
    url: `/api/v1/cards/${(await w.fresh.cardOfA()).id}/revoke`,
    body: { reason: 'LOST' },
  }),

  'POST /api/v1/declarations': (w, role) => ({ url: '/api/v1/declarations', body: declarationBody(w, role) }),
  'POST /api/v1/declarations/batch': (w, role) => ({
    url: '/api/v1/declarations/batch',
    body: { declarations: [declarationBody(w, role)] },
    statusOf: (res) => (res.statusCode === 200 ? (res.json().results[0].status as number) : res.statusCode),
  }),
  'GET /api/v1/declarations/{id}': (w) => ({ url: `/api/v1/declarations/${w.res.declaration.id}` }),
  'GET /api/v1/declarations/{id}/audit': (w) => ({ url: `/api/v1/declarations/${w.res.declaration.id}/audit` }),
  'POST /api/v1/declarations/{id}/release': async (w) => ({
    url: `/api/v1/declarations/${(await w.fresh.detained()).id}/release`,
    body: {},
  }),
  'POST /api/v1/declarations/{id}/return': async (w) => ({
    url: `/api/v1/declarations/${(await w.fresh.detained()).id}/return`,
    body: { note: 'back to the shipper' },
  }),
  'POST /api/v1/declarations/{id}/clear': async (w) => ({
    url: `/api/v1/declarations/${(await w.fresh.released()).id}/clear`,
    body: {},
  }),
  'POST /api/v1/declarations/{id}/accept': async (w) => ({
    url: `/api/v1/declarations/${(await w.fresh.held()).id}/accept`,
  }),
  'POST /api/v1/declarations/{id}/reject': async (w) => ({
    url: `/api/v1/declarations/${(await w.fresh.held()).id}/reject`,
    body: { errors: [{ code: 'MATRIX_CHECK', message: 'declared value too low', pointer: '/items/0/unitPrice' }] },
  }),

  'POST /api/v1/selectivity/rules': () => ({
    url: '/api/v1/selectivity/rules',
    body: {
      name: `matrix-${uniq()}`,
      conditions: [{ field: 'description', op: 'eq', value: `never ${uniq()}` }],
      action: { score: 1 },
    },
  }),
  'GET /api/v1/selectivity/rules/{id}': (w) => ({ url: `/api/v1/selectivity/rules/${w.res.rule.id}` }),
  'POST /api/v1/selectivity/rules/{id}/activate': async (w) => ({
    url: `/api/v1/selectivity/rules/${(await w.fresh.rule()).id}/activate`,
  }),
  'POST /api/v1/selectivity/rules/{id}/deactivate': async (w) => ({
    url: `/api/v1/selectivity/rules/${(await w.fresh.activeRule()).id}/deactivate`,
  }),
  // The parameters in force, published again: the routing of later rows does not change.
  'PUT /api/v1/selectivity/params': async (w) => ({
    url: '/api/v1/selectivity/params',
    body: { params: (await officerGet(w, '/api/v1/selectivity/params')).params },
  }),

  'GET /api/v1/inspections/{id}': (w) => ({ url: `/api/v1/inspections/${w.res.certified.inspectionId}` }),
  'POST /api/v1/inspections/{id}/start': async (w) => ({
    url: `/api/v1/inspections/${(await w.fresh.inspecting()).inspectionId}/start`,
  }),
  'POST /api/v1/inspections/{id}/result': async (w) => ({
    url: `/api/v1/inspections/${(await w.fresh.inspecting()).inspectionId}/result`,
    body: { result: 'NON_COMPLIANT', findings: [{ category: 'OTHER', note: 'labels missing' }], disposal: 'RETURN' },
  }),
  'POST /api/v1/risk/models/{version}/promote': () => ({ url: '/api/v1/risk/models/1/promote' }),

  // A new order of A, signed by A; opB sends the same signed message with its own session.
  'POST /api/v1/ceb/messages': (w) => {
    const { xml, headers } = w.fresh.cebXml('CEB311', w.fresh.ticket('A'), w.ceb.A)
    return {
      url: '/api/v1/ceb/messages',
      raw: { payload: xml, contentType: 'application/xml' },
      headers: { 'x-kouan-signature': headers['x-kouan-signature']! },
    }
  },
  'GET /api/v1/ceb/orders/{orderNo}/receipts.xml': (w) => ({
    url: `/api/v1/ceb/orders/${w.res.order.orderNo}/receipts.xml?kind=CEB312`,
  }),
  'GET /api/v1/ceb/orders': () => ({ url: '/api/v1/ceb/orders' }),
  'GET /api/v1/ceb/orders/{orderNo}': (w) => ({ url: `/api/v1/ceb/orders/${w.res.order.orderNo}` }),
  'GET /api/v1/ceb/orders/{orderNo}/receipts': (w) => ({ url: `/api/v1/ceb/orders/${w.res.order.orderNo}/receipts` }),
  'GET /api/v1/ceb/orders/{orderNo}/tax-bill': (w) => ({ url: `/api/v1/ceb/orders/${w.res.order.orderNo}/tax-bill` }),
  'GET /api/v1/ceb/buyers/{buyerIdNumber}/total': (w) => ({
    url: `/api/v1/ceb/buyers/${w.res.order.buyerIdNumber}/total?year=2026`,
  }),
  // A's own registry entry; for B the same URL is another enterprise's entry.
  'GET /api/v1/ceb/parties/{customsCode}': (w) => ({ url: `/api/v1/ceb/parties/${w.A.enterprise.customsCode}` }),
  // Roles change what an enterprise may send: a fresh enterprise each time, so A's CEB rows do not depend on it.
  'PUT /api/v1/ceb/parties/{customsCode}': async (w) => ({
    url: `/api/v1/ceb/parties/${(await w.fresh.enterprise()).customsCode}`,
    body: { roles: ['ebc', 'pay'] },
  }),
  // A public address literal: no DNS, and an address any webhook policy accepts.
  'PUT /api/v1/ceb/webhook': () => ({
    url: '/api/v1/ceb/webhook',
    body: { url: 'https://93.184.215.14/kouan/receipts' },
  }),

  'GET /api/v1/console/stream': () => ({ url: '/api/v1/console/stream', stream: true }),
  'POST /api/v1/console/rules/preview': () => ({
    url: '/api/v1/console/rules/preview',
    body: { conditions: [{ field: 'hsCode', op: 'prefix', value: '0207' }], days: 30 },
  }),

  'POST /api/v1/certificates/verify': (w) => ({
    url: '/api/v1/certificates/verify',
    body: { token: w.res.certified.certificate.token },
  }),
  'PUT /api/v1/certificates/quarantine-ranges': async (w) => ({
    url: '/api/v1/certificates/quarantine-ranges',
    body: { items: (await officerGet(w, '/api/v1/certificates/quarantine-ranges')).items },
  }),
  'POST /api/v1/certificates': (w) => ({ url: '/api/v1/certificates', body: { declarationId: w.res.certified.id } }),
  'GET /api/v1/certificates/{number}': (w) => ({ url: `/api/v1/certificates/${w.res.certified.certificate.number}` }),
  'GET /api/v1/certificates/{number}/pdf': (w) => ({
    url: `/api/v1/certificates/${w.res.certified.certificate.number}/pdf`,
  }),
  'GET /api/v1/certificates/{number}/audit': (w) => ({
    url: `/api/v1/certificates/${w.res.certified.certificate.number}/audit`,
  }),
  'POST /api/v1/certificates/{number}/revoke': async (w) => ({
    url: `/api/v1/certificates/${(await w.fresh.certificate()).number}/revoke`,
    body: { reason: 'WITHDRAWN' },
  }),
  'POST /api/v1/certificates/{number}/reissue': async (w) => ({
    url: `/api/v1/certificates/${(await w.fresh.certificate()).number}/reissue`,
    body: { note: 'corrected consignee address' },
  }),

  'PUT /api/v1/archives/retention-rules': async (w) => ({
    url: '/api/v1/archives/retention-rules',
    body: { items: (await officerGet(w, '/api/v1/archives/retention-rules')).items },
  }),
  'POST /api/v1/archives/purge': () => ({ url: '/api/v1/archives/purge', body: { dryRun: true } }),
  'GET /api/v1/archives/{entryId}': (w) => ({ url: `/api/v1/archives/${w.res.declaration.entryId}` }),
  'POST /api/v1/archives/{entryId}/print': (w) => ({ url: `/api/v1/archives/${w.res.declaration.entryId}/print` }),

  // A entrusts D, signed by A (a new client reference per call); opB signs the same terms in A's name with its own card.
  'POST /api/v1/entrustments': (w, role) => ({
    url: '/api/v1/entrustments',
    body: role === 'opB' ? signedBody(w.B, entrustmentTerms(w.A, w.D)) : signedBody(w.A, entrustmentTerms(w.A, w.D)),
  }),
  'GET /api/v1/entrustments/{id}': (w) => ({ url: `/api/v1/entrustments/${w.res.entrustment.id}` }),
  // A fresh proposal of A to D each time, with D's signed acceptance: only D's operators may accept or decline it.
  'POST /api/v1/entrustments/{id}/accept': async (w) => {
    const e = await w.fresh.entrustment()
    return { url: `/api/v1/entrustments/${e.id}/accept`, body: w.fresh.acceptance(e) }
  },
  'POST /api/v1/entrustments/{id}/decline': async (w) => ({
    url: `/api/v1/entrustments/${(await w.fresh.entrustment()).id}/decline`,
    body: { reason: 'no capacity this quarter' },
  }),
  'POST /api/v1/entrustments/{id}/revoke': async (w) => ({
    url: `/api/v1/entrustments/${(await w.fresh.entrustment()).id}/revoke`,
    body: { reason: 'contract ended' },
  }),

  // Bookings: A's operators book for A; opB sends the same body naming A. Each changing call gets a fresh booking.
  'POST /api/v1/appointments': (w) => ({ url: '/api/v1/appointments', body: appointmentBody(w) }),
  'GET /api/v1/appointments/stats': () => ({ url: '/api/v1/appointments/stats?from=2026-05-01&to=2026-05-31' }),
  'GET /api/v1/appointments/stream': () => ({ url: '/api/v1/appointments/stream', stream: true }),
  'GET /api/v1/appointments/{id}': async (w) => ({ url: `/api/v1/appointments/${await appointmentOfA(w)}` }),
  'POST /api/v1/appointments/{id}/reschedule': async (w) => {
    const id = await appointmentOfA(w)
    const { date, hour } = appointmentBody(w)
    return { url: `/api/v1/appointments/${id}/reschedule`, body: { date, hour, reason: 'ship delayed' } }
  },
  'POST /api/v1/appointments/{id}/cancel': async (w) => ({
    url: `/api/v1/appointments/${await appointmentOfA(w)}/cancel`,
    body: { reason: 'consignment withdrawn' },
  }),
  'POST /api/v1/appointments/{id}/explanation': async (w) => ({
    url: `/api/v1/appointments/${await appointmentOfA(w, {}, true)}/explanation`,
    body: { text: 'The buyer withdrew the order.' },
  }),
  'POST /api/v1/appointments/{id}/accept': async (w) => ({
    url: `/api/v1/appointments/${await pendingOfA(w)}/accept`,
    body: {},
  }),
  'POST /api/v1/appointments/{id}/reject': async (w) => ({
    url: `/api/v1/appointments/${await pendingOfA(w)}/reject`,
    body: { reason: 'not urgent' },
  }),
  'POST /api/v1/appointments/{id}/hold': async (w) => ({
    url: `/api/v1/appointments/${await pendingOfA(w)}/hold`,
    body: { reason: 'permit under check' },
  }),
  'POST /api/v1/appointments/{id}/remove': async (w) => ({
    url: `/api/v1/appointments/${await pendingOfA(w)}/remove`,
    body: { reason: 'permit refused' },
  }),
  'GET /api/v1/appointment-slots': () => ({ url: '/api/v1/appointment-slots?site=5301&date=2026-06-01' }),
  'PUT /api/v1/appointment-slots': () => ({
    url: '/api/v1/appointment-slots',
    body: { site: '5302', date: '2026-06-01', hours: [22], officers: [{ name: 'Duty officer' }] },
  }),
  'PUT /api/v1/appointment-sites/{code}': () => ({
    url: '/api/v1/appointment-sites/5316',
    body: {
      officeOpen: 9,
      officeClose: 17,
      slotCapacity: 4,
      dutyPhone: '12360',
      categories: { EMERGENCY_RELIEF: 'AUTO', DANGEROUS_GOODS: 'REVIEW', PERISHABLE: 'AUTO', OTHER_URGENT: 'REVIEW' },
    },
  }),

  'GET /verify/{*}': (w) => ({ url: `/verify/${w.res.certified.certificate.token}` }),

  // Hidden routes.
  'GET /{*}': () => ({ url: '/portal/declarations' }),
}

/**
 * The request for an operation and role: its entry in {@link REQUESTS}, else the bare path for an operation without
 * path parameters or a JSON body; undefined when the operation needs an entry.
 */
export async function requestFor(
  op: { key: string; path: string; jsonBody?: unknown },
  w: World,
  role: Role,
): Promise<Call | undefined> {
  const make = REQUESTS[op.key]
  if (make) return make(w, role)
  return needsEntry(op) ? undefined : { url: op.path }
}

export const needsEntry = (op: { key: string; path: string; jsonBody?: unknown }) =>
  !REQUESTS[op.key] && (op.path.includes('{') || op.jsonBody !== undefined)

/** Signs `content` with A's card (used by the fuzz suite to get mutated declarations past the signature check). */
export const signAsA = (w: World, content: Record<string, unknown>) => ({
  ...content,
  signature: { cardNo: w.A.cardNo, alg: 'Ed25519', value: signPayload(w.A.privateKey, content) },
})
