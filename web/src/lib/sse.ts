/** One server-sent event (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseEvent {
  event: string
  data: string
}

/**
 * Incremental text/event-stream parser: feed it chunks as they arrive (they may split lines or events
 * anywhere); it returns the events completed by each chunk. Comments and unknown fields are ignored;
 * `retry` is kept for the reconnect delay.
 */
export class SseParser {
  private buf = ''
  private event = ''
  private data: string[] = []
  retryMs: number | undefined

  push(chunk: string): SseEvent[] {
    this.buf += chunk
    const out: SseEvent[] = []
    let i: number
    while ((i = this.buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buf.slice(0, i)
      this.buf = this.buf.slice(i + (this.buf.startsWith('\r\n', i) ? 2 : 1))
      if (line === '') {
        if (this.data.length) out.push({ event: this.event || 'message', data: this.data.join('\n') })
        this.event = ''
        this.data = []
        continue
      }
      if (line.startsWith(':')) continue
      const c = line.indexOf(':')
      const field = c < 0 ? line : line.slice(0, c)
      const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '')
      if (field === 'event') this.event = value
      else if (field === 'data') this.data.push(value)
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value)
    }
    return out
  }
}
