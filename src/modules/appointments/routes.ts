import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { IdParams, errors, security } from '../../shared/schema.js'
import { requireRole } from '../auth/index.js'
import { AppointmentFeed } from './feed.js'
import {
  AcceptBodySchema,
  AppointmentDetailSchema,
  AppointmentSchema,
  CreateAppointmentSchema,
  ExplanationBodySchema,
  ListAppointmentsQuerySchema,
  PutSiteSchema,
  PutSlotsSchema,
  ReasonBodySchema,
  RescheduleSchema,
  SiteParams,
  SiteSchema,
  SlotDaySchema,
  SlotQuerySchema,
  StatsQuerySchema,
  StatsSchema,
} from './schema.js'
import {
  appointmentStats,
  cancelAppointment,
  createAppointment,
  explainCancellation,
  getAppointment,
  listAppointments,
  listSites,
  officerAction,
  putSite,
  putSlots,
  rescheduleAppointment,
  slotDay,
  type OfficerAction,
} from './service.js'

/** How often the live stream looks for changes. */
export const STREAM_POLL_MS = 1000

const tags = ['appointments']

/** Appointment clearance (预约通关): bookings under /appointments; sites and slots beside them. */
export default async function appointmentRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const feed = new AppointmentFeed(ctx.db, STREAM_POLL_MS, (err) =>
    fastify.log.error({ err }, 'appointment feed failed'),
  )
  fastify.addHook('preClose', async () => feed.close())

  app.post(
    '/appointments',
    {
      schema: {
        tags,
        summary: 'Book customs service outside office hours (operators, for their own enterprise)',
        security,
        body: CreateAppointmentSchema,
        response: { 201: AppointmentSchema, 200: AppointmentSchema, ...errors(400, 401, 403, 409, 422) },
      },
    },
    async (req, reply) => {
      const r = await createAppointment(ctx, await ctx.auth(req), req.body)
      reply.status(r.status)
      return r.appointment
    },
  )

  app.get(
    '/appointments',
    {
      schema: {
        tags,
        summary: "List bookings (operators: their enterprise's; officers and admins: all), in slot order",
        security,
        querystring: ListAppointmentsQuerySchema,
        response: {
          200: Type.Object({ items: Type.Array(AppointmentSchema), total: Type.Integer() }),
          ...errors(400, 401),
        },
      },
    },
    async (req) => listAppointments(ctx, await ctx.auth(req), req.query),
  )

  app.get(
    '/appointments/stats',
    {
      schema: {
        tags,
        summary:
          'Bookings per hour and status, releases outside office hours, mean lodging-to-release time booked vs unbooked (officers)',
        security,
        querystring: StatsQuerySchema,
        response: { 200: StatsSchema, ...errors(400, 401, 403, 422) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return appointmentStats(ctx, req.query)
    },
  )

  app.get(
    '/appointments/stream',
    {
      schema: {
        tags,
        summary: `Server-sent events: an "appointment" event per change (operators: their enterprise's; officers: all), looked for every ${STREAM_POLL_MS / 1000} s`,
        security,
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'text/event-stream' }), ...errors(401) },
      },
    },
    async (req, reply) => {
      const actor = await ctx.auth(req)
      await feed.start()
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      res.write(`retry: ${STREAM_POLL_MS * 3}\n\n`)
      const unsubscribe = feed.subscribe({
        enterpriseId: actor.kind === 'card' ? actor.enterpriseId : null,
        send: (e) => {
          res.write(`event: appointment\ndata: ${JSON.stringify(e)}\n\n`)
        },
      })
      req.raw.on('close', unsubscribe)
    },
  )

  app.get(
    '/appointments/:id',
    {
      schema: {
        tags,
        summary: 'A booking with its receipt and timeline',
        security,
        params: IdParams,
        response: { 200: AppointmentDetailSchema, ...errors(400, 401, 404) },
      },
    },
    async (req) => getAppointment(ctx, await ctx.auth(req), req.params.id),
  )

  app.post(
    '/appointments/:id/reschedule',
    {
      schema: {
        tags,
        summary: 'Move a booking to another slot, with a reason (its enterprise); the old place is freed',
        security,
        params: IdParams,
        body: RescheduleSchema,
        response: { 200: AppointmentSchema, ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    async (req) => rescheduleAppointment(ctx, await ctx.auth(req), req.params.id, req.body),
  )

  app.post(
    '/appointments/:id/cancel',
    {
      schema: {
        tags,
        summary:
          'Cancel a booking with a reason (its enterprise); after acceptance a written explanation is due in 5 days',
        security,
        params: IdParams,
        body: ReasonBodySchema,
        response: { 200: AppointmentSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => cancelAppointment(ctx, await ctx.auth(req), req.params.id, req.body.reason),
  )

  app.post(
    '/appointments/:id/explanation',
    {
      schema: {
        tags,
        summary: 'The written explanation of a cancellation after acceptance (its enterprise)',
        security,
        params: IdParams,
        body: ExplanationBodySchema,
        response: { 200: AppointmentSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => explainCancellation(ctx, await ctx.auth(req), req.params.id, req.body.text),
  )

  app.post(
    '/appointments/:id/accept',
    {
      schema: {
        tags,
        summary: 'Accept a pending or held booking: the enterprise gets its receipt (officers)',
        security,
        params: IdParams,
        body: AcceptBodySchema,
        response: { 200: AppointmentSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const officer = await ctx.officer(req)
      return officerAction(ctx, officer, req.params.id, 'accept', req.body.note?.trim() || null)
    },
  )

  const withReason = (what: Exclude<OfficerAction, 'accept'>, summary: string) =>
    app.post(
      `/appointments/:id/${what}`,
      {
        schema: {
          tags,
          summary,
          security,
          params: IdParams,
          body: ReasonBodySchema,
          response: { 200: AppointmentSchema, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        const officer = await ctx.officer(req)
        return officerAction(ctx, officer, req.params.id, what, req.body.reason)
      },
    )
  withReason('reject', 'Reject a pending or held booking, with a reason (officers); its place is freed')
  withReason('hold', 'Hold a booking, with a recorded reason (officers); it keeps its place')
  withReason('remove', 'Remove a booking, with a recorded reason (officers); its place is freed')

  app.get(
    '/appointment-slots',
    {
      schema: {
        tags,
        summary:
          "A site's 24 slots of a China date: calendar, office hours, capacity, places taken, roster (officers: bookings)",
        security,
        querystring: SlotQuerySchema,
        response: { 200: SlotDaySchema, ...errors(400, 401, 422) },
      },
    },
    async (req) => slotDay(ctx, await ctx.auth(req), req.query.site, req.query.date),
  )

  app.put(
    '/appointment-slots',
    {
      schema: {
        tags,
        summary: 'Set the capacity and/or duty roster of hours of a day at a site (officers)',
        security,
        body: PutSlotsSchema,
        response: { 200: SlotDaySchema, ...errors(400, 401, 403, 409, 422) },
      },
    },
    async (req) => putSlots(ctx, await ctx.officer(req), req.body),
  )

  app.get(
    '/appointment-sites',
    {
      schema: {
        tags,
        summary: 'Customs sites taking appointments, with office hours and category policies',
        security,
        response: { 200: Type.Object({ items: Type.Array(SiteSchema) }), ...errors(401) },
      },
    },
    async (req) => {
      await ctx.auth(req)
      return { items: await listSites(ctx) }
    },
  )

  app.put(
    '/appointment-sites/:code',
    {
      schema: {
        tags,
        summary: "Set a site's office hours, default slot capacity, duty phone and category policies (admins)",
        security,
        params: SiteParams,
        body: PutSiteSchema,
        response: { 200: SiteSchema, ...errors(400, 401, 403, 422) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      requireRole(actor, 'admin')
      return putSite(ctx, actor, req.params.code, req.body)
    },
  )
}
