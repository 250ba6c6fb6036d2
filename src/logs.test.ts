import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, prettyLogs } from './config.js'

/** Starts `kouan serve` on a spare port with `env` and collects its standard output until `until` matches it. */
function serveUntil(env: Record<string, string>, until: RegExp): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kouan-logs-'))
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'cli.ts'), 'serve'], {
    env: { ...process.env, KOUAN_DATA_DIR: join(dir, 'data'), PORT: '0', KOUAN_LOG_LEVEL: 'info', ...env },
  })
  let out = ''
  return new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (b) => {
      out += b
      if (until.test(out)) child.kill('SIGTERM')
    })
    child.on('error', reject)
    child.on('close', () => {
      rmSync(dir, { recursive: true, force: true })
      resolve(out)
    })
  })
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
    const pretty = await serveUntil({ KOUAN_LOG_FORMAT: 'pretty' }, /Server listening/)
    expect(pretty).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*Server listening at http:\/\/127\.0\.0\.1:\d+/m)
    expect(pretty).not.toMatch(/^\{"level"/m)
    // Piped (as here) and left to `auto`: JSON, as log collectors expect.
    const piped = await serveUntil({}, /Server listening/)
    const line = piped.split('\n').find((l) => l.includes('Server listening'))!
    expect(JSON.parse(line)).toMatchObject({
      level: 30,
      msg: expect.stringMatching(/^Server listening at http:\/\/127\.0\.0\.1:\d+$/),
    })
  }, 120_000)
})
