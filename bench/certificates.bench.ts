/**
 * Certificate benchmark: issuance on release and public verification, in one process through the real app
 * (`buildApp` + `inject`: routing, validation, auth, SQL, audit), on PGlite in a fresh temporary directory or the
 * PostgreSQL server of DATABASE_URL. Prints one JSON object as its last line.
 *
 * - issue: an officer records a compliant result on a RED-lane import of frozen chicken feet, which releases it
 *   (and closes it: general trade) and issues the certificate in the same transaction; then the certificate is
 *   looked up and its A4 PDF with the QR code rendered. `issueP99Ms` is that whole path, from the release request
 *   to the PDF bytes; `releaseP99Ms` the release request alone (with the signed record), `pdfP99Ms` the PDF request.
 * - verify: `POST /api/v1/certificates/verify` with the tokens of the certificates issued, in random order.
 *
 *   npm run bench:certificates
 *   BENCH_N=500 BENCH_VERIFY_N=5000 DATABASE_URL=postgres://… npm run bench:certificates
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openDb } from '../src/db/index.js'
import { migrate } from '../src/db/migrate.js'
import { seededRandom, systemClock, systemIds } from '../src/shared/clock.js'
import { ed25519, signPayload } from '../src/shared/signing.js'
import { withUsccCheck } from '../src/shared/uscc.js'
import { createUser } from '../src/modules/auth/service.js'
import { DEFAULT_PARAMS } from '../src/modules/selectivity/engine.js'
import { ensureArchivePartitions } from '../src/modules/archives/service.js'
import type { DeclarationContent } from '../src/modules/declarations/schema.js'

const N = Number(process.env.BENCH_N ?? 300)
const WARMUP = 20
const VERIFY_N = Number(process.env.BENCH_VERIFY_N ?? 3000)
const dbKind = process.env.DATABASE_URL ? 'postgres' : 'pglite'

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'kouan-bench-cert-'))
  const config = loadConfig(process.env, {
    dataDir,
    logLevel: 'silent',
    cebMatching: false,
    verifyRateLimit: 1_000_000,
  })
  const db = await openDb(config)
  await migrate(db)
  await ensureArchivePartitions(db, new Date())
  for (const table of ['declarations', 'declaration_items', 'audit_log'])
    await db.query(`select ensure_year_partitions($1, $2, $2 + 1)`, [table, new Date().getUTCFullYear()])
  const app = await buildApp(config, { db, clock: systemClock, ids: systemIds })
  try {
    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, token?: string, payload?: unknown) => {
      const res = await app.inject({
        method,
        url,
        ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
        ...(payload !== undefined ? { payload: payload as object } : {}),
      })
      if (res.statusCode >= 400) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
      return res
    }
    const login = async (username: string, role: 'admin' | 'officer') => {
      await createUser(db, systemClock, systemIds, { username, password: `${username}-password`, role })
      return (
        await call('POST', '/api/v1/auth/login', undefined, { username, password: `${username}-password` })
      ).json().token as string
    }
    const tag = `${process.pid % 100000}`
    const admin = await login(`bench-admin-${tag}`, 'admin')
    const officer = await login(`bench-officer-${tag}`, 'officer')
    const officer2 = await login(`bench-officer2-${tag}`, 'officer')
    await call('PUT', '/api/v1/selectivity/params', admin, {
      params: { ...DEFAULT_PARAMS, minRandomRate: 0, explorationRate: 0 },
    })
    const rule = (
      await call('POST', '/api/v1/selectivity/rules', officer, {
        name: `poultry-${tag}`,
        conditions: [{ field: 'hsCode', op: 'prefix', value: '0207' }],
        action: { lane: 'RED' },
      })
    ).json()
    await call('POST', `/api/v1/selectivity/rules/${rule.id}/activate`, officer2)

    const code = `5301C${tag.padStart(5, '0')}`
    const ent = (
      await call('POST', '/api/v1/enterprises', admin, {
        uscc: withUsccCheck(`91440300MA5${tag.padStart(6, '0')}`),
        customsCode: code,
        name: '深圳市口岸冻品贸易有限公司',
        registeredDistrict: '5300',
      })
    ).json()
    const keys = ed25519.generate()
    const card = (
      await call('POST', '/api/v1/cards', admin, {
        enterpriseId: ent.id,
        operatorName: 'bench',
        publicKey: keys.publicKey,
      })
    ).json()
    const ch = (await call('POST', '/api/v1/auth/challenge', undefined, { cardNo: card.cardNo })).json()
    const operator = (
      await call('POST', '/api/v1/auth/card-login', undefined, {
        challengeId: ch.challengeId,
        signature: ed25519.sign(keys.privateKey, Buffer.from(ch.challenge)),
      })
    ).json().token as string

    // Declarations to release, submitted in batches (setup, not measured).
    const total = N + WARMUP
    const ids: string[] = []
    for (let i = 0; i < total; i += 200) {
      const declarations = Array.from({ length: Math.min(200, total - i) }, (_, k) => {
        const qty = 1000 + ((i + k) % 500)
        const content: DeclarationContent = {
          clientRef: `CB${tag}-${i + k}`,
          ieFlag: 'I',
          customsDistrict: '5301',
          iePort: '5302',
          tradeMode: '0110',
          transportMode: '2',
          transactionTerms: '1',
          currency: 'USD',
          traderCode: code,
          declarantCode: code,
          tradeCountry: 'RUS',
          billNo: `BL${i + k}`,
          packages: 10,
          grossMassKg: String(qty + 50),
          netMassKg: String(qty),
          items: [
            {
              hsCode: '0207142200',
              description: '冷冻鸡爪 Frozen chicken feet',
              quantity: String(qty),
              unit: '035',
              unitPrice: '2.1',
              totalValue: (qty * 2.1).toFixed(2),
              originCountry: 'RUS',
            },
          ],
        }
        return {
          ...content,
          signature: { cardNo: card.cardNo, alg: 'Ed25519' as const, value: signPayload(keys.privateKey, content) },
        }
      })
      const r = (await call('POST', '/api/v1/declarations/batch', operator, { declarations })).json()
      for (const x of r.results) {
        if (x.status !== 201 || x.declaration.state !== 'INSPECTING') throw new Error(`setup: ${JSON.stringify(x)}`)
        ids.push(x.declaration.id)
      }
    }
    const tasks = new Map<string, string>()
    for (let off = 0; tasks.size < total; off += 500) {
      const page = (await call('GET', `/api/v1/inspections?state=OPEN&limit=500&offset=${off}`, officer)).json()
      if (page.items.length === 0) break
      for (const it of page.items) tasks.set(it.declarationId, it.id)
    }

    // Issue: release → certificate record → PDF.
    const issue: number[] = []
    const release: number[] = []
    const pdf: number[] = []
    const sizes: number[] = []
    const tokens: string[] = []
    for (const [i, id] of ids.entries()) {
      const t0 = performance.now()
      await call('POST', `/api/v1/inspections/${tasks.get(id)}/result`, officer, { result: 'COMPLIANT' })
      const t1 = performance.now()
      const [c] = (await call('GET', `/api/v1/certificates?declarationId=${id}`, officer)).json().items
      if (!c) throw new Error(`no certificate for ${id}`)
      const t2 = performance.now()
      const bytes = (await call('GET', `/api/v1/certificates/${c.number}/pdf`, officer)).rawPayload
      const t3 = performance.now()
      tokens.push(c.token)
      if (i < WARMUP) continue
      release.push(t1 - t0)
      pdf.push(t3 - t2)
      issue.push(t3 - t0)
      sizes.push(bytes.length)
    }

    // Verify: random tokens, read only.
    const rnd = seededRandom(7)
    const verify: number[] = []
    for (let i = 0; i < VERIFY_N + WARMUP; i++) {
      const token = tokens[Math.floor(rnd() * tokens.length)]!
      const t0 = performance.now()
      const v = (await call('POST', '/api/v1/certificates/verify', undefined, { token })).json()
      const t1 = performance.now()
      if (v.verdict !== 'AUTHENTIC') throw new Error(`verification: ${JSON.stringify(v)}`)
      if (i >= WARMUP) verify.push(t1 - t0)
    }

    console.log(
      JSON.stringify({
        issueP99Ms: pct(issue, 0.99),
        verifyP99Ms: pct(verify, 0.99),
        pdfBytes: pct(sizes, 0.5),
        issueP50Ms: pct(issue, 0.5),
        releaseP50Ms: pct(release, 0.5),
        releaseP99Ms: pct(release, 0.99),
        pdfP50Ms: pct(pdf, 0.5),
        pdfP99Ms: pct(pdf, 0.99),
        verifyP50Ms: pct(verify, 0.5),
        pdfBytesMax: Math.max(...sizes),
        certificates: issue.length,
        verifications: verify.length,
        db: dbKind,
        machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
        date: new Date().toISOString(),
      }),
    )
  } finally {
    await app.close()
    await db.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
