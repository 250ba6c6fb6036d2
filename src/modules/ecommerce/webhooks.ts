import { createHmac } from 'node:crypto'
import { lookup as dnsLookup } from 'node:dns/promises'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'
import type { Config } from '../../config.js'
import type { Db, Tx } from '../../db/index.js'
import { KouanError } from '../../errors.js'
import { appendAudit } from '../../shared/audit.js'
import type { Clock, Ids } from '../../shared/clock.js'
import type { Receipt } from './types.js'

/** Attempts before a delivery is given up; delays double from 5 s up to an hour. */
export const MAX_ATTEMPTS = 10
const backoffMs = (attempts: number) => Math.min(3600_000, 5000 * 2 ** Math.max(0, attempts - 1))
/** How long a process holds a delivery it is sending before another may retry it. */
const LEASE_MS = 60_000

/**
 * Signature header of a webhook call: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` with the
 * enterprise's webhook secret, so the receiver can check origin and freshness.
 */
export function webhookSignature(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000)
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`
}

// ---- Where webhooks may go (issue 10, finding 2: server-side request forgery) -----------------------------------

/** Resolves a host name to its addresses (the system resolver by default; tests inject one). */
export type Resolve = (hostname: string) => Promise<Array<{ address: string; family: number }>>
const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

/** The configuration the address checks read: `webhookAllowHttp`, `webhookAllow`. */
export type WebhookPolicy = Pick<Config, 'webhookAllowHttp' | 'webhookAllow'>
const STRICT: WebhookPolicy = { webhookAllowHttp: false, webhookAllow: '' }

/** A URL whose every address passed the checks, and the address to connect to (the connection is pinned to it). */
export interface VettedUrl {
  url: URL
  address: string
  family: 4 | 6
}

/** Why a webhook URL may not be used. */
export class WebhookRefused extends Error {}

type Address = ipaddr.IPv4 | ipaddr.IPv6

/** The allow-list: host names (exact, case-insensitive) and address ranges. */
function allowList(spec: string): { hosts: Set<string>; ranges: Array<[Address, number]> } {
  const hosts = new Set<string>()
  const ranges: Array<[Address, number]> = []
  for (const item of spec.split(/[\s,]+/).filter(Boolean)) {
    const entry = item.toLowerCase()
    if (entry.includes('/') && ipaddr.isValidCIDR(entry)) {
      const [range, bits] = ipaddr.parseCIDR(entry)
      ranges.push(
        range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress()
          ? [(range as ipaddr.IPv6).toIPv4Address(), Math.max(0, bits - 96)]
          : [range, bits],
      )
    } else if (ipaddr.isValid(entry)) {
      const a = ipaddr.process(entry)
      ranges.push([a, a.kind() === 'ipv4' ? 32 : 128])
    } else hosts.add(entry.replace(/\.$/, ''))
  }
  return { hosts, ranges }
}

/**
 * Checks a webhook URL and resolves it: https (http only with `webhookAllowHttp`), no user or password, and every
 * address the host resolves to a public unicast one — not loopback, private (RFC 1918), link-local (the cloud metadata
 * 169.254.169.254), CGNAT (Alibaba's metadata 100.100.100.200), unique-local (AWS's fd00:ec2::254), multicast,
 * broadcast, unspecified or reserved, IPv4-mapped IPv6 judged as the IPv4 it carries, and no IPv6 form that embeds
 * an IPv4 address (NAT64, 6to4, Teredo) — unless the host or the address is on the allow-list (`webhookAllow`).
 * Runs at registration and again before every delivery (the name may resolve elsewhere by then: DNS rebinding).
 *
 * @throws WebhookRefused with the reason.
 */
export async function vetWebhookUrl(
  raw: string,
  policy: WebhookPolicy = STRICT,
  resolve: Resolve = systemResolve,
): Promise<VettedUrl> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new WebhookRefused('not a URL')
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.webhookAllowHttp)) {
    throw new WebhookRefused(`${url.protocol.replace(/:$/, '')} URLs are not allowed; use https`)
  }
  if (url.username || url.password) throw new WebhookRefused('a webhook URL carries no user name or password')
  // The WHATWG parser has already turned numeric forms (2130706433, 0x7f.1) into dotted IPv4.
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const allow = allowList(policy.webhookAllow)
  let found: Array<{ address: string; family: number }>
  if (ipaddr.isValid(host)) found = [{ address: host, family: host.includes(':') ? 6 : 4 }]
  else {
    try {
      found = await resolve(host)
    } catch (e) {
      throw new WebhookRefused(`host ${host} cannot be resolved (${(e as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  if (found.length === 0) throw new WebhookRefused(`host ${host} has no address`)
  const hostAllowed = allow.hosts.has(host.replace(/\.$/, ''))
  for (const { address } of found) {
    if (!ipaddr.isValid(address)) throw new WebhookRefused(`host ${host} resolves to ${address}, not an IP address`)
    const a: Address = ipaddr.process(address)
    const range = a.range()
    if (range === 'unicast' || hostAllowed) continue
    if (allow.ranges.some(([r, bits]) => r.kind() === a.kind() && a.match(r, bits))) continue
    throw new WebhookRefused(
      `${host === address ? '' : `host ${host} resolves to `}${address} (${range}), an address webhooks are not allowed to reach`,
    )
  }
  const first = ipaddr.process(found[0]!.address)
  return { url, address: first.toString(), family: first.kind() === 'ipv4' ? 4 : 6 }
}

/** Registers (or replaces) an enterprise's webhook after checking its URL; returns the signing secret. Audited. */
export async function setWebhook(
  deps: { db: Db; clock: Clock; ids: Ids; config?: WebhookPolicy; resolve?: Resolve },
  enterpriseId: string,
  url: string,
  actor: string,
) {
  try {
    await vetWebhookUrl(url, deps.config, deps.resolve)
  } catch (e) {
    if (!(e instanceof WebhookRefused)) throw e
    throw new KouanError('WEBHOOK_URL_NOT_ALLOWED', 422, `webhook URL refused: ${e.message}`, { pointer: '/body/url' })
  }
  const secret = deps.ids.token(24)
  await deps.db.transaction(async (tx) => {
    await tx.query(
      `insert into ceb_webhooks (enterprise_id, url, secret, created_at) values ($1, $2, $3, $4)
       on conflict (enterprise_id) do update set url = excluded.url, secret = excluded.secret, created_at = excluded.created_at`,
      [enterpriseId, url, secret, deps.clock.now().toISOString()],
    )
    appendAudit(tx, {
      at: deps.clock.now(),
      actor,
      action: 'CEB_WEBHOOK_SET',
      entityType: 'enterprise',
      entityId: enterpriseId,
      data: { url },
    })
  })
  return { url, secret }
}

/** POSTs `body` to a vetted URL over a connection to its vetted address only; never follows a redirect. */
function post(v: VettedUrl, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  // The check and the connection use the same address: the socket's look-up answers with it, whatever DNS says now.
  const lookup: LookupFunction = (_host, opts, cb) => {
    if (opts?.all)
      (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
        { address: v.address, family: v.family },
      ])
    else cb(null, v.address, v.family)
  }
  const send = v.url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(
      v.url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup,
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        res.resume() // the answer's body is not read
        resolve(res.statusCode ?? 0)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** Queues, in the matching transaction, one delivery per (sending enterprise with a webhook, order) of new receipts. */
export async function enqueueDeliveries(tx: Tx, receipts: Receipt[], at: string) {
  if (!receipts.length) return
  // Most deployments register few webhooks: skip the join (a document lookup per receipt) when there are none.
  const [any] = await tx.query<{ yes: boolean }>('select exists (select 1 from ceb_webhooks) as yes')
  if (!any?.yes) return
  await tx.query(
    `insert into ceb_webhook_deliveries (enterprise_id, payload, next_at)
     select w.enterprise_id, jsonb_build_object('orderNo', r.order_no, 'receipts', jsonb_agg(jsonb_build_object(
         'type', r.type, 'docKey', r.doc_key, 'returnStatus', r.return_status, 'returnInfo', r.return_info, 'reasons', r.reasons) order by r.n)), $1::timestamptz
     from jsonb_to_recordset($2::jsonb) as r(n int, type text, doc_key text, order_no text, return_status int, return_info text, reasons jsonb)
     join ceb_documents d on d.type = r.type and d.doc_key = r.doc_key
     join enterprises e on e.customs_code = d.sender
     join ceb_webhooks w on w.enterprise_id = e.id
     group by w.enterprise_id, r.order_no`,
    [
      at,
      JSON.stringify(
        receipts.map((r, n) => ({
          n,
          type: r.type,
          doc_key: r.docKey,
          order_no: r.orderNo,
          return_status: r.returnStatus,
          return_info: r.returnInfo,
          reasons: r.reasons,
        })),
      ),
    ],
  )
}

/**
 * Queues, in the caller's transaction, deliveries of `payloads` (in order) to an enterprise's webhook if it registered
 * one — one statement, nothing when it has none. Other modules' notifications (e.g. appointments) share the
 * enterprise's one webhook; their payloads carry `event`.
 */
export async function enqueueWebhook(
  tx: Tx,
  enterpriseId: string,
  payloads: Array<Record<string, unknown>>,
  at: string,
) {
  if (!payloads.length) return
  await tx.query(
    `insert into ceb_webhook_deliveries (enterprise_id, payload, next_at)
     select w.enterprise_id, p.value, $3::timestamptz
     from ceb_webhooks w, jsonb_array_elements($2::jsonb) with ordinality as p(value, n)
     where w.enterprise_id = $1 order by p.n`,
    [enterpriseId, JSON.stringify(payloads), at],
  )
}

/**
 * Sends due deliveries: each is leased (so another process does not send it at the same time), its URL checked
 * again ({@link vetWebhookUrl}: the address it resolves to now), POSTed to that address with a signed body and a
 * 5 s timeout — a redirect counts as a failure, never followed — then marked delivered or rescheduled with
 * exponential backoff. Returns how many were attempted.
 */
export async function deliverWebhooks(
  deps: { db: Db; clock: Clock; config?: WebhookPolicy; resolve?: Resolve },
  limit = 50,
): Promise<number> {
  const now = deps.clock.now()
  const due = await deps.db.query<{ id: number; attempts: number; payload: unknown; url: string; secret: string }>(
    `update ceb_webhook_deliveries d set next_at = $2 from ceb_webhooks w
     where d.id in (select id from ceb_webhook_deliveries where delivered_at is null and next_at <= $1 order by next_at limit $3 for update skip locked)
       and w.enterprise_id = d.enterprise_id
     returning d.id, d.attempts, d.payload, w.url, w.secret`,
    [now.toISOString(), new Date(now.getTime() + LEASE_MS).toISOString(), limit],
  )
  await Promise.all(
    due.map(async (d) => {
      const body = JSON.stringify(d.payload)
      let error: string | null = null
      try {
        const target = await vetWebhookUrl(d.url, deps.config, deps.resolve)
        const status = await post(
          target,
          body,
          {
            'content-type': 'application/json',
            'x-kouan-signature': webhookSignature(d.secret, body, now),
            'x-kouan-delivery': String(d.id),
          },
          5000,
        )
        if (status < 200 || status > 299)
          error = status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`
      } catch (e) {
        error = e instanceof WebhookRefused ? `address not allowed: ${e.message}` : (e as Error).message
      }
      const attempts = d.attempts + 1
      if (!error) {
        await deps.db.query(
          'update ceb_webhook_deliveries set attempts = $2, delivered_at = $3, last_error = null where id = $1',
          [d.id, attempts, now.toISOString()],
        )
      } else {
        const giveUp = attempts >= MAX_ATTEMPTS
        // A given-up delivery is never due again: next_at = infinity (null here, as drivers cannot send infinity as a date).
        await deps.db.query(
          `update ceb_webhook_deliveries set attempts = $2, next_at = coalesce($3::timestamptz, 'infinity'), last_error = $4 where id = $1`,
          [
            d.id,
            attempts,
            giveUp ? null : new Date(now.getTime() + backoffMs(attempts)).toISOString(),
            giveUp ? `gave up: ${error}` : error,
          ],
        )
      }
    }),
  )
  return due.length
}
