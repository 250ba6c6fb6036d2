import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import { KouanError } from '../../errors.js'
import { packageRoot } from '../../shared/paths.js'

/** Where `npm run build` puts the console (vite's outDir). */
export const WEB_DIR = join(packageRoot(), 'dist', 'web')

/** Paths the server answers itself; the console never shadows them. */
const SERVER_PATHS = /^\/(api|metrics|verify)(\/|$|\?)/

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Kouan</title>
<p>The Kouan console is not built. Run <code>npm run build</code> (or <code>npm start</code>), then reload.</p>
<p>The API is at <a href="/api/openapi.json">/api/openapi.json</a>.</p>`

/**
 * Serves the web console (a single-page app) at `/`: the built files, hashed assets cached for a year, and
 * index.html for every other GET that is not the server's own (`/api/**`, `/metrics`, `/verify/**`), so
 * deep links work. Unknown server paths keep the JSON 404.
 */
export async function registerWeb(app: FastifyInstance, dir = WEB_DIR) {
  const built = existsSync(join(dir, 'index.html'))
  if (built) {
    await app.register(fastifyStatic, {
      // `npm run build` writes .br/.gz siblings of the text assets (scripts/compress-web.mjs): sent as such to
      // clients that accept them.
      root: dir,
      wildcard: false,
      index: false,
      cacheControl: false,
      preCompressed: true,
      setHeaders: (res, path) => {
        res.setHeader(
          'cache-control',
          path.includes(`${join(dir, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
        )
      },
    })
  }
  const spa = async (req: { url: string; method: string }, reply: import('fastify').FastifyReply) => {
    if (SERVER_PATHS.test(req.url))
      throw new KouanError('ROUTE_NOT_FOUND', 404, `no route ${req.method} ${req.url}`, { pointer: '/url' })
    reply.header('cache-control', 'no-cache')
    if (!built) return reply.type('text/html; charset=utf-8').send(NOT_BUILT)
    return reply.sendFile('index.html', { cacheControl: false })
  }
  app.get('/', { schema: { hide: true } }, spa)
  app.get('/*', { schema: { hide: true } }, spa)
}
