import { sweepArchives, type Deps } from './service.js'

/**
 * The server's archive sweep: `everyMs` after the previous run ended, archives everything queued, in batches of
 * `sweepBatch` per transaction (100 on PGlite, 500 on PostgreSQL), so a declaration is archived within about `everyMs` of its clearance. Every
 * process may run one on the same PostgreSQL (rows are taken with SKIP LOCKED); what a process left queued when it
 * stopped is archived by the next run of any. `stop()` lets the running batch finish (the server awaits it on close).
 */
export class ArchiveSweeper {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false

  constructor(private readonly deps: Deps, private readonly everyMs: number, private readonly onError: (err: unknown) => void) {}

  start(): this {
    if (this.everyMs > 0 && !this.stopped) this.schedule()
    return this
  }

  private schedule() {
    this.timer = setTimeout(() => {
      this.running = this.run().catch(this.onError).finally(() => {
        this.running = undefined
        if (!this.stopped) this.schedule()
      })
    }, this.everyMs)
    this.timer.unref()
  }

  // Taken rows are deleted: the queue's dead rows are vacuumed by autovacuum (PostgreSQL) or the PGlite adapter's upkeep.
  private async run() {
    await sweepArchives(this.deps, { stop: () => this.stopped })
  }

  /** Stops the timer and waits for a running sweep to finish its batch. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }
}
