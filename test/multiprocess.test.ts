import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../src/modules/auth/service.js'
import { ed25519, signPayload } from '../src/shared/signing.js'
import { fixedClock, systemIds } from '../src/shared/clock.js'
import { verifyAudit } from '../src/shared/audit.js'
import { freshDb, countRows } from './db.js'
import { randomCustomsCode, randomUscc } from './factories.js'
import type { Db } from '../src/db/index.js'

const ROOT = join(import.meta.dirname, '..')
const onPostgres = !!process.env.DATABASE_URL

/** Two `kouan serve` processes on one PostgreSQL database, hit at the same time. */
describe.skipIf(!onPostgres)('two server processes on one PostgreSQL', () => {
  let db: Db
  let drop: () => Promise<void>
  const servers: ChildProcess[] = []
  const urls: string[] = []

  beforeAll(async () => {
    const fresh = await freshDb()
    db = fresh.db
    drop = fresh.drop
    await createUser(db, fixedClock('2026-01-01T00:00:00Z'), systemIds, {
      username: 'mp-admin',
      password: 'mp-admin-pw',
      role: 'admin',
    })
    for (let i = 0; i < 2; i++) {
      const port = 31_000 + (process.pid % 1000) * 2 + i
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'serve'], {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: fresh.url,
          PORT: String(port),
          KOUAN_LOG_LEVEL: 'warn',
          KOUAN_DB_POOL: '8',
        },
        stdio: 'inherit',
      })
      servers.push(child)
      urls.push(`http://127.0.0.1:${port}`)
    }
    for (const url of urls) {
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`${url}/api/v1/health`)).ok) break
        } catch {
          /* starting */
        }
        if (i > 600) throw new Error(`${url} did not start`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }, 120_000)

  afterAll(async () => {
    for (const s of servers) s.kill('SIGTERM')
    await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once('exit', r)))))
    await drop?.()
  })

  const call = async (url: string, path: string, body: unknown, token?: string) => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })
    return { status: res.status, json: (await res.json()) as Record<string, unknown> }
  }

  it('never hands out the same entry number and never duplicates a resubmission', async () => {
    const [a, b] = urls as [string, string]
    const admin = (await call(a, '/api/v1/auth/login', { username: 'mp-admin', password: 'mp-admin-pw' })).json
      .token as string
    const code = randomCustomsCode()
    const ent = await call(
      a,
      '/api/v1/enterprises',
      { uscc: randomUscc(), customsCode: code, name: 'Two Process Trading', registeredDistrict: '5300' },
      admin,
    )
    expect(ent.status).toBe(201)
    const keys = ed25519.generate()
    const card = (
      await call(
        b,
        '/api/v1/cards',
        { enterpriseId: ent.json.id, operatorName: 'Wang', publicKey: keys.publicKey },
        admin,
      )
    ).json
    const tokens: string[] = []
    for (const url of urls) {
      const ch = (await call(url, '/api/v1/auth/challenge', { cardNo: card.cardNo })).json
      tokens.push(
        (
          await call(url, '/api/v1/auth/card-login', {
            challengeId: ch.challengeId,
            signature: ed25519.sign(keys.privateKey, Buffer.from(ch.challenge as string)),
          })
        ).json.token as string,
      )
    }
    const body = (ref: string) => {
      const content = {
        clientRef: ref,
        ieFlag: 'I',
        customsDistrict: '5301',
        iePort: '5302',
        tradeMode: '0110',
        transportMode: '2',
        transactionTerms: '1',
        currency: 'USD',
        traderCode: code,
        declarantCode: code,
        tradeCountry: 'USA',
        packages: 3,
        grossMassKg: '110',
        netMassKg: '100',
        items: [
          {
            hsCode: '0808100000',
            description: 'apples',
            quantity: '100',
            unit: '035',
            unitPrice: '1.5',
            totalValue: '150.00',
            originCountry: 'USA',
          },
        ],
      }
      return {
        ...content,
        signature: { cardNo: card.cardNo, alg: 'Ed25519', value: signPayload(keys.privateKey, content) },
      }
    }
    // 300 references, each sent to both processes at once, plus 300 more to one or the other.
    const shared = Array.from({ length: 300 }, (_, i) => body(`SHARED-${i}`))
    const own = Array.from({ length: 300 }, (_, i) => body(`OWN-${i}`))
    const responses = await Promise.all([
      ...shared.flatMap((d) => [
        call(a, '/api/v1/declarations', d, tokens[0]),
        call(b, '/api/v1/declarations', d, tokens[1]),
      ]),
      ...own.map((d, i) => call(i % 2 ? a : b, '/api/v1/declarations', d, tokens[i % 2 ? 0 : 1])),
    ])
    expect(responses.every((r) => r.status === 201 || r.status === 200)).toBe(true)
    // Both processes answered each shared reference with the same declaration.
    for (let i = 0; i < shared.length; i++) expect(responses[2 * i]!.json.id).toBe(responses[2 * i + 1]!.json.id)
    expect(responses.filter((r) => r.status === 201)).toHaveLength(600)
    expect(await countRows(db, 'declarations')).toBe(600)
    const [dupes] = await db.query<{ n: number }>(
      'select count(*)::int as n from (select entry_id from declarations group by entry_id having count(*) > 1) x',
    )
    expect(dupes!.n).toBe(0)
    expect(await countRows(db, 'declarations', 'entry_id is null')).toBe(0)
    // The servers' outbox dispatchers go on archiving (appending audit events) after the answers; the walk reads heads
    // first, so let them finish (an outbox row goes with the transaction that archives it).
    for (let i = 0; (await countRows(db, 'outbox', `subscriber = 'archives'`)) > 0; i++) {
      if (i > 600) throw new Error('the outbox dispatchers did not archive everything')
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(await countRows(db, 'archives')).toBe(await countRows(db, 'declarations', `state = 'CLEARED'`))
    expect((await verifyAudit(db)).problems).toEqual([])
  }, 120_000)
})

const childrenOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** `kouan serve --workers N`: N processes on one port and one PostgreSQL, stopped together. */
describe('kouan serve --workers', () => {
  it('refuses more than one worker on the embedded database', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'serve', '--workers', '2'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: '', KOUAN_DATA_DIR: join(ROOT, 'data-never-created'), PORT: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString()
    })
    const code = await new Promise((r) => child.once('exit', r))
    expect(code).toBe(2)
    expect(stderr).toMatch(/needs PostgreSQL \(DATABASE_URL\)/)
  }, 60_000)

  it.skipIf(!onPostgres)(
    'runs two API processes on one port and stops them together',
    async () => {
      const fresh = await freshDb()
      const port = 33_000 + (process.pid % 1000)
      const primary = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'serve', '--workers', '2'],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            DATABASE_URL: fresh.url,
            PORT: String(port),
            KOUAN_LOG_LEVEL: 'warn',
            KOUAN_DB_POOL: '4',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      )
      let stdout = ''
      primary.stdout!.on('data', (b: Buffer) => {
        stdout += b.toString()
      })
      try {
        for (let i = 0; !stdout.includes('with 2 workers'); i++) {
          if (i > 600 || primary.exitCode !== null) throw new Error(`cluster did not start: ${stdout}`)
          await new Promise((r) => setTimeout(r, 100))
        }
        const workers = childrenOf(primary.pid!)
        expect(workers).toHaveLength(2)
        const health = await Promise.all(
          Array.from({ length: 20 }, async () => (await fetch(`http://127.0.0.1:${port}/api/v1/health`)).status),
        )
        expect(health.every((s) => s === 200)).toBe(true)
        const exited = new Promise((r) => primary.once('exit', r))
        primary.kill('SIGTERM')
        expect(await exited).toBe(0)
        for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow()
      } finally {
        if (primary.exitCode === null) primary.kill('SIGKILL')
        await fresh.drop()
      }
    },
    120_000,
  )
})
