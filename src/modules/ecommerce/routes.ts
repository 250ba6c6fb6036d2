import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import type { AppContext } from '../../context.js'
import { KouanError, forbidden } from '../../errors.js'
import { CustomsCode, UtcTime, errors, security } from '../../shared/schema.js'
import { actorRef } from '../auth/index.js'
import { REASON_CODES } from './rules.js'
import { SIGNATURE_HEADER, ceb900Xml, cebReceiptXml, parseCebJson } from './xml.js'
import { cebParser, type CebParser } from './parse-pool.js'
import type { PreparedXml } from './parse-worker.js'
import {
  buyerTotal,
  cebTime,
  partyRoles,
  receiptMessages,
  receiptsOf,
  receiveMessage,
  setPartyRoles,
  taxBillOf,
} from './service.js'
import { listTickets, ticketOf } from './tickets.js'
import { setWebhook } from './webhooks.js'
import type { CebMessageType } from './types.js'

const ReasonSchema = Type.Object({ code: Type.String(), message: Type.String(), pointer: Type.String() })
const ReceiptSchema = Type.Object({
  type: Type.String(),
  docKey: Type.String(),
  orderNo: Type.String(),
  returnStatus: Type.Integer({
    description:
      '2 received, 100 returned, 120 logic checks passed, 300 manual review, 399 assessed, 500 inspection, 800 released',
  }),
  returnInfo: Type.String(),
  reasons: Type.Array(ReasonSchema),
})
const SignatureSchema = Type.Object(
  {
    cardNo: Type.String({ minLength: 1, maxLength: 32 }),
    alg: Type.Enum(['Ed25519', 'SM2']),
    value: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
)
const JsonMessageSchema = Type.Object(
  {
    type: Type.Enum(['CEB311', 'CEB411', 'CEB511', 'CEB621']),
    message: Type.Object(
      {},
      { additionalProperties: true, description: '{ guid, version?, documents: [{ head, lines? }], baseTransfer }' },
    ),
    signature: SignatureSchema,
  },
  { additionalProperties: false },
)

const ceb900 = (status: number, problems: Array<{ code: string; message: string; pointer: string }>) =>
  new KouanError(problems[0]?.code ?? 'FORMAT', status, problems[0]?.message ?? 'invalid message', {
    errors: problems,
    details: { returnStatus: -1, ceb: 'CEB900' },
  })

export default async function cebRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.addContentTypeParser(
    ['application/xml', 'text/xml'],
    { parseAs: 'buffer', bodyLimit: ctx.config.bodyLimit },
    (_req, body, done) => done(null, body),
  )

  // XML parsing runs on worker threads, started with the first XML message.
  let parser: CebParser | undefined
  fastify.addHook('onClose', async () => {
    await parser?.close()
  })

  const operator = (req: FastifyRequest) => {
    const s = ctx.session(req)
    if (s.kind !== 'card') throw forbidden('requires an enterprise operator (port card) session')
    return s.subject
  }

  // A sender speaking XML gets its format errors in XML too: a CEB900 message carrying the first problem
  // (code and pointer in returnInfo); JSON senders get the common error body.
  app.addHook('onSend', async (req, reply, payload) => {
    if (!Buffer.isBuffer(req.body) || reply.statusCode < 400 || typeof payload !== 'string') return payload
    const err = JSON.parse(payload) as { code: string; message: string; pointer: string }
    reply.type('application/xml')
    const root = /<(?:\w+:)?(CEB\d{3})Message\b[^>]*\bguid="([^"]*)"/.exec(req.body.subarray(0, 4096).toString('utf8'))
    return ceb900Xml({
      guid: ctx.ids.uuid().toUpperCase(),
      returnStatus: '-1',
      returnInfo: `${err.code} ${err.pointer}: ${err.message}`.slice(0, 1000),
      returnTime: cebTime(ctx.clock.now()),
      ...(root ? { oriMessageType: root[1]!, oriCopMsgId: root[2]! } : {}),
    })
  })

  app.post(
    '/messages',
    {
      schema: {
        tags: ['ecommerce'],
        security,
        summary:
          'Receive a CEB311/411/511/621 message: XML (signature in the x-kouan-signature header) or JSON {type, message, signature}',
        description: `Reason codes in receipts: ${Object.entries(REASON_CODES)
          .map(([k, v]) => `${k} — ${v}`)
          .join('; ')}`,
        response: {
          200: Type.Object({ receipts: Type.Array(ReceiptSchema) }),
          ...errors(400, 401, 403, 413, 415, 422),
        },
      },
    },
    async (req) => {
      const sessionCardId = operator(req)
      let parsed: PreparedXml
      let signature: { cardNo: string; alg: string; value: string }
      if (Buffer.isBuffer(req.body)) {
        const header = req.headers[SIGNATURE_HEADER]
        const [cardNo, alg, value] = typeof header === 'string' ? header.split(';') : []
        if (!cardNo || !alg || !value)
          throw ceb900(401, [
            {
              code: 'SIGNATURE',
              message: `an XML message is signed in the ${SIGNATURE_HEADER} header: cardNo;alg;signature (alg Ed25519 or SM2)`,
              pointer: `/headers/${SIGNATURE_HEADER}`,
            },
          ])
        signature = { cardNo, alg, value }
        parser ??= cebParser(ctx.config.cebParseThreads)
        parsed = await parser.parse(req.body)
      } else {
        // The envelope is checked here (XML bodies share the route, so it has no body schema); a JSON body without
        // a well-formed signature used to reach receiveMessage and fail there with a 500.
        const envelope = [...Value.Errors(JsonMessageSchema, req.body)]
        if (envelope.length) {
          throw ceb900(
            400,
            envelope.slice(0, 20).map((e) => ({
              code: 'FORMAT',
              message: `JSON body {type, message, signature}: ${e.message}`,
              pointer: `/body${e.instancePath}`,
            })),
          )
        }
        const body = req.body as { type: CebMessageType; message: unknown; signature: typeof signature }
        signature = body.signature
        parsed = parseCebJson(body.type, body.message)
      }
      if (!parsed.ok) throw ceb900(400, parsed.problems)
      // With matching on, a ticket completed by this message is matched in the intake transaction; otherwise it
      // waits in the queue for a process that matches (the sweep in app.ts).
      const r = await receiveMessage(
        ctx,
        sessionCardId,
        parsed.message,
        signature,
        ctx.config.cebMatching ? 'inline' : 'queue',
        parsed.canonical && { canonical: parsed.canonical, hashes: parsed.hashes, signed: parsed.signed },
      )
      if ('refused' in r) throw ceb900(r.status, r.refused)
      return r
    },
  )

  /** The customs code of an operator's enterprise (what the party rules compare), undefined for officers. */
  const viewerOf = async (req: FastifyRequest) => {
    const actor = await ctx.auth(req)
    if (actor.kind !== 'card') return undefined
    const [ent] = await ctx.db.query<{ customs_code: string }>('select customs_code from enterprises where id = $1', [
      actor.enterpriseId,
    ])
    return ent!.customs_code
  }
  const DocType = Type.Enum(['CEB311', 'CEB411', 'CEB511', 'CEB621'])
  const TicketSummarySchema = Type.Object({
    orderNo: Type.String(),
    returnStatus: Type.Integer({ description: 'the last verdict (2 while documents are missing), as in receipts' }),
    reasons: Type.Array(ReasonSchema),
    complete: Type.Boolean({ description: 'all four documents joined' }),
    present: Type.Array(DocType, { description: 'document types joined on the ticket' }),
    lane: Type.Union([Type.String(), Type.Null()]),
    createdAt: UtcTime,
    updatedAt: UtcTime,
    verdictAt: Type.Union([UtcTime, Type.Null()]),
    releasedAt: Type.Union([UtcTime, Type.Null()]),
  })
  const Strings = Type.Record(Type.String(), Type.String())
  const TicketSchema = Type.Intersect([
    TicketSummarySchema,
    Type.Object({
      taxTotal: Type.Union([Type.String(), Type.Null()]),
      dutiableValue: Type.Union([Type.String(), Type.Null()]),
      documents: Type.Array(
        Type.Object({
          type: DocType,
          docKey: Type.String(),
          version: Type.Integer(),
          deleted: Type.Boolean(),
          standing: Type.Enum(['joined', 'held', 'refused']),
          sender: Type.Union([Type.String(), Type.Null()]),
          receivedAt: UtcTime,
          updatedAt: UtcTime,
          fields: Type.Union([Strings, Type.Null()], {
            description: "the head's key fields (CEB element names); null where the viewer is no party of the document",
          }),
          lines: Type.Union([Type.Array(Strings), Type.Null()]),
        }),
      ),
    }),
  ])
  const OrderParams = Type.Object(
    { orderNo: Type.String({ minLength: 1, maxLength: 60 }) },
    { additionalProperties: false },
  )

  app.get(
    '/orders',
    {
      schema: {
        tags: ['ecommerce'],
        summary: 'Tickets (one per order), newest first (operators: those their enterprise is a party of)',
        security,
        querystring: Type.Object(
          {
            returnStatus: Type.Optional(Type.Integer({ minimum: -1, maximum: 999 })),
            complete: Type.Optional(Type.Boolean()),
            since: Type.Optional(UtcTime),
            until: Type.Optional(UtcTime),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
            offset: Type.Integer({ minimum: 0, default: 0 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(TicketSummarySchema), total: Type.Integer() }),
          ...errors(400, 401),
        },
      },
    },
    async (req) => listTickets(ctx.db, req.query, await viewerOf(req)),
  )

  app.get(
    '/orders/:orderNo',
    {
      schema: {
        tags: ['ecommerce'],
        summary:
          "A ticket: its verdict and its documents' key fields (operators: tickets their enterprise is a party of)",
        security,
        params: OrderParams,
        response: { 200: TicketSchema, ...errors(400, 401, 404) },
      },
    },
    async (req) => {
      const found = await ticketOf(ctx.db, req.params.orderNo, await viewerOf(req))
      if (!found)
        throw new KouanError('CEB_TICKET_NOT_FOUND', 404, `no ticket for order ${req.params.orderNo}`, {
          pointer: '/params/orderNo',
        })
      return found
    },
  )

  app.get(
    '/orders/:orderNo/receipts.xml',
    {
      schema: {
        tags: ['ecommerce'],
        summary: 'Receipts of an order as CEB312/412/512/622 XML messages of one type',
        security,
        params: Type.Object({ orderNo: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false }),
        querystring: Type.Object(
          { kind: Type.Enum(['CEB312', 'CEB412', 'CEB512', 'CEB622']) },
          { additionalProperties: false },
        ),
        response: { 200: Type.String(), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      await ctx.officer(req)
      const found = (await receiptMessages(ctx.db, req.params.orderNo)).find((m) => m.kind === req.query.kind)
      if (!found)
        throw new KouanError(
          'CEB_RECEIPTS_NOT_FOUND',
          404,
          `no ${req.query.kind} receipts for order ${req.params.orderNo}`,
          { pointer: '/query/kind' },
        )
      reply.type('application/xml')
      return cebReceiptXml(found.kind, found.receipts, { guid: ctx.ids.uuid().toUpperCase() })
    },
  )

  app.get(
    '/orders/:orderNo/receipts',
    {
      schema: {
        tags: ['ecommerce'],
        summary: 'Receipts of an order, oldest first',
        security,
        params: Type.Object({ orderNo: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Intersect([ReceiptSchema, Type.Object({ id: Type.Integer(), createdAt: Type.String() })]),
            ),
          }),
          ...errors(401, 403),
        },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      if (actor.kind !== 'card') return { items: await receiptsOf(ctx.db, req.params.orderNo) }
      // Operators see the receipts of the documents their enterprise is a party of; the platform and the declaring
      // agent of the ticket see all of the ticket's (receiptsOf). An order they have no part in reads as empty.
      const [ent] = await ctx.db.query<{ customs_code: string }>('select customs_code from enterprises where id = $1', [
        actor.enterpriseId,
      ])
      return { items: await receiptsOf(ctx.db, req.params.orderNo, ent!.customs_code) }
    },
  )

  app.get(
    '/orders/:orderNo/tax-bill',
    {
      schema: {
        tags: ['ecommerce'],
        summary: 'Electronic tax bill (CEB816) of a released inventory',
        security,
        params: Type.Object({ orderNo: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false }),
        response: { 200: Type.Record(Type.String(), Type.Any()), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      const bill = await taxBillOf(ctx.db, req.params.orderNo)
      if (!bill)
        throw new KouanError(
          'CEB_TAX_BILL_NOT_FOUND',
          404,
          `no tax bill for order ${req.params.orderNo} (not released yet?)`,
          { pointer: '/params/orderNo' },
        )
      return bill
    },
  )

  app.get(
    '/buyers/:buyerIdNumber/total',
    {
      schema: {
        tags: ['ecommerce'],
        summary: "A buyer's released dutiable value in a calendar year (limit 26,000 CNY)",
        security,
        params: Type.Object(
          { buyerIdNumber: Type.String({ pattern: '^[0-9]{17}[0-9X]$' }) },
          { additionalProperties: false },
        ),
        querystring: Type.Object(
          { year: Type.Integer({ minimum: 2019, maximum: 2100 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ buyerIdNumber: Type.String(), year: Type.Integer(), total: Type.String() }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return {
        buyerIdNumber: req.params.buyerIdNumber,
        year: req.query.year,
        total: await buyerTotal(ctx.db, req.params.buyerIdNumber, req.query.year),
      }
    },
  )

  const PartyParams = Type.Object({ customsCode: CustomsCode }, { additionalProperties: false })
  const PartyRolesSchema = Type.Object({
    customsCode: Type.String(),
    roles: Type.Union([Type.Array(Type.String()), Type.Null()], {
      description: 'null: not recorded, registration alone counts',
    }),
    updatedAt: Type.Union([Type.String(), Type.Null()]),
    updatedBy: Type.Union([Type.String(), Type.Null()]),
  })
  const partyNotFound = (code: string) =>
    new KouanError('CEB_PARTY_NOT_FOUND', 404, `no enterprise ${code}`, { pointer: '/params/customsCode' })

  app.get(
    '/parties/:customsCode',
    {
      schema: {
        tags: ['ecommerce'],
        summary: "An enterprise's CEB roles (operators: their own enterprise only)",
        security,
        params: PartyParams,
        response: { 200: PartyRolesSchema, ...errors(400, 401, 404) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      const found = await partyRoles(ctx.db, req.params.customsCode)
      // Another enterprise's registration reads as unknown to an operator (no oracle).
      if (!found || (actor.kind === 'card' && actor.enterpriseId !== found.enterpriseId))
        throw partyNotFound(req.params.customsCode)
      return found
    },
  )

  app.put(
    '/parties/:customsCode',
    {
      schema: {
        tags: ['ecommerce'],
        summary:
          "Record an enterprise's CEB roles (officers, admins): a sender must send in one of them, matching checks each named party's role",
        description:
          'Without a record, registration alone counts. An empty list: the enterprise may send no CEB document.',
        security,
        params: PartyParams,
        body: Type.Object(
          {
            roles: Type.Array(Type.Enum(['ebp', 'ebc', 'pay', 'logistics', 'agent', 'assure']), {
              maxItems: 6,
              uniqueItems: true,
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: PartyRolesSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const actor = await ctx.officer(req)
      const saved = await setPartyRoles(ctx, req.params.customsCode, req.body.roles, actorRef(actor))
      if (!saved) throw partyNotFound(req.params.customsCode)
      return saved
    },
  )

  app.put(
    '/webhook',
    {
      schema: {
        tags: ['ecommerce'],
        summary:
          "Register the enterprise's receipt webhook; receipts are POSTed with x-kouan-signature: t=…,v1=HMAC-SHA256(secret, t.body)",
        security,
        description:
          'https only (http where KOUAN_WEBHOOK_ALLOW_HTTP is set); the host must resolve to public addresses only, unless on KOUAN_WEBHOOK_ALLOW (422 WEBHOOK_URL_NOT_ALLOWED). Checked again, and the connection pinned to the checked address, at every delivery; redirects are not followed.',
        body: Type.Object(
          { url: Type.String({ pattern: '^https?://', maxLength: 500 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ url: Type.String(), secret: Type.String() }), ...errors(400, 401, 403, 422) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      if (actor.kind !== 'card') throw forbidden('requires an enterprise operator (port card) session')
      return setWebhook(ctx, actor.enterpriseId, req.body.url, actorRef(actor))
    },
  )

  app.get(
    '/stats',
    {
      schema: {
        tags: ['ecommerce'],
        summary: 'Operations view: tickets per status, top rejection reasons, oldest unmatched orders',
        security,
        response: {
          200: Type.Object({
            byStatus: Type.Array(Type.Object({ returnStatus: Type.Integer(), tickets: Type.Integer() })),
            topReasons: Type.Array(Type.Object({ code: Type.String(), tickets: Type.Integer() })),
            ticketsLastMinute: Type.Integer(),
            oldestIncomplete: Type.Array(Type.Object({ orderNo: Type.String(), since: Type.String() })),
          }),
          ...errors(401, 403),
        },
      },
    },
    async (req) => {
      await ctx.officer(req)
      const now = ctx.clock.now()
      const byStatus = await ctx.db.query<{ s: number; n: number }>(
        'select return_status as s, count(*)::int as n from ceb_tickets group by 1 order by 1',
      )
      const reasons = await ctx.db.query<{ code: string; n: number }>(
        `select r ->> 'code' as code, count(distinct order_no)::int as n from ceb_tickets, jsonb_array_elements(reasons) r
       where return_status = 100 group by 1 order by 2 desc, 1 limit 10`,
      )
      const [minute] = await ctx.db.query<{ n: number }>(
        `select count(*)::int as n from ceb_tickets where verdict_at >= $1`,
        [new Date(now.getTime() - 60_000).toISOString()],
      )
      const oldest = await ctx.db.query<{ order_no: string; created_at: Date }>(
        'select order_no, created_at from ceb_tickets where not complete order by created_at limit 10',
      )
      return {
        byStatus: byStatus.map((r) => ({ returnStatus: r.s, tickets: r.n })),
        topReasons: reasons.map((r) => ({ code: r.code, tickets: r.n })),
        ticketsLastMinute: minute!.n,
        oldestIncomplete: oldest.map((r) => ({ orderNo: r.order_no, since: new Date(r.created_at).toISOString() })),
      }
    },
  )
}
