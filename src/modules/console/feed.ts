/** A subscriber of the dashboard stream: gets each snapshot as serialized JSON; `end` closes its connection. */
export interface Subscriber {
  send(json: string): void
  end(): void
}

/**
 * Computes the dashboard snapshot once per interval for all connected streams of this process, and only
 * while at least one is connected: N screens cost one set of queries, none cost nothing. A new subscriber
 * gets the latest snapshot at once if it is younger than {@link STALE_MS} (its `at` says how old; a fresh
 * one follows right away when it is older than the interval), otherwise the first one computed for it.
 */
/** Oldest snapshot a new screen is shown first (a screen opened again soon paints at once). */
export const STALE_MS = 30_000

export class DashboardFeed {
  private readonly subs = new Set<Subscriber>()
  private timer: NodeJS.Timeout | undefined
  private last: { at: number; json: string } | undefined
  private running: Promise<void> | undefined

  constructor(
    private readonly build: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  get subscribers(): number {
    return this.subs.size
  }

  subscribe(s: Subscriber): () => void {
    this.subs.add(s)
    const age = this.last ? this.now() - this.last.at : Infinity
    if (age < STALE_MS) s.send(this.last!.json)
    if (age >= this.intervalMs) void this.tick()
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs)
      this.timer.unref()
    }
    return () => {
      this.subs.delete(s)
      if (this.subs.size === 0 && this.timer) {
        clearInterval(this.timer)
        this.timer = undefined
      }
    }
  }

  /** One snapshot for everyone; a tick that finds the previous one still running joins it instead of piling up. */
  tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        const json = JSON.stringify(await this.build())
        this.last = { at: this.now(), json }
        for (const s of this.subs) s.send(json)
      } catch (err) {
        this.onError(err)
      } finally {
        this.running = undefined
      }
    })()
    return this.running
  }

  /** Ends every stream (server shutdown). */
  close() {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    for (const s of this.subs) s.end()
    this.subs.clear()
  }
}
