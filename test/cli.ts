import { spawn } from 'node:child_process'
import { join } from 'node:path'

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts')

type Ran = { code: number | null; out: string; err: string }

/** Runs `kouan …args` from the sources in a process of its own (quiet log), with `env` on top of this one's. */
export function cli(env: Record<string, string>, ...args: string[]): Promise<Ran> {
  return run(env, args)
}

/**
 * Runs a long-lived `kouan …args` (a server) as {@link cli} does and stops it (SIGTERM) once its standard output
 * matches `until`.
 */
export function cliUntil(env: Record<string, string>, until: RegExp, ...args: string[]): Promise<Ran> {
  return run(env, args, until)
}

function run(env: Record<string, string>, args: string[], until?: RegExp): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { ...process.env, KOUAN_LOG_LEVEL: 'silent', ...env },
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (b) => {
      out += b
      if (until?.test(out)) child.kill('SIGTERM')
    })
    child.stderr.on('data', (b) => {
      err += b
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out, err }))
  })
}
