import { sweepArchives, type Deps } from './service.js'

/** Rows archived between two VACUUMs of the queue on PGlite (which has no autovacuum). */
const VACUUM_EVERY = 10_000

/**
 * The server's archive sweep: `everyMs` after the previous run ended, archives everything queued, in batches of
 * `SWEEP_BATCH` per transaction, so a declaration is archived within about `everyMs` of its clearance. Every
 * process may run one on the same PostgreSQL (rows are taken with SKIP LOCKED); what a process left queued when it
 * stopped is archived by the next run of any. `stop()` lets the running batch finish (the server awaits it on close).
 */
export class ArchiveSweeper {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private sinceVacuum = 0

  private readonly vacuumEvery: number

  constructor(private readonly deps: Deps, private readonly everyMs: number, private readonly onError: (err: unknown) => void, o: { vacuumEvery?: number } = {}) {
    this.vacuumEvery = o.vacuumEvery ?? VACUUM_EVERY
  }

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

  private async run() {
    this.sinceVacuum += await sweepArchives(this.deps, { stop: () => this.stopped })
    // Taken rows are deleted; PGlite never vacuums, so the queue would keep every dead row. Once it is empty
    // again, a VACUUM gives the space back (PostgreSQL's autovacuum does this there).
    if (this.sinceVacuum >= this.vacuumEvery && this.deps.db.kind === 'pglite' && !this.stopped) {
      this.sinceVacuum = 0
      await this.deps.db.query('vacuum archive_queue')
    }
  }

  /** Stops the timer and waits for a running sweep to finish its batch. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }
}
