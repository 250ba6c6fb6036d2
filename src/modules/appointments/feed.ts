import type { Queryable } from '../../db/index.js'
import * as repo from './repo.js'
import type { StreamEvent } from './schema.js'

/** A connected stream: `enterpriseId` limits it to that enterprise's appointments (operators); null sees all. */
export interface FeedSubscriber {
  enterpriseId: string | null
  send(event: StreamEvent): void
}

/**
 * How far behind the newest row seen a look starts again: on PostgreSQL, identity values are taken when rows are
 * inserted, not when they commit, so a change may become visible after one with a higher id; re-reading this many
 * ids back (and skipping those already sent) catches it.
 */
export const LATE_WINDOW = 256

/**
 * The appointments live stream of this process: while someone is connected, reads the changes recorded since the last
 * look (`appointment_history`, written by whichever process made the change) every `intervalMs`, and hands each to the
 * subscribers allowed to see it. Nothing runs while no one is connected.
 */
export class AppointmentFeed {
  private readonly subs = new Set<FeedSubscriber>()
  private timer: NodeJS.Timeout | undefined
  private last: number | undefined
  /** Ids sent within the late window. */
  private readonly sent = new Set<number>()
  private running: Promise<void> | undefined

  constructor(
    private readonly db: Queryable,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  get subscribers(): number {
    return this.subs.size
  }

  subscribe(s: FeedSubscriber): () => void {
    this.subs.add(s)
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs)
      this.timer.unref()
    }
    return () => {
      this.subs.delete(s)
      if (this.subs.size === 0) this.close()
    }
  }

  /** Starts from the newest change, so a new stream gets what happens from now on. */
  async start(): Promise<void> {
    if (this.last !== undefined) return
    this.last = await repo.lastChange(this.db)
    // What is already there was before this stream: not news.
    const from = Math.max(0, this.last - LATE_WINDOW)
    for (const r of await repo.changesSince(this.db, from, LATE_WINDOW)) this.sent.add(r.seq)
  }

  tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        if (this.last === undefined) {
          await this.start()
          return
        }
        for (;;) {
          const from = Math.max(0, this.last - LATE_WINDOW)
          const all = await repo.changesSince(this.db, from, 500 + LATE_WINDOW)
          const rows = all.filter((r) => !this.sent.has(r.seq))
          for (const r of rows) {
            this.last = Math.max(this.last, r.seq)
            this.sent.add(r.seq)
            const { seq: _seq, ...event } = r
            for (const s of this.subs) if (s.enterpriseId === null || s.enterpriseId === r.enterpriseId) s.send(event)
          }
          for (const id of this.sent) if (id <= this.last - LATE_WINDOW) this.sent.delete(id)
          if (all.length < 500 + LATE_WINDOW) break
        }
      } catch (err) {
        this.onError(err)
      } finally {
        this.running = undefined
      }
    })()
    return this.running
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.last = undefined
    this.sent.clear()
  }
}
