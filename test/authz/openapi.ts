/**
 * The operations of the real app, read from its OpenAPI document (`GET /api/openapi.json`), and the routes it
 * registers without documenting them. Keys read `METHOD /path/{param}`, as in the matrix table.
 */
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { WEB_DIR } from '../../src/modules/console/web.js'

export type JsonSchema = Record<string, unknown>

export interface Operation {
  key: string
  method: string
  /** OpenAPI path, e.g. `/api/v1/cards/{id}`. */
  path: string
  /** Whether the document says a bearer token is needed. */
  secured: boolean
  /** The JSON request body's schema, if the operation documents one. */
  jsonBody?: JsonSchema
  bodyRequired: boolean
  /** Content type of the 200/201 answer (e.g. `text/event-stream`). */
  produces: string[]
}

/** The parts of an OpenAPI operation object read here. */
interface OpenApiOperation {
  security?: unknown[]
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> }
  responses?: Record<string, { content?: Record<string, unknown> }>
}

export async function openApiDocument(
  app: FastifyInstance,
): Promise<{ paths: Record<string, Record<string, OpenApiOperation>> }> {
  const res = await app.inject({ method: 'GET', url: '/api/openapi.json' })
  if (res.statusCode !== 200) throw new Error(`GET /api/openapi.json: ${res.statusCode}`)
  return res.json()
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch']

export async function operations(app: FastifyInstance): Promise<Operation[]> {
  const doc = await openApiDocument(app)
  const out: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(item)) {
      if (!METHODS.includes(m)) continue
      const ok = op.responses?.['200'] ?? op.responses?.['201']
      out.push({
        key: `${m.toUpperCase()} ${path}`,
        method: m.toUpperCase(),
        path,
        secured: Array.isArray(op.security) && op.security.length > 0,
        ...(op.requestBody?.content?.['application/json']?.schema
          ? { jsonBody: op.requestBody.content['application/json'].schema }
          : {}),
        bodyRequired: op.requestBody?.required === true,
        produces: Object.keys(ok?.content ?? {}),
      })
    }
  }
  return out
}

/**
 * Every route the app registers, as `METHOD /path/{param}` keys (HEAD left out), from Fastify's route tree. Files
 * of the built web console (registered one route each by @fastify/static) are left out.
 */
export function registeredRoutes(app: FastifyInstance): string[] {
  const tree = app.printRoutes({ commonPrefix: false })
  const stack: Array<{ depth: number; path: string }> = []
  const keys = new Set<string>()
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)(?:[├└]── )?(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (!m || !m[2]!.trim()) continue
    const depth = m[1]!.length / 4
    while (stack.length && stack[stack.length - 1]!.depth >= depth) stack.pop()
    const parent = stack[stack.length - 1]?.path ?? ''
    const seg = m[2]!
    const path = parent === '' ? seg : parent.endsWith('/') && !seg.startsWith('/') ? parent + seg : parent + seg
    stack.push({ depth, path })
    if (!m[3]) continue
    const openApiPath = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}')
    if (isWebFile(openApiPath)) continue
    for (const method of m[3].split(', ')) if (method !== 'HEAD') keys.add(`${method} ${openApiPath}`)
  }
  return [...keys].sort()
}

function isWebFile(path: string): boolean {
  if (path === '/' || path.includes('{')) return false
  const file = join(WEB_DIR, path)
  return existsSync(file) && statSync(file).isFile()
}
