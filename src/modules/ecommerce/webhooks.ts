import { createHmac } from 'node:crypto'
import type { Db, Tx } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import type { Receipt } from './service.js'

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

/** Registers (or replaces) an enterprise's webhook; returns the signing secret. */
export async function setWebhook(deps: { db: Db; clock: Clock; ids: Ids }, enterpriseId: string, url: string) {
  const secret = deps.ids.token(24)
  await deps.db.query(
    `insert into ceb_webhooks (enterprise_id, url, secret, created_at) values ($1, $2, $3, $4)
     on conflict (enterprise_id) do update set url = excluded.url, secret = excluded.secret, created_at = excluded.created_at`,
    [enterpriseId, url, secret, deps.clock.now().toISOString()])
  return { url, secret }
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
    [at, JSON.stringify(receipts.map((r, n) => ({ n, type: r.type, doc_key: r.docKey, order_no: r.orderNo, return_status: r.returnStatus, return_info: r.returnInfo, reasons: r.reasons })))])
}

/**
 * Sends due deliveries: each is leased (so another process does not send it at the same time), POSTed with
 * a signed body and a 5 s timeout, then marked delivered or rescheduled with exponential backoff.
 * Returns how many were attempted.
 */
export async function deliverWebhooks(deps: { db: Db; clock: Clock }, limit = 50, send: typeof fetch = fetch): Promise<number> {
  const now = deps.clock.now()
  const due = await deps.db.query<{ id: number; attempts: number; payload: unknown; url: string; secret: string }>(
    `update ceb_webhook_deliveries d set next_at = $2 from ceb_webhooks w
     where d.id in (select id from ceb_webhook_deliveries where delivered_at is null and next_at <= $1 order by next_at limit $3 for update skip locked)
       and w.enterprise_id = d.enterprise_id
     returning d.id, d.attempts, d.payload, w.url, w.secret`,
    [now.toISOString(), new Date(now.getTime() + LEASE_MS).toISOString(), limit])
  await Promise.all(due.map(async (d) => {
    const body = JSON.stringify(d.payload)
    let error: string | null = null
    try {
      const res = await send(d.url, {
        method: 'POST', body, signal: AbortSignal.timeout(5000),
        headers: { 'content-type': 'application/json', 'x-kouan-signature': webhookSignature(d.secret, body, now), 'x-kouan-delivery': String(d.id) },
      })
      if (!res.ok) error = `HTTP ${res.status}`
    } catch (e) {
      error = (e as Error).message
    }
    const attempts = d.attempts + 1
    if (!error) {
      await deps.db.query('update ceb_webhook_deliveries set attempts = $2, delivered_at = $3, last_error = null where id = $1', [d.id, attempts, now.toISOString()])
    } else {
      const giveUp = attempts >= MAX_ATTEMPTS
      // A given-up delivery is never due again: next_at = infinity (null here, as drivers cannot send infinity as a date).
      await deps.db.query(`update ceb_webhook_deliveries set attempts = $2, next_at = coalesce($3::timestamptz, 'infinity'), last_error = $4 where id = $1`,
        [d.id, attempts, giveUp ? null : new Date(now.getTime() + backoffMs(attempts)).toISOString(), giveUp ? `gave up: ${error}` : error])
    }
  }))
  return due.length
}
