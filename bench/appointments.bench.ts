/**
 * Appointment booking benchmark (issue 14): concurrent clients book clearance slots over real HTTP against the real
 * app (`buildApp` + `app.listen` on a free port, in this process) on PGlite in a fresh temporary directory, or a fresh
 * database (dropped at the end) on the PostgreSQL server of DATABASE_URL. Prints one JSON object as its last line.
 *
 * Setup (not measured): an officer, `BENCH_ENTERPRISES` enterprises with a port card each (card login), and
 * `BENCH_SLOTS` night slots (20:00–06:00 China time, two and three days ahead, at four sites) whose capacity is set to
 * `BENCH_CAPACITY` (PUT /appointment-slots). Then `BENCH_CLIENTS` clients (200), each on its own keep-alive
 * connection and an enterprise's session, book `BENCH_PER_CLIENT` times: PERISHABLE, a slot drawn at random from the
 * set (seeded), no flexible hours, so that more bookings arrive than the slots hold and the later ones are refused
 * with 409 SLOT_FULL. Each client waits a random think time (exponential, mean `BENCH_THINK_MS`) between its bookings;
 * `BENCH_THINK_MS=0` makes every client send its next booking as soon as the last is answered (saturation: latency is
 * then mostly queueing behind the other 199). A burst phase follows: all clients send one booking at the same
 * instant into fresh slots (`burst*`).
 *
 * `oversold` is computed from the database: slots whose bookings holding them (PENDING, ACCEPTED, HELD) exceed the
 * capacity, or whose `booked` counter disagrees with them. It must be 0, as must `unexpected` (answers other than 201
 * and 409 SLOT_FULL).
 *
 *   npm run bench:appointments
 *   BENCH_CLIENTS=200 BENCH_PER_CLIENT=10 BENCH_THINK_MS=5000 BENCH_SLOTS=40 BENCH_CAPACITY=10 npm run bench:appointments
 *   DATABASE_URL=postgres://… npm run bench:appointments
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { Pool } from 'undici'
import { jsonClient } from './http.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openDb } from '../src/db/index.js'
import { migrate } from '../src/db/migrate.js'
import { seededRandom, systemClock, systemIds } from '../src/shared/clock.js'
import { ed25519 } from '../src/shared/signing.js'
import { withUsccCheck } from '../src/shared/uscc.js'
import { createUser } from '../src/modules/auth/service.js'
import { ensureArchivePartitions } from '../src/modules/archives/service.js'

const num = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt)
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`)
  return v
}
const CLIENTS = Math.max(1, Math.floor(num('BENCH_CLIENTS', 200)))
const PER_CLIENT = Math.max(1, Math.floor(num('BENCH_PER_CLIENT', 10)))
const THINK_MS = num('BENCH_THINK_MS', 5000)
const ENTERPRISES = Math.max(1, Math.min(999, Math.floor(num('BENCH_ENTERPRISES', 50))))
const SLOTS = Math.max(1, Math.min(80, Math.floor(num('BENCH_SLOTS', 40))))
const CAPACITY = Math.floor(num('BENCH_CAPACITY', 10))
const SEED = Math.floor(num('BENCH_SEED', 1))
const WARMUP = 50
const dbKind = process.env.DATABASE_URL ? 'postgres' : 'pglite'
const SITES = ['5301', '2201', '3104', '5101']
const NIGHT = [20, 21, 22, 23, 0, 1, 2, 3, 4, 5]
const log = (m: string) => process.stderr.write(`[appointments bench] ${m}\n`)

const chinaDate = (at: Date, days: number) =>
  new Date(at.getTime() + 8 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10)

const pct = (sorted: number[], p: number) =>
  sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! * 100) / 100 : null

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'kouan-bench-apt-'))
  // PostgreSQL: a database of its own, dropped at the end, so every run starts from empty slots.
  const server = process.env.DATABASE_URL
    ? postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} })
    : undefined
  const scratch = `kouan_bench_apt_${process.pid}`
  let databaseUrl: string | undefined
  if (server) {
    await server.unsafe(`create database ${scratch}`)
    const u = new URL(process.env.DATABASE_URL!)
    u.pathname = `/${scratch}`
    databaseUrl = u.toString()
  }
  const config = loadConfig(process.env, {
    dataDir,
    logLevel: 'silent',
    cebMatching: false,
    port: 0,
    ...(databaseUrl ? { databaseUrl } : {}),
  })
  const db = await openDb(config)
  await migrate(db)
  await ensureArchivePartitions(db, new Date())
  for (const table of ['declarations', 'declaration_items', 'audit_log'])
    await db.query(`select ensure_year_partitions($1, $2, $2 + 1)`, [table, new Date().getUTCFullYear()])
  const app = await buildApp(config, { db, clock: systemClock, ids: systemIds })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const pool = new Pool(address, { connections: CLIENTS + 4, pipelining: 1 })
  const http = jsonClient(pool)
  const must = async (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, token?: string) => {
    const r = await http(method, path, body, token)
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`)
    return r.json
  }
  try {
    // --- Setup ---------------------------------------------------------------------------------------------
    const tag = `${process.pid % 100000}`
    const login = async (username: string, role: 'admin' | 'officer') => {
      await createUser(db, systemClock, systemIds, { username, password: `${username}-password`, role })
      return (await must('POST', '/api/v1/auth/login', { username, password: `${username}-password` })).token as string
    }
    const admin = await login(`bench-admin-${tag}`, 'admin')
    const officer = await login(`bench-officer-${tag}`, 'officer')
    const operators: Array<{ code: string; token: string }> = []
    for (let i = 0; i < ENTERPRISES; i++) {
      const code = `53${tag.padStart(5, '0').slice(-5)}${String(i).padStart(3, '0')}`
      const ent = await must(
        'POST',
        '/api/v1/enterprises',
        {
          uscc: withUsccCheck(`91440300MA${tag.padStart(4, '0').slice(-4)}${String(i).padStart(3, '0')}`),
          customsCode: code,
          name: `深圳鲜品进口有限公司 ${i}`,
          registeredDistrict: '5300',
        },
        admin,
      )
      const keys = ed25519.generate()
      const card = await must(
        'POST',
        '/api/v1/cards',
        { enterpriseId: ent.id, operatorName: `bench ${i}`, publicKey: keys.publicKey },
        admin,
      )
      const ch = await must('POST', '/api/v1/auth/challenge', { cardNo: card.cardNo })
      const token = (
        await must('POST', '/api/v1/auth/card-login', {
          challengeId: ch.challengeId,
          signature: ed25519.sign(keys.privateKey, Buffer.from(ch.challenge)),
        })
      ).token as string
      operators.push({ code, token })
    }
    // Slots: night hours two and three China days ahead (always beyond the 24 h lead time), at four sites.
    const now = new Date()
    const all: Array<{ site: string; date: string; hour: number }> = []
    for (const day of [2, 3])
      for (const site of SITES) for (const hour of NIGHT) all.push({ site, date: chinaDate(now, day), hour })
    const slots = all.slice(0, SLOTS)
    const burstSlots = all.slice(SLOTS, SLOTS + 4)
    const warmSlot = { site: SITES[0]!, date: chinaDate(now, 4), hour: 22 }
    const setCapacity = async (s: { site: string; date: string; hour: number }, capacity: number) =>
      must('PUT', '/api/v1/appointment-slots', { site: s.site, date: s.date, hours: [s.hour], capacity }, officer)
    for (const s of slots) await setCapacity(s, CAPACITY)
    for (const s of burstSlots) await setCapacity(s, CAPACITY)
    await setCapacity(warmSlot, 1000)

    let ref = 0
    const book = (op: { code: string; token: string }, s: { site: string; date: string; hour: number }) =>
      http(
        'POST',
        '/api/v1/appointments',
        {
          clientRef: `B${tag}-${++ref}`,
          enterpriseCode: op.code,
          contactName: '陈静',
          contactMobile: '13800138000',
          service: 'CLEARANCE',
          category: 'PERISHABLE',
          site: s.site,
          iePort: s.site,
          ieFlag: 'I',
          goods: [{ name: '鲜榴莲 Fresh durians', hsCode: '08106000' }],
          transportMode: '4',
          date: s.date,
          hour: s.hour,
          reason: '冷链生鲜夜间到港',
        },
        op.token,
      )
    const opOf = (i: number) => operators[i % operators.length]!
    const unexpected: string[] = []
    const tally = (r: { status: number; json: { code?: string } }, counts: { accepted: number; full: number }) => {
      if (r.status === 201) counts.accepted++
      else if (r.status === 409 && r.json?.code === 'SLOT_FULL') counts.full++
      else if (unexpected.push(`${r.status} ${r.json?.code}`) > 50) throw new Error(`unexpected answers: ${unexpected}`)
    }

    // Warm-up (not counted): JIT, statement caches, the pool's connections.
    await Promise.all(Array.from({ length: WARMUP }, (_, i) => book(opOf(i), warmSlot)))
    log(`${operators.length} enterprises, ${slots.length} slots of ${CAPACITY}; ${CLIENTS} clients × ${PER_CLIENT}`)

    // --- Steady phase: CLIENTS clients, each booking PER_CLIENT times with a think time ---------------------
    const rng = seededRandom(SEED)
    const plan = Array.from({ length: CLIENTS }, () =>
      Array.from({ length: PER_CLIENT }, () => ({
        slot: slots[Math.floor(rng() * slots.length)]!,
        think: THINK_MS > 0 ? -Math.log(1 - rng()) * THINK_MS : 0,
      })),
    )
    const latencies: number[] = []
    const steady = { accepted: 0, full: 0 }
    const t0 = performance.now()
    await Promise.all(
      plan.map(async (steps, c) => {
        // Clients start spread over one think time, as independent users would.
        if (THINK_MS > 0) await new Promise((r) => setTimeout(r, rng() * THINK_MS))
        for (const step of steps) {
          const s = performance.now()
          const r = await book(opOf(c), step.slot)
          latencies.push(performance.now() - s)
          tally(r, steady)
          if (step.think > 0) await new Promise((res) => setTimeout(res, step.think))
        }
      }),
    )
    const elapsed = (performance.now() - t0) / 1000

    // --- Burst: every client at the same instant, into fresh slots ------------------------------------------
    const burst: number[] = []
    const burstCounts = { accepted: 0, full: 0 }
    const tb = performance.now()
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const s = performance.now()
        const r = await book(opOf(c), burstSlots[c % burstSlots.length]!)
        burst.push(performance.now() - s)
        tally(r, burstCounts)
      }),
    )
    const burstSec = (performance.now() - tb) / 1000

    // --- From the database: oversold slots and the bookings written ----------------------------------------
    const [over] = await db.query<{ n: number }>(
      `select count(*)::int as n from (
         select s.site, s.starts_at
           from appointment_slots s
           left join appointments a on a.site = s.site and a.slot_start = s.starts_at
             and a.status in ('PENDING', 'ACCEPTED', 'HELD')
          group by s.site, s.starts_at, s.capacity, s.booked
         having count(a.id) > s.capacity or count(a.id) <> s.booked) x`,
    )
    const [rows] = await db.query<{ n: number }>(`select count(*)::int as n from appointments`)
    const written = rows!.n - WARMUP
    if (written !== steady.accepted + burstCounts.accepted)
      throw new Error(`${written} bookings written, ${steady.accepted + burstCounts.accepted} answered 201`)

    latencies.sort((a, b) => a - b)
    burst.sort((a, b) => a - b)
    console.log(
      JSON.stringify({
        p50Ms: pct(latencies, 0.5),
        p95Ms: pct(latencies, 0.95),
        p99Ms: pct(latencies, 0.99),
        maxMs: pct(latencies, 1),
        throughputPerSec: Math.round((latencies.length / elapsed) * 10) / 10,
        requests: latencies.length,
        accepted: steady.accepted,
        slotFull: steady.full,
        oversold: over!.n,
        unexpected: unexpected.length,
        capacityTotal: slots.length * CAPACITY,
        burstP50Ms: pct(burst, 0.5),
        burstP99Ms: pct(burst, 0.99),
        burstThroughputPerSec: Math.round((burst.length / burstSec) * 10) / 10,
        burstAccepted: burstCounts.accepted,
        burstSlotFull: burstCounts.full,
        clients: CLIENTS,
        perClient: PER_CLIENT,
        thinkMs: THINK_MS,
        slots: slots.length,
        capacity: CAPACITY,
        db: dbKind,
        machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`,
        date: new Date().toISOString(),
      }),
    )
  } finally {
    await pool.close()
    await app.close()
    await db.close()
    rmSync(dataDir, { recursive: true, force: true })
    if (server) {
      await server.unsafe(`drop database if exists ${scratch} with (force)`)
      await server.end()
    }
  }
}

await main()
