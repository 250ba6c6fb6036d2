import Fastify from 'fastify'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../test/app.js'
import { countRows } from '../test/db.js'
import { loginUser, randomCustomsCode, randomUscc, type Headers } from '../test/factories.js'
import { installErrorHandlers } from './errors.js'

/** The error codes of the one error handler that no other test asserted (issue 10). */
describe('error handler codes', () => {
  describe('through the app', () => {
    const t = useTestApp()
    let admin: { headers: Headers }
    beforeAll(async () => {
      admin = await loginUser(t, 'admin')
    })
    const enterprise = () =>
      JSON.stringify({
        uscc: randomUscc(),
        customsCode: randomCustomsCode(),
        name: 'Media Type Trading Co.',
        registeredDistrict: '5300',
      })

    it('UNSUPPORTED_MEDIA_TYPE: a body in a type no parser takes, 415 at /headers/content-type, nothing written', async () => {
      const before = await countRows(t.db, 'enterprises')
      for (const type of ['application/x-www-form-urlencoded', 'image/png', undefined]) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/api/v1/enterprises',
          headers: { ...admin.headers, ...(type ? { 'content-type': type } : {}) },
          payload: Buffer.from(enterprise()),
        })
        expect(res.statusCode, String(type)).toBe(415)
        expect(res.json()).toMatchObject({
          statusCode: 415,
          code: 'UNSUPPORTED_MEDIA_TYPE',
          pointer: '/headers/content-type',
        })
      }
      expect(await countRows(t.db, 'enterprises')).toBe(before)
    })

    it('BAD_CONTENT_LENGTH: a body longer than its Content-Length, 400 at /headers/content-length, nothing written', async () => {
      const before = await countRows(t.db, 'enterprises')
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/enterprises',
        headers: { ...admin.headers, 'content-type': 'application/json', 'content-length': '3' },
        payload: enterprise(),
      })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({
        statusCode: 400,
        code: 'BAD_CONTENT_LENGTH',
        pointer: '/headers/content-length',
      })
      expect(await countRows(t.db, 'enterprises')).toBe(before)
    })
  })

  // No route of the app fails this way on purpose, so the handler the app installs is mounted on a bare Fastify
  // with routes that do: a library's 4xx without a mapped code, and a programming error.
  describe('on a bare Fastify with the same handler', () => {
    const bare = async () => {
      const app = Fastify({ logger: false })
      installErrorHandlers(app)
      app.get('/range', async () => {
        throw Object.assign(new Error('Range Not Satisfiable'), { statusCode: 416 })
      })
      app.get('/bug', async () => {
        throw new TypeError("Cannot read properties of undefined (reading 'secret_column')")
      })
      await app.ready()
      return app
    }

    it('BAD_REQUEST: a client error without a known code keeps its status and message, with an empty pointer', async () => {
      const app = await bare()
      const res = await app.inject({ method: 'GET', url: '/range' })
      expect(res.statusCode).toBe(416)
      expect(res.json()).toMatchObject({
        statusCode: 416,
        code: 'BAD_REQUEST',
        message: 'Range Not Satisfiable',
        pointer: '',
        errors: [{ code: 'BAD_REQUEST', pointer: '' }],
      })
      await app.close()
    })

    it('INTERNAL: anything else is a 500 that says only "internal error"', async () => {
      const app = await bare()
      const res = await app.inject({ method: 'GET', url: '/bug' })
      expect(res.statusCode).toBe(500)
      expect(res.json()).toEqual({
        statusCode: 500,
        code: 'INTERNAL',
        message: 'internal error',
        pointer: '',
        errors: [{ code: 'INTERNAL', message: 'internal error', pointer: '' }],
        requestId: expect.any(String),
      })
      expect(res.body).not.toContain('secret_column')
      await app.close()
    })
  })
})
