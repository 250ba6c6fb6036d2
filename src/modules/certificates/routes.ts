import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import rateLimit from '@fastify/rate-limit'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { publicUrlOf } from '../../config.js'
import { KouanError } from '../../errors.js'
import { PdfBody, UtcTime, errors, security } from '../../shared/schema.js'
import { auditTrail } from '../../shared/audit.js'
import { actorRef, requireRole } from '../auth/index.js'
import { renderCertificatePdf } from './pdf.js'
import { renderVerifyPage } from './page.js'
import * as repo from './repo.js'
import {
  CertificateSchema,
  IssueCertificateSchema,
  JwksSchema,
  ListCertificatesQuerySchema,
  NumberParams,
  QuarantineRangesSchema,
  ReissueCertificateSchema,
  RevokeCertificateSchema,
  TOKEN_MAX,
  VerificationSchema,
  VerifyRequestSchema,
} from './schema.js'
import {
  ensureIssuingKey,
  getCertificate,
  issueCertificate,
  publicKeys,
  reissueCertificate,
  replaceQuarantineTable,
  revokeCertificate,
  rotateKey,
  verifyToken,
} from './service.js'
import { verifyUrl } from './token.js'

/** Where printed QR codes point: `KOUAN_PUBLIC_URL`, or this server's own address. */
// Verification is public: each client address gets `verifyRateLimit` checks a minute; 429 in the common error shape.
async function limitVerification(app: FastifyInstance) {
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, c) =>
      new KouanError('RATE_LIMITED', 429, `too many verification requests; retry in ${Math.ceil(c.ttl / 1000)} s`),
  })
}
const limited = (ctx: AppContext) => ({ rateLimit: { max: ctx.config.verifyRateLimit, timeWindow: 60_000 } })

/** A binary PDF body, for the OpenAPI document (Fastify sends buffers as they are). */
const AuditEntrySchema = Type.Object({ at: UtcTime, actor: Type.String(), action: Type.String(), data: Type.Any() })

/** `/api/v1/certificates`: issuance, revocation, PDFs, keys, the quarantine table and JSON verification. */
export default async function certificateRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  await limitVerification(fastify)
  await ensureIssuingKey(ctx.db, ctx.clock)
  const base = publicUrlOf(ctx.config)
  const view = (c: repo.StoredCertificate) => {
    const { declarationSubmittedAt: _d, ...rest } = c
    return { ...rest, verifyUrl: verifyUrl(base, c.token) }
  }
  // Rendered PDFs of recent certificates (a certificate's PDF changes only when it is revoked).
  const pdfs = new Map<string, Uint8Array>()

  app.post(
    '/verify',
    {
      config: limited(ctx),
      schema: {
        tags: ['certificates'],
        summary: 'Verify a certificate or archive printout token (public, rate limited, read only)',
        body: VerifyRequestSchema,
        response: { 200: VerificationSchema, ...errors(400, 429) },
      },
    },
    async (req) => verifyToken(ctx, req.body.token),
  )

  app.get(
    '/keys',
    {
      schema: {
        tags: ['certificates'],
        summary: 'Published issuing keys (JWKS with validity windows), for offline verification',
        response: { 200: JwksSchema },
      },
    },
    async () => publicKeys(ctx.db),
  )

  app.post(
    '/keys/rotate',
    {
      schema: {
        tags: ['certificates'],
        summary: 'Rotate the issuing key (admins); the old key keeps verifying what it signed',
        security,
        querystring: Type.Object(
          {
            alg: Type.Optional(
              Type.Enum(['Ed25519', 'SM2'], { description: "the new key's algorithm (default Ed25519)" }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ retired: Type.Union([Type.String(), Type.Null()]), activated: Type.String() }),
          ...errors(401, 403, 409),
        },
      },
    },
    async (req) => {
      const actor = await ctx.officer(req)
      requireRole(actor, 'admin')
      return rotateKey(ctx, actorRef(actor), req.query.alg)
    },
  )

  app.get(
    '/quarantine-ranges',
    {
      schema: {
        tags: ['certificates'],
        summary: 'HS ranges whose goods need entry inspection and quarantine',
        security,
        response: { 200: QuarantineRangesSchema, ...errors(401, 403) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return { items: await repo.loadQuarantineRanges(ctx.db) }
    },
  )

  app.put(
    '/quarantine-ranges',
    {
      schema: {
        tags: ['certificates'],
        summary: 'Replace the quarantine HS table (admins)',
        security,
        body: QuarantineRangesSchema,
        response: { 200: QuarantineRangesSchema, ...errors(400, 401, 403, 422) },
      },
    },
    async (req) => {
      const actor = await ctx.officer(req)
      requireRole(actor, 'admin')
      return replaceQuarantineTable(ctx, actor, req.body.items)
    },
  )

  app.get(
    '/',
    {
      schema: {
        tags: ['certificates'],
        summary: 'Certificates (operators: those of their enterprise as consignee)',
        security,
        querystring: ListCertificatesQuerySchema,
        response: {
          200: Type.Object({ items: Type.Array(CertificateSchema), total: Type.Integer() }),
          ...errors(400, 401),
        },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      const r = await repo.listCertificates(ctx.db, {
        ...req.query,
        ...(actor.kind === 'card' ? { consigneeId: actor.enterpriseId } : {}),
      })
      return { items: r.items.map(view), total: r.total }
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags: ['certificates'],
        summary: 'Officer issues the certificate of a released import (idempotent: 200 with the current one)',
        security,
        body: IssueCertificateSchema,
        response: { 201: CertificateSchema, 200: CertificateSchema, ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const r = await issueCertificate(ctx, await ctx.officer(req), req.body)
      reply.status(r.status)
      return view(r.certificate)
    },
  )

  app.get(
    '/:number',
    {
      schema: {
        tags: ['certificates'],
        security,
        params: NumberParams,
        response: { 200: CertificateSchema, ...errors(400, 401, 404) },
      },
    },
    async (req) => view(await getCertificate(ctx.db, await ctx.auth(req), req.params.number)),
  )

  app.get(
    '/:number/pdf',
    {
      schema: {
        tags: ['certificates'],
        summary: 'The certificate as an A4 PDF with its QR code',
        security,
        params: NumberParams,
        response: { 200: PdfBody, ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const c = await getCertificate(ctx.db, await ctx.auth(req), req.params.number)
      const key = `${c.number}|${c.revokedAt ?? ''}`
      let pdf = pdfs.get(key)
      if (!pdf) {
        pdf = await renderCertificatePdf(c, verifyUrl(base, c.token))
        if (pdfs.size >= 256) pdfs.delete(pdfs.keys().next().value!)
        pdfs.set(key, pdf)
      }
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="${c.number}.pdf"`)
        .send(Buffer.from(pdf))
    },
  )

  app.get(
    '/:number/audit',
    {
      schema: {
        tags: ['certificates'],
        summary: 'Audit trail of a certificate',
        security,
        params: NumberParams,
        response: { 200: Type.Object({ items: Type.Array(AuditEntrySchema) }), ...errors(400, 401, 404) },
      },
    },
    async (req) => {
      const c = await getCertificate(ctx.db, await ctx.auth(req), req.params.number)
      return {
        items: (await auditTrail(ctx.db, 'certificate', c.number)).map((r) => ({
          at: r.at.toISOString(),
          actor: r.actor,
          action: r.action,
          data: r.data,
        })),
      }
    },
  )

  app.post(
    '/:number/revoke',
    {
      schema: {
        tags: ['certificates'],
        summary: 'Revoke a certificate (officers)',
        security,
        params: NumberParams,
        body: RevokeCertificateSchema,
        response: { 200: CertificateSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) =>
      view(await revokeCertificate(ctx, await ctx.officer(req), req.params.number, req.body.reason, req.body.note)),
  )

  app.post(
    '/:number/reissue',
    {
      schema: {
        tags: ['certificates'],
        summary: 'Re-issue a certificate under a new number; the old one is revoked as SUPERSEDED (officers)',
        security,
        params: NumberParams,
        body: ReissueCertificateSchema,
        response: { 201: CertificateSchema, ...errors(400, 401, 403, 404, 409) },
      },
      preValidation: async (req) => {
        req.body ??= {}
      },
    },
    async (req, reply) => {
      const c = await reissueCertificate(ctx, await ctx.officer(req), req.params.number, req.body?.note)
      reply.status(201)
      return view(c)
    },
  )
}

/** Routes at the root, outside `/api/v1`: the public verify page and the key set at its well-known address. */
export async function publicVerifyRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  await limitVerification(fastify)

  // A wildcard rather than `:token`: the router caps named parameters at 100 characters and a token has ~180.
  app.get(
    '/verify/*',
    {
      config: limited(ctx),
      // Any text is accepted here: a forged or truncated token gets a page that says so, never a 400.
      schema: {
        tags: ['certificates'],
        summary: 'Public verify page of a scanned QR code: /verify/{token} (HTML, Chinese and English)',
        params: Type.Object({ '*': Type.String({ maxLength: TOKEN_MAX * 3 }) }),
        response: { 200: Type.String(), ...errors(400, 429) },
      },
    },
    async (req, reply) => {
      const v = await verifyToken(ctx, req.params['*'])
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('x-kouan-verdict', v.verdict)
      return renderVerifyPage(v)
    },
  )

  app.get(
    '/.well-known/jwks.json',
    {
      schema: { tags: ['certificates'], summary: 'Published issuing keys (JWKS)', response: { 200: JwksSchema } },
    },
    async () => publicKeys(ctx.db),
  )
}
