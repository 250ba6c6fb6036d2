import { spawn } from 'node:child_process'
import { join } from 'node:path'

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts')

/** Runs `kouan …args` from the sources in a process of its own (quiet log), with `env` on top of this one's. */
export function cli(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { ...process.env, KOUAN_LOG_LEVEL: 'silent', ...env },
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (b) => {
      out += b
    })
    child.stderr.on('data', (b) => {
      err += b
    })
    child.on('close', (code) => resolve({ code, out, err }))
  })
}
