/** HTTP for the simulators: JSON or raw bodies over fetch that never throw, and sessions that log in again. */
import { setTimeout as sleep } from 'node:timers/promises'
import { ed25519 } from '../shared/signing.js'

export interface Credentials {
  username: string
  password: string
}

export interface Res<T> {
  status: number
  body: T | undefined
  code?: string
  message?: string
}
export type ErrorBody = {
  code?: string
  message?: string
  errors?: Array<{ code: string; message: string; pointer: string }>
}

/** Sleeps `ms`, returning early (without throwing) when `signal` aborts. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return
  try {
    await sleep(ms, undefined, { signal })
  } catch {
    /* aborted */
  }
}

/** JSON (or raw) over fetch; never throws. Status 0 = no answer (network error, timeout or stop). */
export class Http {
  constructor(
    private readonly base: string,
    private readonly hardStop: AbortSignal,
    private readonly timeoutMs: number,
  ) {}

  async call<T>(method: string, path: string, body?: unknown, token?: string): Promise<Res<T>> {
    return this.send<T>(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? {} : { 'content-type': 'application/json' },
      token,
    )
  }

  /** A request with a body as is (e.g. XML) and its own headers. */
  async send<T>(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
    token?: string,
  ): Promise<Res<T>> {
    if (this.hardStop.aborted) return { status: 0, body: undefined, code: 'STOPPED' }
    const all: Record<string, string> = { ...headers }
    if (token) all.authorization = `Bearer ${token}`
    try {
      const res = await fetch(`${this.base}${path}`, {
        method,
        headers: all,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.any([this.hardStop, AbortSignal.timeout(this.timeoutMs)]),
      })
      const text = await res.text()
      let parsed: unknown
      try {
        parsed = text ? JSON.parse(text) : undefined
      } catch {
        parsed = undefined
      }
      if (res.status >= 400) {
        const e = (parsed ?? {}) as ErrorBody
        return {
          status: res.status,
          body: undefined,
          code: e.code ?? `HTTP_${res.status}`,
          message: e.message ?? text.slice(0, 200),
        }
      }
      return { status: res.status, body: parsed as T }
    } catch (e) {
      return {
        status: 0,
        body: undefined,
        code: this.hardStop.aborted ? 'STOPPED' : 'NETWORK',
        message: e instanceof Error ? e.message : String(e),
      }
    }
  }
}

/** A logged-in party whose token is renewed once when the server says it expired. */
export class Session {
  token: string | undefined
  constructor(
    private readonly http: Http,
    private readonly login: (http: Http) => Promise<Res<{ token: string }>>,
  ) {}

  async ensure(): Promise<Res<{ token: string }>> {
    const r = await this.login(this.http)
    if (r.status === 200 && r.body) this.token = r.body.token
    return r
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<Res<T>> {
    if (!this.token) {
      const l = await this.ensure()
      if (!this.token) return { status: l.status, body: undefined, ...(l.code ? { code: l.code } : {}) }
    }
    const r = await this.http.call<T>(method, path, body, this.token)
    if (r.status === 401 && r.code === 'AUTH_INVALID_TOKEN') {
      this.token = undefined
      await this.ensure()
      if (this.token) return this.http.call<T>(method, path, body, this.token)
    }
    return r
  }

  /** {@link Http.send} with this session's token (renewed once if expired). */
  async send<T>(method: string, path: string, body: string, headers: Record<string, string>): Promise<Res<T>> {
    if (!this.token) await this.ensure()
    const r = await this.http.send<T>(method, path, body, headers, this.token)
    if (r.status === 401 && r.code === 'AUTH_INVALID_TOKEN') {
      this.token = undefined
      await this.ensure()
      if (this.token) return this.http.send<T>(method, path, body, headers, this.token)
    }
    return r
  }
}

export const passwordLogin = (c: Credentials) => (http: Http) =>
  http.call<{ token: string }>('POST', '/api/v1/auth/login', { username: c.username, password: c.password })
export const cardLogin =
  (cardNo: string, privateKey: string) =>
  async (http: Http): Promise<Res<{ token: string }>> => {
    const ch = await http.call<{ challengeId: string; challenge: string }>('POST', '/api/v1/auth/challenge', { cardNo })
    if (ch.status !== 200 || !ch.body)
      return { status: ch.status, body: undefined, ...(ch.code ? { code: ch.code } : {}) }
    const signature = ed25519.sign(privateKey, Buffer.from(ch.body.challenge, 'utf8'))
    return http.call<{ token: string }>('POST', '/api/v1/auth/card-login', {
      challengeId: ch.body.challengeId,
      signature,
    })
  }
