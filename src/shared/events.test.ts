import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { countRows, freshDb } from '../../test/db.js'
import type { Db, Tx } from '../db/index.js'
import { fixedClock } from './clock.js'
import {
  EventBus,
  OutboxDispatcher,
  outboxBacklog,
  type EventHandler,
  type OutboxOptions,
  type Published,
  type Publisher,
} from './events.js'

const T0 = '2026-05-11T01:00:00.000Z'

/** Two modules' event maps, as modules declare them (interfaces). */
interface MoveEvents {
  Moved: { n: number; ref: string }
  Stopped: { n: number }
}
interface OtherEvents {
  Pinged: { at: string }
}
type AllEvents = MoveEvents & OtherEvents

/**
 * Domain events and the outbox (issue 12) on a real database: one per file; each test uses its own subscriber names
 * and starts from an empty outbox. Handlers write to `event_effects`, so "exactly once" is counted in the database.
 */
describe('domain events and the outbox', () => {
  let db: Db
  let drop: () => Promise<void>
  let clock: ReturnType<typeof fixedClock>

  beforeAll(async () => {
    const fresh = await freshDb()
    db = fresh.db
    drop = fresh.drop
    await db.exec(`create table event_effects (subscriber text not null, event_id uuid not null, n int not null, seq bigserial);
                   create table moves (ref text not null)`)
  })
  afterAll(async () => drop?.())
  beforeEach(async () => {
    clock = fixedClock(T0)
    await db.exec('delete from outbox; delete from event_effects; delete from moves')
  })

  const newBus = () => new EventBus<AllEvents>({ clock })
  const dispatcher = (bus: EventBus<AllEvents>, opts: OutboxOptions = {}) =>
    new OutboxDispatcher({ db, clock, bus }, opts)
  /** A handler that records each event it gets, then (if `fail` says so for one of them) throws. */
  const recording =
    (
      subscriber: string,
      calls: number[][] = [],
      fail: (n: number) => boolean = () => false,
    ): EventHandler<MoveEvents, 'Moved'> =>
    async (tx, events) => {
      calls.push(events.map((e) => e.payload.n))
      for (const e of events)
        await tx.query('insert into event_effects (subscriber, event_id, n) values ($1, $2, $3)', [
          subscriber,
          e.id,
          e.payload.n,
        ])
      const bad = events.find((e) => fail(e.payload.n))
      if (bad) throw new Error(`cannot take ${bad.payload.n}`)
    }
  const moved = (...ns: number[]) => ns.map((n) => ({ n, ref: `R${n}` }))
  const publishMoved = (bus: Publisher<MoveEvents>, ...ns: number[]) =>
    db.transaction((tx) => bus.publish(tx, 'Moved', moved(...ns)))
  /** How many times each event's effect was written, by n. */
  const effects = async (subscriber: string) =>
    (
      await db.query<{ n: number; times: number }>(
        'select n, count(*)::int as times from event_effects where subscriber = $1 group by n order by n',
        [subscriber],
      )
    ).map((r) => [r.n, r.times])
  const outboxRows = (subscriber?: string) =>
    countRows(db, 'outbox', subscriber ? 'subscriber = $1' : 'true', subscriber ? [subscriber] : [])

  describe('in the transaction', () => {
    it('runs inside the publishing transaction, once per publish with all its events in order, subscribers in registration order', async () => {
      const bus = newBus()
      const seen: string[] = []
      bus.inTx('Moved', 'first', async (tx, events) => {
        seen.push(`first:${events.map((e) => e.payload.n).join(',')}`)
        for (const e of events)
          await tx.query('insert into event_effects (subscriber, event_id, n) values ($1, $2, $3)', [
            'first',
            e.id,
            e.payload.n,
          ])
      })
      bus.inTx('Moved', 'second', async (tx, events) => {
        // The first subscriber's writes are visible: same transaction, and it ran before.
        const [r] = await tx.query<{ n: number }>(
          'select count(*)::int as n from event_effects where subscriber = $1',
          ['first'],
        )
        seen.push(`second:${events.length}:${r!.n}`)
      })
      await publishMoved(bus, 1, 2, 3)
      expect(seen).toEqual(['first:1,2,3', 'second:3:3'])
      expect(await effects('first')).toEqual([
        [1, 1],
        [2, 1],
        [3, 1],
      ])
      // No after-commit subscriber: the outbox stays empty.
      expect(await outboxRows()).toBe(0)
    })

    it('its writes roll back when the publisher fails after publishing', async () => {
      const bus = newBus()
      bus.inTx('Moved', 'writer', recording('writer'))
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`insert into moves values ('M1')`)
          await bus.publish(tx, 'Moved', moved(1))
          throw new Error('the move fails later')
        }),
      ).rejects.toThrow('the move fails later')
      expect(await effects('writer')).toEqual([])
      expect(await countRows(db, 'moves')).toBe(0)
    })

    it('its error fails the publish and rolls back the move', async () => {
      const bus = newBus()
      bus.inTx(
        'Moved',
        'strict',
        recording('strict', [], (n) => n === 2),
      )
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`insert into moves values ('M1')`)
          await bus.publish(tx, 'Moved', moved(1, 2))
        }),
      ).rejects.toThrow('cannot take 2')
      expect(await countRows(db, 'moves')).toBe(0)
      expect(await effects('strict')).toEqual([])
    })

    it('gives every event a time-ordered id and the clock time of the publish', async () => {
      const bus = newBus()
      const got: Array<Published<AllEvents, 'Moved'>> = []
      bus.inTx('Moved', 'ids', async (_tx, events) => {
        got.push(...events)
      })
      await publishMoved(bus, 1, 2, 3)
      expect(got.map((e) => ({ type: e.type, payload: e.payload, publishedAt: e.publishedAt }))).toEqual(
        moved(1, 2, 3).map((payload) => ({ type: 'Moved', payload, publishedAt: T0 })),
      )
      expect(got.map((e) => e.id)).toEqual([...got.map((e) => e.id)].sort())
      expect(new Set(got.map((e) => e.id)).size).toBe(3)
    })
  })

  describe('after commit', () => {
    it('runs nothing before commit; the rows are written in the transaction, one statement, one per (event, subscriber)', async () => {
      const bus = newBus()
      const calls: number[][] = []
      bus.afterCommit('Moved', 'mailer', recording('mailer', calls))
      bus.afterCommit('Moved', 'indexer', recording('indexer'))
      await db.transaction(async (tx) => {
        await bus.publish(tx, 'Moved', moved(1, 2))
        const [r] = await tx.query<{ n: number }>('select count(*)::int as n from outbox')
        expect(r!.n).toBe(4)
        expect(calls).toEqual([])
      })
      expect(calls).toEqual([])
      const rows = await db.query<{
        subscriber: string
        type: string
        payload: unknown
        published_at: Date
        attempts: number
        next_attempt_at: Date
      }>(
        'select subscriber, type, payload, published_at, attempts, next_attempt_at from outbox order by event_id, subscriber',
      )
      expect(
        rows.map((r) => ({
          ...r,
          published_at: new Date(r.published_at).toISOString(),
          next_attempt_at: new Date(r.next_attempt_at).toISOString(),
        })),
      ).toEqual(
        [1, 1, 2, 2].map((n, i) => ({
          subscriber: i % 2 ? 'mailer' : 'indexer',
          type: 'Moved',
          payload: { n, ref: `R${n}` },
          published_at: T0,
          attempts: 0,
          next_attempt_at: T0,
        })),
      )
    })

    it('a rolled-back publish leaves no rows; publishing a type nobody subscribes to writes nothing', async () => {
      const bus = newBus()
      bus.afterCommit('Moved', 'mailer', recording('mailer'))
      await expect(
        db.transaction(async (tx) => {
          await bus.publish(tx, 'Moved', moved(1))
          throw new Error('rolled back')
        }),
      ).rejects.toThrow('rolled back')
      await db.transaction((tx) => bus.publish(tx, 'Stopped', [{ n: 1 }]))
      expect(await outboxRows()).toBe(0)
      expect(await dispatcher(bus).runOnce()).toBe(0)
    })

    it('handles each committed event once, with the payload and publish time, in a transaction that deletes its rows', async () => {
      const bus = newBus()
      const got: Array<Published<AllEvents, 'Moved'>> = []
      bus.afterCommit('Moved', 'mailer', async (tx, events) => {
        got.push(...events)
        await recording('mailer')(tx, events)
      })
      await publishMoved(bus, 1, 2, 3)
      clock.advance(5000)
      const d = dispatcher(bus)
      expect(await d.runOnce()).toBe(3)
      expect(got.map((e) => ({ type: e.type, payload: e.payload, publishedAt: e.publishedAt }))).toEqual(
        moved(1, 2, 3).map((payload) => ({ type: 'Moved', payload, publishedAt: T0 })),
      )
      expect(await effects('mailer')).toEqual([
        [1, 1],
        [2, 1],
        [3, 1],
      ])
      expect(await outboxRows()).toBe(0)
      expect(await d.runOnce()).toBe(0)
      expect(await effects('mailer')).toEqual([
        [1, 1],
        [2, 1],
        [3, 1],
      ])
    })

    it('two dispatchers on one database running at once handle each event exactly once', async () => {
      const bus = newBus()
      const calls: number[][] = []
      bus.afterCommit('Moved', 'shared', recording('shared', calls), { batch: 7 })
      const ns = Array.from({ length: 60 }, (_, i) => i + 1)
      await publishMoved(bus, ...ns)
      const [a, b] = await Promise.all([dispatcher(bus).runOnce(), dispatcher(bus).runOnce()])
      expect(a + b).toBe(60)
      expect(await effects('shared')).toEqual(ns.map((n) => [n, 1]))
      expect(calls.flat().sort((x, y) => x - y)).toEqual(ns)
      expect(calls.every((c) => c.length <= 7)).toBe(true)
      expect(await outboxRows()).toBe(0)
    })

    it('PostgreSQL: a second process skips the rows the first holds (SKIP LOCKED) and takes the rest', async () => {
      if (db.kind !== 'postgres') return // PGlite runs one transaction at a time: the test above covers it
      const bus = newBus()
      let release!: () => void
      const released = new Promise<void>((r) => (release = r))
      let holding!: () => void
      const held = new Promise<void>((r) => (holding = r))
      const byA: number[] = []
      const byB: number[] = []
      const busA = newBus()
      busA.afterCommit(
        'Moved',
        'shared',
        async (tx, events) => {
          byA.push(...events.map((e) => e.payload.n))
          await recording('shared')(tx, events)
          if (byA.length === events.length) {
            holding()
            await released // hold the first batch's row locks while B runs
          }
        },
        { batch: 5 },
      )
      const busB = newBus()
      busB.afterCommit(
        'Moved',
        'shared',
        async (tx, events) => {
          byB.push(...events.map((e) => e.payload.n))
          await recording('shared')(tx, events)
        },
        { batch: 5 },
      )
      bus.afterCommit('Moved', 'shared', recording('shared'))
      await publishMoved(bus, ...Array.from({ length: 20 }, (_, i) => i + 1))
      const a = dispatcher(busA).runOnce()
      await held
      expect(await dispatcher(busB).runOnce()).toBe(15)
      release()
      expect(await a).toBe(5)
      expect(byA).toEqual([1, 2, 3, 4, 5])
      expect(byB).toEqual(Array.from({ length: 15 }, (_, i) => i + 6))
      expect(await effects('shared')).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, 1]))
    })

    it("respects batch sizes (the subscription's, else the dispatcher's) and keeps publish order across publishes", async () => {
      const bus = newBus()
      const small: number[][] = []
      const dflt: number[][] = []
      bus.afterCommit('Moved', 'small', recording('small', small), { batch: 2 })
      bus.afterCommit('Moved', 'default', recording('default', dflt))
      await publishMoved(bus, 1, 2, 3)
      await publishMoved(bus, 4, 5)
      await publishMoved(bus, 6)
      expect(await dispatcher(bus, { batch: 4 }).runOnce()).toBe(12)
      expect(small).toEqual([
        [1, 2],
        [3, 4],
        [5, 6],
      ])
      expect(dflt).toEqual([
        [1, 2, 3, 4],
        [5, 6],
      ])
    })

    it('hands a subscriber to several types only the events of the type it registered for, one type per batch', async () => {
      const bus = newBus()
      const types: string[][] = []
      bus.afterCommit('Moved', 'audit', async (_tx, events) => {
        types.push(events.map((e) => `${e.type}${e.payload.n}`))
      })
      bus.afterCommit('Stopped', 'audit', async (_tx, events) => {
        types.push(events.map((e) => `${e.type}${e.payload.n}`))
      })
      await db.transaction(async (tx) => {
        await bus.publish(tx, 'Moved', moved(1))
        await bus.publish(tx, 'Stopped', [{ n: 2 }])
        await bus.publish(tx, 'Moved', moved(3))
      })
      expect(await dispatcher(bus).runOnce()).toBe(3)
      expect(types).toEqual([['Moved1', 'Moved3'], ['Stopped2']])
    })
  })

  describe('failures', () => {
    it('rolls a failed batch back, retries with exponential backoff by the injected clock (failed events alone), and the effect happens once', async () => {
      const bus = newBus()
      const calls: number[][] = []
      let broken = true
      const logged: string[] = []
      bus.afterCommit(
        'Moved',
        'flaky',
        recording('flaky', calls, (n) => broken && n === 3),
      )
      bus.afterCommit('Moved', 'healthy', recording('healthy'))
      await publishMoved(bus, 1, 2, 3, 4, 5)
      const d = dispatcher(bus, {
        baseBackoffMs: 1000,
        maxBackoffMs: 5000,
        failingAfter: 3,
        log: (msg) => logged.push(msg),
      })
      const due = async () =>
        (
          await db.query<{ n: number; attempts: number; next: Date; last_error: string | null }>(
            `select (payload->>'n')::int as n, attempts, next_attempt_at as next, last_error from outbox where subscriber = 'flaky' order by event_id`,
          )
        ).map((r) => ({ n: r.n, attempts: r.attempts, next: new Date(r.next).toISOString(), error: r.last_error }))
      const at = (ms: number) => new Date(new Date(T0).getTime() + ms).toISOString()

      // The batch of five fails: nothing of it stays written; the healthy subscriber is not held back.
      expect(await d.runOnce()).toBe(5)
      expect(calls).toEqual([[1, 2, 3, 4, 5]])
      expect(await effects('flaky')).toEqual([])
      expect(await effects('healthy')).toEqual([1, 2, 3, 4, 5].map((n) => [n, 1]))
      expect(await due()).toEqual(
        [1, 2, 3, 4, 5].map((n) => ({ n, attempts: 1, next: at(1000), error: 'cannot take 3' })),
      )
      expect(logged).toEqual([expect.stringMatching(/^outbox: flaky failed on Moved \(5 events from .+, attempt 1\)$/)])

      // Not due before its backoff.
      clock.advance(999)
      expect(await d.runOnce()).toBe(0)
      expect(calls).toHaveLength(1)

      // Due: each failed event is retried alone, so only 3 fails again (backoff doubles); the others go through.
      clock.advance(1)
      expect(await d.runOnce()).toBe(4)
      expect(calls.slice(1)).toEqual([[1], [2], [3], [4], [5]])
      expect(await effects('flaky')).toEqual([
        [1, 1],
        [2, 1],
        [4, 1],
        [5, 1],
      ])
      expect(await due()).toEqual([{ n: 3, attempts: 2, next: at(1000 + 2000), error: 'cannot take 3' }])

      // Attempt 3 reaches `failingAfter`: reported as failing; attempt 4's backoff (8 s) is capped at 5 s.
      clock.set(at(3000))
      expect(await d.runOnce()).toBe(0)
      expect(await due()).toEqual([{ n: 3, attempts: 3, next: at(3000 + 4000), error: 'cannot take 3' }])
      expect(logged.at(-1)).toMatch(/attempt 3\): failing, retried every 4000 ms$/)
      expect(await d.pending()).toEqual([
        {
          subscriber: 'flaky',
          type: 'Moved',
          pending: 1,
          failing: 1,
          oldestPublishedAt: T0,
          lastError: 'cannot take 3',
          subscribed: true,
        },
      ])
      clock.set(at(7000))
      expect(await d.runOnce()).toBe(0)
      expect(await due()).toEqual([{ n: 3, attempts: 4, next: at(7000 + 5000), error: 'cannot take 3' }])

      // Events published meanwhile are not held back by the poison one.
      await publishMoved(bus, 6)
      expect(await d.runOnce()).toBe(2) // 6 for both subscribers
      expect(await effects('flaky')).toEqual([
        [1, 1],
        [2, 1],
        [4, 1],
        [5, 1],
        [6, 1],
      ])

      // Fixed: the next due retry goes through, once.
      broken = false
      clock.set(at(12_000))
      expect(await d.runOnce()).toBe(1)
      expect(await effects('flaky')).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, 1]))
      expect(await effects('healthy')).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, 1]))
      expect(await outboxRows()).toBe(0)
      expect(await d.pending()).toEqual([])
    })

    it('leaves rows of subscribers (or types) no subscription handles, and reports them', async () => {
      const old = newBus()
      old.afterCommit('Moved', 'removed', recording('removed'))
      old.afterCommit('Stopped', 'kept', async () => {})
      old.afterCommit('Moved', 'kept', recording('kept'))
      await db.transaction(async (tx) => {
        await old.publish(tx, 'Moved', moved(1, 2))
        await old.publish(tx, 'Stopped', [{ n: 1 }])
      })
      // The code now: 'removed' is gone and 'kept' no longer takes Stopped.
      const bus = newBus()
      bus.afterCommit('Moved', 'kept', recording('kept'))
      const d = dispatcher(bus)
      expect(await d.runOnce()).toBe(2)
      expect(await effects('kept')).toEqual([
        [1, 1],
        [2, 1],
      ])
      expect(await outboxRows('removed')).toBe(2)
      expect(await outboxRows('kept')).toBe(1)
      expect(await d.pending()).toEqual([
        {
          subscriber: 'kept',
          type: 'Stopped',
          pending: 1,
          failing: 0,
          oldestPublishedAt: T0,
          lastError: null,
          subscribed: false,
        },
        {
          subscriber: 'removed',
          type: 'Moved',
          pending: 2,
          failing: 0,
          oldestPublishedAt: T0,
          lastError: null,
          subscribed: false,
        },
      ])
      expect(await outboxBacklog(db)).toHaveLength(2)
    })
  })

  describe('the dispatcher in the background', () => {
    it('start() runs rounds on its own; stop() waits for the running round to commit', async () => {
      const bus = newBus()
      let entered!: () => void
      const inHandler = new Promise<void>((r) => (entered = r))
      bus.afterCommit('Moved', 'background', async (tx, events) => {
        entered()
        await recording('background')(tx, events)
      })
      await publishMoved(bus, 1, 2)
      const d = dispatcher(bus, { intervalMs: 1 }).start()
      await inHandler
      await d.stop()
      expect(await effects('background')).toEqual([
        [1, 1],
        [2, 1],
      ])
      expect(await outboxRows()).toBe(0)
      // Stopped: a later publish stays queued, and runOnce does nothing.
      await publishMoved(bus, 3)
      expect(await d.runOnce()).toBe(0)
      expect(await outboxRows()).toBe(1)
    })
  })

  describe('registration', () => {
    it('lists subscriptions in registration order and refuses a subscriber twice on one type or a name that would not keep', () => {
      const bus = newBus()
      const noop = async () => {}
      bus.inTx('Moved', 'certificates', noop)
      bus.afterCommit('Moved', 'archives', noop)
      bus.afterCommit('Pinged', 'archives', noop)
      expect(bus.subscriptions()).toEqual([
        { type: 'Moved', subscriber: 'certificates', mode: 'inTx' },
        { type: 'Moved', subscriber: 'archives', mode: 'afterCommit' },
        { type: 'Pinged', subscriber: 'archives', mode: 'afterCommit' },
      ])
      expect(() => bus.afterCommit('Moved', 'certificates', noop)).toThrow('certificates already subscribes to Moved')
      expect(() => bus.inTx('Moved', 'Bad Name', noop)).toThrow(/subscriber name/)
      expect(() => bus.afterCommit('Stopped', 'x', noop, { batch: 0 })).toThrow(/batch/)
    })

    it('a module publishes through Publisher<its events> and cannot publish or subscribe wrongly (type-checked)', async () => {
      const bus = newBus()
      const seen: string[] = []
      bus.inTx('Pinged', 'pinger', async (_tx, events) => {
        seen.push(...events.map((e) => e.payload.at))
      })
      // The bus of all events serves a module that knows only its own.
      const publisher: Publisher<OtherEvents> = bus
      await db.transaction((tx) => publisher.publish(tx, 'Pinged', [{ at: T0 }]))
      // Never called: what the compiler refuses (`npx tsc` checks this file).
      const refused = async (tx: Tx) => {
        // @ts-expect-error: not an event of OtherEvents
        await publisher.publish(tx, 'Moved', [])
        // @ts-expect-error: wrong payload
        await publisher.publish(tx, 'Pinged', [{ n: 1 }])
        // @ts-expect-error: unknown event type
        bus.inTx('Nope', 'x', async () => {})
        // @ts-expect-error: the handler's payload type is the event's
        bus.afterCommit('Pinged', 'x', recording('x'))
      }
      expect(typeof refused).toBe('function')
      expect(seen).toEqual([T0])
    })
  })
})
