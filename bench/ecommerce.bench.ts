/**
 * CEB retail-import benchmark (三单对碰 end to end): starts `kouan serve` as a child process (PGlite in a fresh temp
 * dir, or the PostgreSQL server of DATABASE_URL), registers the five parties of a ticket (ebp, ebc, pay, logistics,
 * agent) with one port card each, generates N tickets with the generator, and sends them as signed XML messages of
 * several documents each from concurrent senders: each party its own message type, the arrival order shuffled across
 * types. Then it waits until every ticket has a verdict (GET /api/v1/ceb/stats). A random sample of tickets is polled
 * (GET /api/v1/ceb/orders/:orderNo/receipts) from the moment all four documents are acknowledged until the inventory
 * verdict receipt (100/300/500/800) shows, for the verdict latency: `p99VerdictMs` = receipt createdAt − client-side
 * acknowledgement of the ticket's last document; `p99ObservedVerdictMs` = when the client first saw the receipt −
 * that acknowledgement (an upper bound: it includes the polling interval). Before the server starts it measures the raw ceiling of the same database: inserting 4·N
 * rows shaped like ceb_documents, one jsonb_to_recordset insert per batch.
 *
 * Progress goes to stderr every 5 s; the last line on stdout is one JSON object.
 *
 *   npm run bench:ecommerce                    # PGlite
 *   DATABASE_URL=postgres://… npm run bench:ecommerce
 *   DATABASE_URL=postgres://… BENCH_WORKERS=2 npm run bench:ecommerce   # two API processes (kouan serve --workers 2)
 *   BENCH_TICKETS=2000 BENCH_HEADS=200 BENCH_SENDERS=8 BENCH_DEFECT_RATE=0.05 BENCH_SAMPLE=500 BENCH_POLL_CONNECTIONS=64 BENCH_SEED=1 BENCH_WORKERS=1 …
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir, cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import { jsonClient, waitForHealth } from './http.js'
import { openDb, type Db } from '../src/db/index.js'
import { migrate } from '../src/db/migrate.js'
import { seededRandom } from '../src/shared/clock.js'
import { canonicalJson, ed25519, sha256Hex } from '../src/shared/signing.js'
import { withUsccCheck } from '../src/shared/uscc.js'
import {
  SUPPORTED_DEFECTS,
  baseTransferFor,
  generateTicket,
  ticketDocuments,
  toMessageXml,
  type GeneratedTicket,
  type Parties,
} from '../src/modules/ecommerce/generator.js'
import { docKey } from '../src/modules/ecommerce/keys.js'
import type { CebDocuments, CebMessageType } from '../src/modules/ecommerce/types.js'
import { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from '../src/modules/ecommerce/xml.js'

const num = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt)
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`)
  return v
}
const N = Math.floor(num('BENCH_TICKETS', 20_000))
const HEADS = Math.max(1, Math.floor(num('BENCH_HEADS', 200)))
const SENDERS = Math.max(1, Math.floor(num('BENCH_SENDERS', 8)))
const DEFECT_RATE = num('BENCH_DEFECT_RATE', 0.05)
const SAMPLE = Math.min(N, Math.floor(num('BENCH_SAMPLE', 500)))
const POLL_CONNECTIONS = Math.max(1, Math.floor(num('BENCH_POLL_CONNECTIONS', 64)))
const SEED = Math.floor(num('BENCH_SEED', 1))
const TIMEOUT_MS = num('BENCH_TIMEOUT_S', 3600) * 1000
const PORT = 20_000 + (process.pid % 20_000)
const CLI = join(import.meta.dirname, '..', 'src', 'cli.js')
const dbKind: 'pglite' | 'postgres' = process.env.DATABASE_URL ? 'postgres' : 'pglite'
const TYPES: CebMessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621']
/** Inventory receipt statuses that are a verdict: returned, manual review, inspection, released. */
const VERDICTS = new Set([100, 300, 500, 800])

const dataDir = mkdtempSync(join(tmpdir(), 'kouan-bench-ceb-'))
// API processes (kouan serve --workers): more than one needs PostgreSQL.
const WORKERS = Math.max(1, Math.floor(num('BENCH_WORKERS', 1)))
if (WORKERS > 1 && dbKind !== 'postgres') throw new Error('BENCH_WORKERS above 1 needs DATABASE_URL')
const env = {
  ...process.env,
  KOUAN_DATA_DIR: dataDir,
  PORT: String(PORT),
  KOUAN_LOG_LEVEL: 'warn',
  KOUAN_SIMULATE: 'false',
  KOUAN_WORKERS: String(WORKERS),
}
const adminPassword = 'bench-' + process.pid
const log = (m: string) => process.stderr.write(`[ceb bench] ${m}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The server process and, with --workers, its worker processes. */
function serverPids(pid: number): number[] {
  try {
    return [
      pid,
      ...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    ]
  } catch {
    return [pid]
  }
}

/** A process's command name and CPU seconds (user + system) so far, from /proc (clock ticks of 1/100 s). */
function procCpu(pid: number | string): { comm: string; sec: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const close = stat.lastIndexOf(') ')
    const f = stat.slice(close + 2).split(' ')
    return { comm: stat.slice(stat.indexOf('(') + 1, close), sec: (Number(f[11]) + Number(f[12])) / 100 }
  } catch {
    return undefined // exited
  }
}

/** CPU seconds the server processes have used so far. */
function cpuSec(pid: number): number {
  return serverPids(pid).reduce((sum, p) => sum + (procCpu(p)?.sec ?? 0), 0)
}

/**
 * CPU seconds of every PostgreSQL process on this machine, per pid (for a local server; empty for PGlite, which
 * runs inside the API process, or a remote one).
 */
function postgresCpu(): Map<number, number> {
  const out = new Map<number, number>()
  if (dbKind !== 'postgres') return out
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    const p = procCpu(d)
    if (p?.comm === 'postgres') out.set(Number(d), p.sec)
  }
  return out
}

/** Peak resident memory of the largest server process, in MB. */
function rssPeakMb(pid: number): number {
  let peak = -1
  for (const p of serverPids(pid)) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))
      if (m) peak = Math.max(peak, Math.round(Number(m[1]) / 1024))
    } catch {
      /* exited */
    }
  }
  return peak
}

function shuffle<T>(xs: T[], rng: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[xs[i], xs[j]] = [xs[j]!, xs[i]!]
  }
  return xs
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : null

// ---------------------------------------------------------------------------------------------------------------
// Raw ceiling: the same database, no server, just the document inserts.

async function rawCeiling(tickets: GeneratedTicket[]): Promise<number> {
  const rawDir = dbKind === 'pglite' ? mkdtempSync(join(tmpdir(), 'kouan-bench-raw-')) : undefined
  const db: Db = await openDb({
    databaseUrl: process.env.DATABASE_URL,
    dataDir: rawDir ?? dataDir,
    dbPoolSize: SENDERS,
  })
  const table = `bench_raw_ceb_${process.pid}`
  try {
    await migrate(db)
    await db.exec(`drop table if exists ${table}; create table ${table} (like ceb_documents including all)`)
    // Batches as the server writes them: per message type, HEADS documents, one insert each; serialised up front.
    const batches: Array<{ type: CebMessageType; json: string }> = []
    const at = new Date().toISOString()
    for (const type of TYPES) {
      for (let i = 0; i < tickets.length; i += HEADS) {
        const rows = tickets.slice(i, i + HEADS).map((t) => {
          const d = ticketDocuments(t)[type] as CebDocuments[CebMessageType]
          return {
            doc_key: docKey(type, d),
            order_no: d.head.orderNo,
            guid: d.head.guid,
            content_hash: sha256Hex(canonicalJson(d)),
            version: 1,
            deleted: false,
            body: d,
          }
        })
        batches.push({ type, json: JSON.stringify(rows) })
      }
    }
    let next = 0
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next < batches.length) {
          const b = batches[next++]!
          await db.query(
            `insert into ${table} (type, doc_key, order_no, guid, content_hash, version, deleted, sender, card_no, body, received_at, updated_at)
           select $1, doc_key, order_no, guid, content_hash, version, deleted, $2, $3, body, $4, $4
           from jsonb_to_recordset($5::jsonb) as x(doc_key text, order_no text, guid text, content_hash text, version int, deleted boolean, body jsonb)`,
            [b.type, 'BENCHRAW00', 'CARDRAW', at, b.json],
          )
        }
      }),
    )
    const sec = (performance.now() - t0) / 1000
    return Math.round((4 * tickets.length) / sec)
  } finally {
    await db.exec(`drop table if exists ${table}`).catch(() => {})
    await db.close()
    if (rawDir) rmSync(rawDir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface Party {
  role: keyof Parties
  code: string
  cardNo: string
  privateKey: string
  token: string
}
interface Message {
  type: CebMessageType
  party: Party
  xml: string
  signature: string
  tickets: number[]
}

async function main() {
  const runTag = (process.pid % 1_000_000).toString(36).toUpperCase()
  const codeOf = (role: string) => `B${String(process.pid % 1_000_000).padStart(6, '0')}${role}`
  const parties: Parties = {
    ebp: codeOf('EBP'),
    ebc: codeOf('EBC'),
    pay: codeOf('PAY'),
    logistics: codeOf('LOG'),
    agent: codeOf('AGT'),
    area: codeOf('WHS'),
  }

  // Tickets: mostly bonded, some direct, a few with a planted defect (they get 100).
  let t = performance.now()
  const rng = seededRandom(SEED)
  let defects = 0
  const tickets = Array.from({ length: N }, (_, index) => {
    const defect = rng() < DEFECT_RATE ? SUPPORTED_DEFECTS[Math.floor(rng() * SUPPORTED_DEFECTS.length)]! : null
    if (defect) defects++
    return generateTicket(rng, { index, parties, prefix: runTag, mode: rng() < 0.7 ? '1210' : '9610', defect })
  })
  log(`generated ${N} tickets (${defects} with a planted defect) in ${Math.round(performance.now() - t)} ms`)

  t = performance.now()
  const rawInsertRowsPerSec = await rawCeiling(tickets)
  log(
    `raw ceiling (${dbKind}): ${rawInsertRowsPerSec} ceb_documents rows/s in batches of ${HEADS} (${Math.round(performance.now() - t)} ms)`,
  )

  execFileSync(process.execPath, [CLI, 'user', 'add', 'bench-admin', '--role', 'admin', '--password', adminPassword], {
    env,
    stdio: 'ignore',
  })
  const server: ChildProcess = spawn(
    process.execPath,
    [...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), CLI, 'serve'],
    { env, stdio: ['ignore', 'inherit', 'inherit'] },
  )
  const pool = new Pool(`http://127.0.0.1:${PORT}`, {
    connections: SENDERS + 4,
    pipelining: 1,
    bodyTimeout: 600_000,
    headersTimeout: 600_000,
  })
  const pollPool = new Pool(`http://127.0.0.1:${PORT}`, {
    connections: POLL_CONNECTIONS,
    pipelining: 1,
    bodyTimeout: 600_000,
    headersTimeout: 600_000,
  })
  let progress: NodeJS.Timeout | undefined
  try {
    const call = jsonClient(pool)
    await waitForHealth(call)
    const admin = (await call('POST', '/api/v1/auth/login', { username: 'bench-admin', password: adminPassword })).json
      .token as string

    // The five parties, one port card each, logged in by challenge–response.
    const byRole = {} as Record<keyof Parties, Party>
    let e = 0
    for (const role of ['ebp', 'ebc', 'pay', 'logistics', 'agent'] as const) {
      const code = parties[role]!
      const uscc = withUsccCheck(
        `91440300MA5${String(process.pid % 1e4).padStart(4, '0')}${String(e++).padStart(2, '0')}`,
      )
      const ent = await call(
        'POST',
        '/api/v1/enterprises',
        { uscc, customsCode: code, name: `CEB bench ${role}`, registeredDistrict: '6400' },
        admin,
      )
      if (ent.status !== 201) throw new Error(`enterprise ${code}: ${JSON.stringify(ent.json)}`)
      const keys = ed25519.generate()
      const card = await call(
        'POST',
        '/api/v1/cards',
        { enterpriseId: ent.json.id, operatorName: `bench ${role}`, publicKey: keys.publicKey },
        admin,
      )
      if (card.status !== 201) throw new Error(`card ${code}: ${JSON.stringify(card.json)}`)
      const ch = await call('POST', '/api/v1/auth/challenge', { cardNo: card.json.cardNo })
      const login = await call('POST', '/api/v1/auth/card-login', {
        challengeId: ch.json.challengeId,
        signature: ed25519.sign(keys.privateKey, Buffer.from(ch.json.challenge)),
      })
      if (login.status !== 200) throw new Error(`card login ${code}: ${JSON.stringify(login.json)}`)
      byRole[role] = { role, code, cardNo: card.json.cardNo, privateKey: keys.privateKey, token: login.json.token }
    }

    // Messages: HEADS documents each, per type in index order; orders alternate between platform and e-shop.
    t = performance.now()
    const messages: Message[] = []
    for (const type of TYPES) {
      for (let i = 0, chunk = 0; i < N; i += HEADS, chunk++) {
        const party =
          type === 'CEB311'
            ? byRole[chunk % 2 ? 'ebc' : 'ebp']
            : type === 'CEB411'
              ? byRole.pay
              : type === 'CEB511'
                ? byRole.logistics
                : byRole.agent
        const slice = tickets.slice(i, i + HEADS)
        const xml = toMessageXml(
          type,
          slice.map((x) => ticketDocuments(x)[type]),
          baseTransferFor(party.code, `CEB bench ${party.role}`),
        )
        const parsed = parseCebXml(xml)
        if (!parsed.ok)
          throw new Error(`generated ${type} message does not parse: ${JSON.stringify(parsed.problems.slice(0, 3))}`)
        messages.push({
          type,
          party,
          xml,
          signature: xmlSignatureHeader(party.cardNo, party.privateKey, parsed.message),
          tickets: slice.map((_, k) => i + k),
        })
      }
    }
    shuffle(messages, seededRandom(SEED + 1))
    const bytes = messages.reduce((s, m) => s + Buffer.byteLength(m.xml), 0)
    log(
      `built and signed ${messages.length} messages (${Math.round(bytes / 2 ** 20)} MiB of XML) in ${Math.round(performance.now() - t)} ms`,
    )

    const stats = async () => {
      const r = await call('GET', '/api/v1/ceb/stats', undefined, admin)
      if (r.status !== 200) throw new Error(`stats: ${r.status} ${JSON.stringify(r.json)}`)
      const by = r.json.byStatus as Array<{ returnStatus: number; tickets: number }>
      return {
        all: by.reduce((s, x) => s + x.tickets, 0),
        incomplete: by.find((x) => x.returnStatus === 2)?.tickets ?? 0,
        byStatus: by,
      }
    }
    const before = await stats()
    const baseline = before.all - before.incomplete

    // Send: SENDERS concurrent senders, shuffled arrival; record per ticket the ack time of its last document.
    const lastAck = new Float64Array(N)
    const acks = new Uint8Array(N)
    const sample = shuffle(
      Array.from({ length: N }, (_, i) => i),
      seededRandom(SEED + 2),
    ).slice(0, SAMPLE)
    const sampled = new Set(sample)
    const polling: Array<Promise<void>> = []
    const seen = new Map<number, { createdAt: number; seenAt: number }>()
    let stop = false
    let polls = 0
    const pollRtt: number[] = []
    let sent = 0
    let ackedDocs = 0
    let failures = 0
    let refusedDocs = 0
    let verdicts = 0
    let next = 0
    const tStart = Date.now()
    const serverCpu0 = cpuSec(server.pid!)
    const dbCpu0 = postgresCpu()
    const clientCpu0 = process.cpuUsage()
    progress = setInterval(() => {
      log(
        `${Math.round((Date.now() - tStart) / 1000)} s: sent ${sent}/${messages.length} messages, ${ackedDocs} documents acknowledged, ${verdicts}/${N} tickets with a verdict, server RSS peak ${rssPeakMb(server.pid!)} MB`,
      )
    }, 5000)
    // A sampled ticket is polled as soon as all four of its documents are acknowledged, every 50 ms, until its inventory
    // verdict shows (own connections, so polls do not queue behind messages on the client side). Two latencies per
    // ticket: the receipt's createdAt (server clock) and when the client first saw it.
    const pollSample = async (i: number) => {
      const path = `/api/v1/ceb/orders/${encodeURIComponent(tickets[i]!.order.head.orderNo)}/receipts`
      while (!stop) {
        const sentAt = Date.now()
        const res = await pollPool.request({ method: 'GET', path, headers: { authorization: `Bearer ${admin}` } })
        const body = (await res.body.json()) as {
          items: Array<{ type: string; returnStatus: number; createdAt: string }>
        }
        const now = Date.now()
        polls++
        pollRtt.push(now - sentAt)
        const v = body.items.find((x) => x.type === 'CEB621' && VERDICTS.has(x.returnStatus))
        if (v) {
          seen.set(i, { createdAt: Date.parse(v.createdAt), seenAt: now })
          return
        }
        await sleep(50)
      }
    }
    const sending = Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next < messages.length) {
          const m = messages[next++]!
          const res = await pool.request({
            method: 'POST',
            path: '/api/v1/ceb/messages',
            body: m.xml,
            headers: {
              'content-type': 'application/xml',
              authorization: `Bearer ${m.party.token}`,
              [SIGNATURE_HEADER]: m.signature,
            },
          })
          const text = await res.body.text()
          const ack = Date.now()
          sent++
          if (res.statusCode !== 200) {
            failures++
            if (failures <= 5) log(`${m.type} message refused: ${res.statusCode} ${text.slice(0, 300)}`)
            continue
          }
          const receipts = (JSON.parse(text) as { receipts: Array<{ returnStatus: number }> }).receipts
          ackedDocs += receipts.length
          refusedDocs += receipts.filter((r) => r.returnStatus !== 2).length
          for (const i of m.tickets) {
            if (ack > lastAck[i]!) lastAck[i] = ack
            if (++acks[i]! === 4 && sampled.has(i)) polling.push(pollSample(i))
          }
        }
      }),
    )

    // Wait for every ticket's verdict.
    let done = false
    let tEnd = 0
    let last = before
    void sending.then(() => {
      done = true
    })
    for (;;) {
      last = await stats()
      verdicts = last.all - last.incomplete - baseline
      if (verdicts >= N) {
        tEnd = Date.now()
        break
      }
      if (Date.now() - tStart > TIMEOUT_MS) break
      await sleep(done ? 250 : 1000)
    }
    const serverCpu = cpuSec(server.pid!) - serverCpu0
    const dbCpu = [...postgresCpu()].reduce((sum, [pid, sec]) => sum + sec - (dbCpu0.get(pid) ?? 0), 0)
    const clientCpu = process.cpuUsage(clientCpu0)
    await sending
    clearInterval(progress)
    const complete = verdicts >= N
    const elapsed = ((complete ? tEnd : Date.now()) - tStart) / 1000
    log(
      `${complete ? 'all' : 'NOT all'} ${N} tickets have a verdict after ${elapsed.toFixed(1)} s: ${JSON.stringify(last.byStatus)}`,
    )
    // Every verdict is in: the last pending samples show on their next poll.
    const deadline = Date.now() + 30_000
    while (complete && seen.size < sample.length && Date.now() < deadline) await sleep(100)
    stop = true
    await Promise.all(polling)
    const missing = sample.length - seen.size
    // Matching starts in the server right after intake commits, so a verdict receipt can be stamped before the
    // sender has the acknowledgement in hand: 0 then means "ready at acknowledgement".
    const byReceipt = [...seen].map(([i, x]) => Math.max(0, x.createdAt - lastAck[i]!)).sort((a, b) => a - b)
    const byClient = [...seen].map(([i, x]) => x.seenAt - lastAck[i]!).sort((a, b) => a - b)

    const ticketsPerSec = N / elapsed
    const result = {
      ticketsPerMinute: Math.round(ticketsPerSec * 60),
      p99VerdictMs: percentile(byReceipt, 0.99),
      db: dbKind,
      tickets: N,
      headsPerMessage: HEADS,
      workers: WORKERS,
      serverPeakRssMb: rssPeakMb(server.pid!),
      // CPU used while sending and matching (database server not included): how far from 2 cores' worth.
      serverCpuSec: Math.round(serverCpu * 10) / 10,
      clientCpuSec: Math.round(((clientCpu.user + clientCpu.system) / 1e6) * 10) / 10,
      // Local PostgreSQL processes (null for PGlite, which counts in serverCpuSec).
      dbCpuSec: dbKind === 'postgres' ? Math.round(dbCpu * 10) / 10 : null,
      // Milliseconds of CPU per ticket, all processes of the run: what bounds tickets/min on this machine's cores.
      cpuMsPerTicket: Math.round(((serverCpu + (clientCpu.user + clientCpu.system) / 1e6 + dbCpu) / N) * 1e6) / 1e3,
      rawInsertRowsPerSec,
      shareOfRawCeiling: Math.round(((4 * ticketsPerSec) / rawInsertRowsPerSec) * 1000) / 1000,
      machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
      date: new Date().toISOString(),
      p50VerdictMs: percentile(byReceipt, 0.5),
      // As the client sees it: first poll showing the verdict − ack (includes the polling interval).
      p99ObservedVerdictMs: percentile(byClient, 0.99),
      p50ObservedVerdictMs: percentile(byClient, 0.5),
      latencySample: seen.size,
      samplePolls: polls,
      // Round trip of one receipts GET during the run: how much of the observed latency is the poll itself.
      p50PollMs: percentile(
        pollRtt.sort((a, b) => a - b),
        0.5,
      ),
      p99PollMs: percentile(pollRtt, 0.99),
      senders: SENDERS,
      messages: messages.length,
      failedMessages: failures,
      refusedDocuments: refusedDocs,
      missingSamples: missing,
      plantedDefects: defects,
      byStatus: last.byStatus,
      complete,
    }
    console.log(JSON.stringify(result))
    if (!complete || failures > 0) process.exitCode = 1
  } finally {
    if (progress) clearInterval(progress)
    await pool.close()
    await pollPool.close()
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r))
      server.kill('SIGTERM')
      await exited
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
