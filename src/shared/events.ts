import type { Db, Tx } from '../db/index.js'
import { systemIds, type Clock, type Ids } from './clock.js'

/**
 * Domain events (issue 12). A module publishes its lifecycle moves (a declaration released, cleared…) inside the
 * transaction that makes them; other modules subscribe at composition time (`buildApp`), so the publisher depends
 * on nobody downstream. Two kinds of subscriber:
 *
 * - **in the transaction** ({@link EventBus.inTx}): runs before `publish` returns, in the publisher's transaction;
 *   its writes commit or roll back with the move, and its error fails the move.
 * - **after commit** ({@link EventBus.afterCommit}): `publish` writes one row per (event, subscriber) to the
 *   `outbox` table in the publisher's transaction; an {@link OutboxDispatcher} later runs the handler in a
 *   transaction of its own that also deletes those rows. A database effect of the handler therefore happens exactly
 *   once; an effect outside the database (an HTTP call) at least once — such handlers key it by the event id.
 *   Failures are retried with capped exponential backoff, never dropped.
 *
 * Payloads are plain JSON data (ISO strings for times, decimal strings for money): after-commit subscribers get them
 * back from `jsonb`.
 */

/** An event map: event type name → payload type. Modules declare theirs as interfaces, e.g. `DeclarationEvents`. */
export type EventMap<M> = { [K in keyof M]: object }

/** An event as subscribers see it. `id` is a UUIDv7 (time-ordered), the same for every subscriber of the event. */
export interface Published<M, K extends keyof M> {
  id: string
  type: K
  payload: M[K]
  /** ISO time from the bus's clock at publish. */
  publishedAt: string
}

/**
 * A subscriber's handler: all events of one type of one publish (in the transaction) or one batch (after commit). What
 * it resolves to is ignored (a handler may also serve its module directly, e.g. returning a count).
 */
export type EventHandler<M, K extends keyof M> = (tx: Tx, events: Array<Published<M, K>>) => Promise<unknown>

/** The publishing side of a bus, for a module that publishes the events of `M` and should see no other. */
export interface Publisher<M> {
  publish<K extends keyof M & string>(tx: Tx, type: K, payloads: Array<M[K]>): Promise<void>
}

/** The subscribing side of a bus, for a module that subscribes to the events of `M`. */
export interface Subscriptions<M> {
  inTx<K extends keyof M & string>(type: K, subscriber: string, handle: EventHandler<M, K>): void
  afterCommit<K extends keyof M & string>(
    type: K,
    subscriber: string,
    handle: EventHandler<M, K>,
    opts?: { batch?: number },
  ): void
}

export type SubscriptionMode = 'inTx' | 'afterCommit'

/** An after-commit subscription, as the dispatcher sees it. */
export interface AfterCommitSubscription {
  type: string
  subscriber: string
  handle: EventHandler<Record<string, object>, string>
  batch: number | undefined
}

interface InTxSubscription {
  subscriber: string
  handle: EventHandler<Record<string, object>, string>
}

/** Subscriber names are stored in outbox rows: keep them stable (renaming one strands its pending rows). */
const SUBSCRIBER_NAME = /^[a-z][a-z0-9]*(?:[.:_-][a-z0-9]+)*$/

export class EventBus<M extends EventMap<M>> implements Publisher<M>, Subscriptions<M> {
  private readonly inTxSubs = new Map<string, InTxSubscription[]>()
  private readonly afterSubs = new Map<string, AfterCommitSubscription[]>()
  private readonly registered: Array<{ type: string; subscriber: string; mode: SubscriptionMode }> = []
  private readonly clock: Clock
  private readonly ids: Ids

  /** `clock` stamps `publishedAt` (and when an outbox row is first due); `ids` makes event ids (UUIDv7). */
  constructor(deps: { clock: Clock; ids?: Ids }) {
    this.clock = deps.clock
    this.ids = deps.ids ?? systemIds
  }

  /**
   * Subscribes `handle` in the publishing transaction: called once per publish of `type`, with all its events in
   * order, after the subscribers registered before it. Its writes are atomic with the move; its error fails it.
   */
  inTx<K extends keyof M & string>(type: K, subscriber: string, handle: EventHandler<M, K>): void {
    this.register(type, subscriber, 'inTx')
    this.listOf(this.inTxSubs, type).push({ subscriber, handle: handle as unknown as InTxSubscription['handle'] })
  }

  /**
   * Subscribes `handle` after commit, through the outbox: each publish of `type` writes a row per event for this
   * subscriber; the dispatcher calls `handle` with batches (up to `opts.batch`, else the dispatcher's batch size) of
   * due events in publish order, in a transaction that also deletes their rows. Retried on failure, never lost.
   */
  afterCommit<K extends keyof M & string>(
    type: K,
    subscriber: string,
    handle: EventHandler<M, K>,
    opts: { batch?: number } = {},
  ): void {
    if (opts.batch !== undefined && !(Number.isInteger(opts.batch) && opts.batch >= 1))
      throw new Error(`batch must be a positive integer (${subscriber})`)
    this.register(type, subscriber, 'afterCommit')
    this.listOf(this.afterSubs, type).push({
      type,
      subscriber,
      handle: handle as unknown as AfterCommitSubscription['handle'],
      batch: opts.batch,
    })
  }

  /**
   * Publishes `payloads` as events of `type` in `tx`: in-transaction subscribers first (in registration order), then
   * one outbox row per (event, after-commit subscriber), all in one statement. Nothing is written when nobody
   * subscribes after commit, and nothing runs when nobody subscribes at all.
   */
  async publish<K extends keyof M & string>(tx: Tx, type: K, payloads: Array<M[K]>): Promise<void> {
    if (!tx || tx.inTransaction !== true) throw new Error('publish needs a transaction')
    const inTx = this.inTxSubs.get(type) ?? []
    const after = this.afterSubs.get(type) ?? []
    if (payloads.length === 0 || (inTx.length === 0 && after.length === 0)) return
    const publishedAt = this.clock.now().toISOString()
    const events: Array<Published<M, K>> = payloads.map((payload) => ({
      id: this.ids.uuid(),
      type,
      payload,
      publishedAt,
    }))
    for (const s of inTx) await s.handle(tx, events as never)
    if (after.length === 0) return
    await tx.query(
      `insert into outbox (event_id, subscriber, type, payload, published_at, next_attempt_at)
       select e.id, s.subscriber, $1, e.payload, $2, $2
       from jsonb_to_recordset($3::jsonb) as e(id uuid, payload jsonb), unnest($4::text[]) as s(subscriber)`,
      [
        type,
        publishedAt,
        JSON.stringify(events.map((e) => ({ id: e.id, payload: e.payload }))),
        after.map((s) => s.subscriber),
      ],
    )
  }

  /** What is subscribed, in registration order (docs, tests, `kouan`). */
  subscriptions(): Array<{ type: string; subscriber: string; mode: SubscriptionMode }> {
    return this.registered.map((r) => ({ ...r }))
  }

  /** The after-commit subscriptions, for {@link OutboxDispatcher}. */
  afterCommitSubscriptions(): AfterCommitSubscription[] {
    return [...this.afterSubs.values()].flat()
  }

  private register(type: string, subscriber: string, mode: SubscriptionMode) {
    if (!SUBSCRIBER_NAME.test(subscriber))
      throw new Error(`subscriber name ${JSON.stringify(subscriber)}: lower-case words joined by . : _ or -`)
    if (this.registered.some((r) => r.type === type && r.subscriber === subscriber))
      throw new Error(`${subscriber} already subscribes to ${type}`)
    this.registered.push({ type, subscriber, mode })
  }

  private listOf<T>(map: Map<string, T[]>, type: string): T[] {
    let list = map.get(type)
    if (!list) map.set(type, (list = []))
    return list
  }
}

export interface OutboxOptions {
  /** Milliseconds between the end of one round and the start of the next (`start()`). Default 1000. */
  intervalMs?: number
  /** Events per handler call unless the subscription sets its own. Default 100. */
  batch?: number
  /** Backoff after the first failure; doubles with each further one. Default 1000. */
  baseBackoffMs?: number
  /** The cap of the backoff: a poison event is retried this often for good. Default 300,000 (5 min). */
  maxBackoffMs?: number
  /** Attempts after which a row counts as failing (reported by `pending()` and in the log). Default 5. */
  failingAfter?: number
  /** Where failures go (the server passes its logger). */
  log?: (msg: string, err: unknown) => void
}

/** Outbox rows of one (subscriber, type): for /metrics and `kouan`. */
export interface OutboxBacklog {
  subscriber: string
  type: string
  /** Rows not yet handled, failing ones included. */
  pending: number
  /** Rows whose attempts reached `failingAfter`. */
  failing: number
  oldestPublishedAt: string
  lastError: string | null
  /** Whether a subscription in this process handles the rows (false: a subscriber removed from the code). */
  subscribed: boolean
}

/** The outbox's backlog per (subscriber, type). One query; the table holds only pending work. */
export async function outboxBacklog(db: Db | Tx, failingAfter = 5): Promise<Array<Omit<OutboxBacklog, 'subscribed'>>> {
  const rows = await db.query<{
    subscriber: string
    type: string
    pending: number
    failing: number
    oldest: Date | string
    last_error: string | null
  }>(
    `select subscriber, type, count(*)::int as pending, count(*) filter (where attempts >= $1)::int as failing,
       min(published_at) as oldest,
       (array_agg(last_error order by attempts desc, event_id) filter (where last_error is not null))[1] as last_error
     from outbox group by subscriber, type order by subscriber, type`,
    [failingAfter],
  )
  return rows.map((r) => ({
    subscriber: r.subscriber,
    type: r.type,
    pending: r.pending,
    failing: r.failing,
    oldestPublishedAt: new Date(r.oldest).toISOString(),
    lastError: r.last_error,
  }))
}

/**
 * Ids of one subscriber's pending events of one type whose payload contains `match` (jsonb `@>`: `{}` matches all),
 * oldest first, up to `limit`; failing ones too. For a subscriber that handles some early, before the dispatcher
 * does (a read that must see them handled): it then takes them with {@link takeEvents}.
 */
export async function pendingEventIds(
  db: Db | Tx,
  subscriber: string,
  type: string,
  match: object,
  limit: number,
): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `select event_id::text as id from outbox where subscriber = $1 and type = $2 and payload @> $3::jsonb order by event_id limit $4`,
    [subscriber, type, JSON.stringify(match), limit],
  )
  return rows.map((r) => r.id)
}

/**
 * Takes the given events of one subscriber off the outbox in `tx`, which handles them before it commits (a rollback
 * puts them back), as the dispatcher would. Waits for a dispatcher holding one; what it finished meanwhile is gone
 * and not returned, so an event is handled once either way.
 */
export async function takeEvents<P extends object>(
  tx: Tx,
  subscriber: string,
  type: string,
  ids: string[],
): Promise<Array<Published<Record<string, P>, string>>> {
  if (ids.length === 0) return []
  const rows = await tx.query<{ id: string; payload: P; published_at: Date | string }>(
    `delete from outbox where subscriber = $1 and type = $2 and event_id = any($3::uuid[]) returning event_id::text as id, payload, published_at`,
    [subscriber, type, ids],
  )
  return rows.sort((a, b) => (a.id < b.id ? -1 : 1)).map((r) => published(type, r))
}

/** An outbox row as its subscriber sees it. */
const published = <P extends object>(type: string, r: { id: string; payload: P; published_at: Date | string }) => ({
  id: r.id,
  type,
  payload: r.payload,
  publishedAt: new Date(r.published_at).toISOString(),
})

interface ClaimedRow {
  id: string
  payload: object
  published_at: Date | string
  attempts: number
}

/**
 * Runs after-commit subscribers from the outbox. Each round takes, per subscription, the due rows in publish order
 * (`FOR UPDATE SKIP LOCKED`: processes on one PostgreSQL share the rows; PGlite runs one transaction at a time),
 * calls the handler in that transaction and deletes the rows in it. A handler's error rolls the batch back (its
 * writes too); a separate statement then counts the attempt, sets `last_error` and makes the rows due again after
 * `baseBackoffMs · 2^(attempts-1)`, capped at `maxBackoffMs`. A row that failed before is retried alone, so a
 * poison event holds back only itself; the subscriber's other events go on in order. Rows of subscribers or types
 * no subscription here handles are left in place (`pending()` shows them).
 */
export class OutboxDispatcher {
  private readonly intervalMs: number
  private readonly batch: number
  private readonly baseBackoffMs: number
  private readonly maxBackoffMs: number
  private readonly failingAfter: number
  private readonly log: (msg: string, err: unknown) => void
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> | undefined
  private stopped = false

  constructor(
    private readonly deps: { db: Db; clock: Clock; bus: { afterCommitSubscriptions(): AfterCommitSubscription[] } },
    opts: OutboxOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000
    this.batch = opts.batch ?? 100
    this.baseBackoffMs = opts.baseBackoffMs ?? 1000
    this.maxBackoffMs = opts.maxBackoffMs ?? 300_000
    this.failingAfter = opts.failingAfter ?? 5
    this.log = opts.log ?? (() => {})
    if (!(Number.isInteger(this.batch) && this.batch >= 1)) throw new Error('batch must be a positive integer')
    // A zero backoff would make a failed row due again within the same round.
    if (!(this.baseBackoffMs >= 1 && this.maxBackoffMs >= this.baseBackoffMs))
      throw new Error('backoff: 1 ≤ baseBackoffMs ≤ maxBackoffMs')
  }

  /** Runs a round every `intervalMs` after the previous one ended, until `stop()`. */
  start(): this {
    if (!this.stopped && this.timer === undefined) this.schedule()
    return this
  }

  private schedule() {
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((err: unknown) => this.log('outbox round failed', err))
        .finally(() => {
          this.running = undefined
          if (!this.stopped) this.schedule()
        })
    }, this.intervalMs)
    this.timer.unref()
  }

  /** Stops the timer and waits for a running round to finish its batch. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }

  /**
   * One round: per subscription, batches of due events until none is left (or `stop()`). Returns how many events
   * the handlers took (committed); failed batches are not counted.
   */
  async runOnce(): Promise<number> {
    let handled = 0
    let active = this.deps.bus.afterCommitSubscriptions()
    while (active.length > 0 && !this.stopped) {
      const more: AfterCommitSubscription[] = []
      for (const s of active) {
        if (this.stopped) break
        const r = await this.runBatch(s)
        handled += r.handled
        if (r.more) more.push(s)
      }
      active = more
    }
    return handled
  }

  /** The backlog per (subscriber, type), with whether this process handles it. */
  async pending(): Promise<OutboxBacklog[]> {
    const subs = this.deps.bus.afterCommitSubscriptions()
    return (await outboxBacklog(this.deps.db, this.failingAfter)).map((b) => ({
      ...b,
      subscribed: subs.some((s) => s.subscriber === b.subscriber && s.type === b.type),
    }))
  }

  private async runBatch(s: AfterCommitSubscription): Promise<{ handled: number; more: boolean }> {
    const limit = s.batch ?? this.batch
    let batch: ClaimedRow[] = []
    let claimed = 0
    try {
      await this.deps.db.transaction(async (tx) => {
        const rows = await tx.query<ClaimedRow>(
          `select event_id::text as id, payload, published_at, attempts from outbox
           where subscriber = $1 and type = $2 and next_attempt_at <= $3
           order by event_id limit $4 for update skip locked`,
          [s.subscriber, s.type, this.deps.clock.now().toISOString(), limit],
        )
        claimed = rows.length
        // A row that failed before goes alone; fresh rows go together up to the next such row.
        const retryAt = rows.findIndex((r) => r.attempts > 0)
        batch = retryAt === 0 ? rows.slice(0, 1) : retryAt > 0 ? rows.slice(0, retryAt) : rows
        if (batch.length === 0) return
        await s.handle(
          tx,
          batch.map((r) => published(s.type, r)),
        )
        await tx.query('delete from outbox where subscriber = $1 and event_id = any($2::uuid[])', [
          s.subscriber,
          batch.map((r) => r.id),
        ])
      })
    } catch (err) {
      if (batch.length === 0) throw err
      await this.failed(s, batch, err)
      return { handled: 0, more: claimed === limit || claimed > batch.length }
    }
    return { handled: batch.length, more: claimed === limit || claimed > batch.length }
  }

  private async failed(s: AfterCommitSubscription, batch: ClaimedRow[], err: unknown) {
    const message = (err instanceof Error ? err.message : String(err)).replace(/\0/g, '').slice(0, 2000)
    // Rows another process took and finished meanwhile are gone and stay gone.
    const rows = await this.deps.db.query<{ attempts: number }>(
      `update outbox set attempts = attempts + 1, last_error = $4,
         next_attempt_at = $3::timestamptz + least($6::float8, $5::float8 * power(2::float8, least(attempts, 60))) * interval '1 millisecond'
       where subscriber = $1 and event_id = any($2::uuid[])
       returning attempts`,
      [
        s.subscriber,
        batch.map((r) => r.id),
        this.deps.clock.now().toISOString(),
        message,
        this.baseBackoffMs,
        this.maxBackoffMs,
      ],
    )
    const attempts = Math.max(0, ...rows.map((r) => r.attempts))
    const ids = batch.length === 1 ? `event ${batch[0]!.id}` : `${batch.length} events from ${batch[0]!.id}`
    this.log(
      `outbox: ${s.subscriber} failed on ${s.type} (${ids}, attempt ${attempts})${attempts >= this.failingAfter ? ': failing, retried every ' + Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** (attempts - 1)) + ' ms' : ''}`,
      err,
    )
  }
}
