/**
 * Declaration intake benchmark: starts `kouan serve` as a child process (PGlite in a fresh temp dir, or the
 * PostgreSQL server of DATABASE_URL), registers enterprises and port cards over HTTP, pre-signs
 * declarations, then submits them with concurrency: single submissions (group-committed by the server)
 * and the batch endpoint. Prints one JSON object as its last line. Cleared declarations are archived off the
 * intake transaction, by the server's outbox dispatcher (subscriber `archives` of DeclarationCleared, every
 * KOUAN_OUTBOX_DISPATCH_MS): after each phase the benchmark waits until the server has archived every declaration
 * cleared so far (`kouan_archives_created_total`) and reports how long that took after the last answer
 * (`archiveLagMs`), so archiving that falls behind shows, and the server's CPU time per declaration of each
 * phase up to then (`…ServerCpuMsPerDecl`, from /proc: steadier than rates on a shared machine).
 *
 *   npm run bench:declarations                 # PGlite
 *   DATABASE_URL=postgres://… npm run bench:declarations
 *   BENCH_N=20000 BENCH_CONCURRENCY=64 BENCH_BATCH=200 BENCH_MODES=single,batch …
 *   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   # node flags for the server process
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir, cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import { jsonClient, waitForHealth } from './http.js'
import { ed25519, signPayload } from '../src/shared/signing.js'
import { withUsccCheck } from '../src/shared/uscc.js'
import type { DeclarationContent, SubmitDeclaration } from '../src/modules/declarations/schema.js'

const N = Number(process.env.BENCH_N ?? 20_000)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64)
const BATCH = Number(process.env.BENCH_BATCH ?? 200)
const BATCH_INFLIGHT = Number(process.env.BENCH_BATCH_INFLIGHT ?? 4)
const MODES = (process.env.BENCH_MODES ?? 'single,batch').split(',')
const ENTERPRISES = 20
const PORT = 20_000 + (process.pid % 20_000)
const CLI = join(import.meta.dirname, '..', 'src', 'cli.js')
const dbKind = process.env.DATABASE_URL ? 'postgres' : 'pglite'

const dataDir = mkdtempSync(join(tmpdir(), 'kouan-bench-'))
const metricsToken = `bench-metrics-${process.pid}-${Date.now()}`
const env = {
  ...process.env,
  KOUAN_DATA_DIR: dataDir,
  PORT: String(PORT),
  KOUAN_LOG_LEVEL: 'warn',
  KOUAN_SIMULATE: 'false',
  KOUAN_METRICS_TOKEN: metricsToken,
}
const adminPassword = 'bench-' + process.pid

/** CPU time (user + system) the process has used so far, in ms. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100
}

function rssPeakMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Math.round(Number(m[1]) / 1024) : -1
}

/** Archives the server has created so far (null: a server without the counter). */
async function archivesCreated(pool: Pool): Promise<number | null> {
  const res = await pool.request({
    method: 'GET',
    path: '/metrics',
    headers: { authorization: `Bearer ${metricsToken}` },
  })
  const m = /^kouan_archives_created_total (\d+)/m.exec(await res.body.text())
  return m ? Number(m[1]) : null
}

/** Milliseconds until the server has archived `cleared` declarations, polled every 20 ms (null: no counter; -1: not within 120 s). */
async function archiveLag(pool: Pool, cleared: number): Promise<number | null> {
  const t = performance.now()
  for (;;) {
    const n = await archivesCreated(pool)
    if (n === null) return null
    if (n >= cleared) return Math.round(performance.now() - t)
    if (performance.now() - t > 120_000) return -1
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function main() {
  const loadAtStart = loadavg()[0]!
  execFileSync(process.execPath, [CLI, 'user', 'add', 'bench-admin', '--role', 'admin', '--password', adminPassword], {
    env,
    stdio: 'ignore',
  })
  const server: ChildProcess = spawn(
    process.execPath,
    [...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), CLI, 'serve'],
    { env, stdio: ['ignore', 'inherit', 'inherit'] },
  )
  const pool = new Pool(`http://127.0.0.1:${PORT}`, { connections: CONCURRENCY, pipelining: 1 })
  try {
    const call = jsonClient(pool)
    await waitForHealth(call)
    const admin = (await call('POST', '/api/v1/auth/login', { username: 'bench-admin', password: adminPassword })).json
      .token as string

    // Setup: enterprises with one card each, logged in by challenge–response.
    const ops: Array<{ code: string; cardNo: string; privateKey: string; token: string }> = []
    for (let e = 0; e < ENTERPRISES; e++) {
      const code = `5301B${String(process.pid % 1000).padStart(3, '0')}${String(e).padStart(2, '0')}`
      const uscc = withUsccCheck(
        `91440300MA5${String(process.pid % 1e4).padStart(4, '0')}${String(e).padStart(2, '0')}`,
      )
      const ent = await call(
        'POST',
        '/api/v1/enterprises',
        {
          uscc,
          customsCode: code,
          name: `Bench ${e}`,
          creditLevel: e % 5 === 0 ? 'ADVANCED_CERTIFIED' : 'REGULAR',
          registeredDistrict: '5300',
        },
        admin,
      )
      if (ent.status !== 201) throw new Error(JSON.stringify(ent.json))
      const keys = ed25519.generate()
      const card = await call(
        'POST',
        '/api/v1/cards',
        { enterpriseId: ent.json.id, operatorName: `op${e}`, publicKey: keys.publicKey },
        admin,
      )
      const ch = await call('POST', '/api/v1/auth/challenge', { cardNo: card.json.cardNo })
      const login = await call('POST', '/api/v1/auth/card-login', {
        challengeId: ch.json.challengeId,
        signature: ed25519.sign(keys.privateKey, Buffer.from(ch.json.challenge)),
      })
      ops.push({ code, cardNo: card.json.cardNo, privateKey: keys.privateKey, token: login.json.token })
    }

    const hs = [
      ['0808100000', '035', '1.25'],
      ['8517130000', '001', '300.5'],
      ['6109100000', '011', '3.2'],
      ['3304990000', '035', '40'],
      ['0207142200', '035', '2.1'],
    ] as const
    const make = (i: number): { op: (typeof ops)[number]; body: SubmitDeclaration } => {
      const op = ops[i % ops.length]!
      const [code, unit, price] = hs[i % hs.length]!
      const qty = 100 + (i % 900)
      const content: DeclarationContent = {
        clientRef: `B${process.pid}-${i}`,
        ieFlag: 'I',
        customsDistrict: '5301',
        iePort: '5302',
        tradeMode: '0110',
        transportMode: '2',
        transactionTerms: '1',
        currency: 'USD',
        traderCode: op.code,
        declarantCode: op.code,
        tradeCountry: 'USA',
        billNo: `BL${i}`,
        packages: 1 + (i % 50),
        grossMassKg: String(qty + 10),
        netMassKg: String(qty),
        items: [
          {
            hsCode: code,
            description: 'bench goods',
            quantity: String(qty),
            unit,
            unitPrice: price,
            totalValue: (qty * Number(price)).toFixed(2),
            originCountry: 'USA',
          },
        ],
      }
      return {
        op,
        body: {
          ...content,
          signature: { cardNo: op.cardNo, alg: 'Ed25519', value: signPayload(op.privateKey, content) },
        },
      }
    }
    const singles = MODES.includes('single') ? Array.from({ length: N }, (_, i) => make(i)) : []
    const batches = MODES.includes('batch') ? Array.from({ length: N }, (_, i) => make(N + i)) : []

    // Single submissions, CONCURRENCY in flight.
    const lat: number[] = []
    let failures = 0
    let cleared = 0
    let next = 0
    const cpu0 = cpuMs(server.pid!)
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < singles.length) {
          const { op, body } = singles[next++]!
          const s = performance.now()
          const r = await call('POST', '/api/v1/declarations', body, op.token)
          lat.push(performance.now() - s)
          if (r.status !== 201) failures++
          else if (r.json.state === 'CLEARED') cleared++
        }
      }),
    )
    const singleSec = (performance.now() - t0) / 1000
    const singleArchiveLagMs = singles.length ? await archiveLag(pool, cleared) : null
    // Server CPU per declaration, archiving included (up to the moment every cleared one is archived).
    const singleCpuMs = singles.length ? (cpuMs(server.pid!) - cpu0) / N : null

    // Batch endpoint: BATCH declarations per request, a few requests in flight (one enterprise per batch).
    const byOp = new Map<string, Array<(typeof batches)[number]>>()
    for (const b of batches) byOp.set(b.op.code, [...(byOp.get(b.op.code) ?? []), b])
    const requests: Array<{ token: string; bodies: SubmitDeclaration[] }> = []
    for (const list of byOp.values())
      for (let i = 0; i < list.length; i += BATCH)
        requests.push({ token: list[0]!.op.token, bodies: list.slice(i, i + BATCH).map((x) => x.body) })
    let bnext = 0
    let batchFailures = 0
    const cpu1 = cpuMs(server.pid!)
    const t1 = performance.now()
    await Promise.all(
      Array.from({ length: BATCH_INFLIGHT }, async () => {
        while (bnext < requests.length) {
          const r = requests[bnext++]!
          const res = await call('POST', '/api/v1/declarations/batch', { declarations: r.bodies }, r.token)
          if (res.status !== 200) batchFailures += r.bodies.length
          else {
            batchFailures += res.json.failed
            cleared += res.json.results.filter(
              (x: { declaration?: { state: string } }) => x.declaration?.state === 'CLEARED',
            ).length
          }
        }
      }),
    )
    const batchSec = (performance.now() - t1) / 1000
    const batchArchiveLagMs = batches.length ? await archiveLag(pool, cleared) : null
    const batchCpuMs = batches.length ? (cpuMs(server.pid!) - cpu1) / N : null

    lat.sort((a, b) => a - b)
    const pct = (p: number) =>
      lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! * 10) / 10 : null
    const result = {
      declarationsPerSec: singles.length ? Math.round(N / singleSec) : null,
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      db: dbKind,
      singleArchiveLagMs,
      singleServerCpuMsPerDecl: singleCpuMs === null ? null : Math.round(singleCpuMs * 1000) / 1000,
      batchDeclarationsPerSec: batches.length ? Math.round(N / batchSec) : null,
      batchArchiveLagMs,
      batchServerCpuMsPerDecl: batchCpuMs === null ? null : Math.round(batchCpuMs * 1000) / 1000,
      cleared,
      batchSize: BATCH,
      n: N,
      concurrency: CONCURRENCY,
      failures: failures + batchFailures,
      serverPeakRssMb: rssPeakMb(server.pid!),
      load1: [loadAtStart, loadavg()[0]!].map((x) => Math.round(x * 100) / 100),
      machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
      date: new Date().toISOString(),
    }
    console.log(JSON.stringify(result))
  } finally {
    await pool.close()
    server.kill('SIGTERM')
    await new Promise((r) => server.once('exit', r))
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
