import type { Queryable } from '../../db/index.js'
import * as repo from './repo.js'
import type { StreamEvent } from './schema.js'

/** A connected stream: `enterpriseId` limits it to that enterprise's appointments (operators); null sees all. */
export interface FeedSubscriber {
  enterpriseId: string | null
  send(event: StreamEvent): void
}

/**
 * The appointments live stream of this process: while someone is connected, reads the changes recorded since the last
 * look (`appointment_history`, written by whichever process made the change) every `intervalMs`, and hands each to the
 * subscribers allowed to see it. Nothing runs while no one is connected.
 */
export class AppointmentFeed {
  private readonly subs = new Set<FeedSubscriber>()
  private timer: NodeJS.Timeout | undefined
  private last: number | undefined
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
    this.last ??= await repo.lastChange(this.db)
  }

  tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        if (this.last === undefined) {
          await this.start()
          return
        }
        for (;;) {
          const rows = await repo.changesSince(this.db, this.last, 500)
          for (const r of rows) {
            this.last = r.seq
            const { seq: _seq, ...event } = r
            for (const s of this.subs) if (s.enterpriseId === null || s.enterpriseId === r.enterpriseId) s.send(event)
          }
          if (rows.length < 500) break
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
  }
}
