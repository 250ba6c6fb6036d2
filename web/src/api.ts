import { getSession, setSession } from './session.js'
import { SseParser } from './lib/sse.js'

/** The server's one error shape (src/errors.ts). */
export interface ApiErrorBody {
  statusCode: number
  code: string
  message: string
  pointer: string
  errors: Array<{ code: string; message: string; pointer: string }>
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message)
  }
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = {}
  const s = getSession()
  if (s) h.authorization = `Bearer ${s.token}`
  if (json) h['content-type'] = 'application/json'
  return h
}

/** Calls the API; a 401 ends the session (the login page then says why). */
export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, body?: unknown): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers: headers(body !== undefined),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
  } catch {
    throw new ApiError(0, { statusCode: 0, code: 'NETWORK', message: 'network error', pointer: '', errors: [] })
  }
  const text = await res.text()
  const parsed = text
    ? (() => {
        try {
          return JSON.parse(text) as unknown
        } catch {
          return text
        }
      })()
    : undefined
  if (!res.ok) {
    const b = (
      typeof parsed === 'object' && parsed !== null
        ? parsed
        : { code: `HTTP_${res.status}`, message: String(parsed ?? res.statusText) }
    ) as Partial<ApiErrorBody>
    const err = new ApiError(res.status, {
      statusCode: res.status,
      code: b.code ?? `HTTP_${res.status}`,
      message: b.message ?? '',
      pointer: b.pointer ?? '',
      errors: b.errors ?? [],
    })
    if (res.status === 401 && getSession() && path !== '/api/v1/auth/login' && path !== '/api/v1/auth/card-login') {
      sessionStorage.setItem('kouan.expired', '1')
      setSession(null)
    }
    throw err
  }
  return parsed as T
}

/**
 * Follows a server-sent event stream with the session's bearer token (fetch, since EventSource cannot send
 * headers), reconnecting after the server's retry delay until `signal` aborts. `onState` reports whether
 * the stream is connected.
 */
export async function followStream(
  path: string,
  onEvent: (event: string, data: string) => void,
  onState: (connected: boolean) => void,
  signal: AbortSignal,
) {
  let delay = 2000
  while (!signal.aborted) {
    try {
      const res = await fetch(path, { headers: headers(false), signal })
      if (res.status === 401) {
        setSession(null)
        return
      }
      if (!res.ok || !res.body) throw new Error(`stream ${res.status}`)
      onState(true)
      const parser = new SseParser()
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        for (const e of parser.push(value)) onEvent(e.event, e.data)
        delay = parser.retryMs ?? delay
      }
    } catch {
      if (signal.aborted) return
    }
    onState(false)
    await new Promise((r) => setTimeout(r, delay))
  }
}
