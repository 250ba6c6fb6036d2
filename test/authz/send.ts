/** Sends a matrix call as one role: by `inject`, or over a real connection for event streams. */
import type { Response } from 'light-my-request'
import type { Call } from './requests.js'
import type { Role, World } from './world.js'

export interface Answer {
  status: number
  body: string
  contentType: string
  res?: Response
}

let address: Promise<string> | undefined

export async function send(w: World, method: string, role: Role, call: Call): Promise<Answer> {
  const headers: Record<string, string> = { ...w.headers[role], ...(call.headers ?? {}) }
  if (call.stream) {
    address ??= w.t.app.listen({ port: 0, host: '127.0.0.1' })
    const ctl = new AbortController()
    try {
      const res = await fetch(`${await address}${call.url}`, { method, headers, signal: ctl.signal })
      const body = res.status === 200 ? '' : await res.text()
      return { status: res.status, body, contentType: res.headers.get('content-type') ?? '' }
    } finally {
      ctl.abort()
    }
  }
  const payload = call.raw ? call.raw.payload : call.body === undefined ? undefined : JSON.stringify(call.body)
  if (payload !== undefined) headers['content-type'] = call.raw?.contentType ?? 'application/json'
  const res = await w.t.app.inject({
    method: method as 'GET',
    url: call.url,
    headers,
    ...(payload === undefined ? {} : { payload }),
  })
  return {
    status: call.statusOf ? call.statusOf(res) : res.statusCode,
    body: res.body,
    contentType: String(res.headers['content-type'] ?? ''),
    res,
  }
}

/** Forget the listening address (the app of a test file is closed with the file). */
export function resetTransport() {
  address = undefined
}
