import type { Pool } from 'undici'

/** JSON over an undici pool: what the benchmarks use to drive `kouan serve`. */
export function jsonClient(pool: Pool) {
  return async (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, token?: string) => {
    const res = await pool.request({
      method,
      path,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    })
    const text = await res.body.text()
    return { status: res.statusCode, json: text ? JSON.parse(text) : undefined }
  }
}

/** Waits until the server answers its health check, up to `tries` × 100 ms. */
export async function waitForHealth(call: ReturnType<typeof jsonClient>, tries = 600): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      if ((await call('GET', '/api/v1/health')).status === 200) return
    } catch {
      /* not up yet */
    }
    if (i > tries) throw new Error('server did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
}
