import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliUntil } from '../test/cli.js'
import { loadConfig, prettyLogs } from './config.js'

/** Starts `kouan serve` on a spare port with `env` and returns its standard output up to the listening line. */
async function serveUntilListening(env: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kouan-logs-'))
  try {
    const all = { KOUAN_DATA_DIR: join(dir, 'data'), PORT: '0', KOUAN_LOG_LEVEL: 'info', ...env }
    return (await cliUntil(all, /Server listening/, 'serve')).out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('log lines', () => {
  it('are for a person on a terminal and JSON otherwise, unless KOUAN_LOG_FORMAT says which', () => {
    const auto = loadConfig({}, {})
    expect(auto.logFormat).toBe('auto')
    expect(prettyLogs(auto, true)).toBe(true)
    expect(prettyLogs(auto, false)).toBe(false)
    expect(prettyLogs(loadConfig({ KOUAN_LOG_FORMAT: 'json' }, {}), true)).toBe(false)
    expect(prettyLogs(loadConfig({ KOUAN_LOG_FORMAT: 'pretty' }, {}), false)).toBe(true)
  })

  it('prints readable lines with KOUAN_LOG_FORMAT=pretty, and one JSON object a line when piped', async () => {
    const pretty = await serveUntilListening({ KOUAN_LOG_FORMAT: 'pretty' })
    expect(pretty).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*Server listening at http:\/\/127\.0\.0\.1:\d+/m)
    expect(pretty).not.toMatch(/^\{"level"/m)
    // Piped (as here) and left to `auto`: JSON, as log collectors expect.
    const piped = await serveUntilListening({})
    const line = piped.split('\n').find((l) => l.includes('Server listening'))!
    expect(JSON.parse(line)).toMatchObject({
      level: 30,
      msg: expect.stringMatching(/^Server listening at http:\/\/127\.0\.0\.1:\d+$/),
    })
  }, 120_000)
})
