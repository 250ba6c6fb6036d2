/**
 * Page load of the command dashboard in Chromium, with the simulator feeding the server: `kouan start`
 * (PGlite in a temp dir, simulated traffic at KOUAN_SIMULATE_RATE, default 5/s) runs for a warm-up, then a
 * fresh browser context (cold cache) opens /officer/dashboard signed in as the demo officer, N times. Load
 * time = navigation start → the first server-sent snapshot drawn (`.dash[data-ready]`), read in the page
 * with performance.now(). The first run is the first screen of the server (the snapshot is computed for it);
 * later ones get the feed's recent snapshot at once, as a screen opened again does. Prints one JSON object as
 * its last line.
 *
 *   npm run bench:dashboard            BENCH_RUNS=10 BENCH_WARMUP_S=60 KOUAN_SIMULATE_RATE=5
 */
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { client, launchBrowser, removeDir, startServer, tempDir } from '../test/e2e/harness.js'

const RUNS = Number(process.env.BENCH_RUNS ?? 10)
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 60)
const RATE = process.env.KOUAN_SIMULATE_RATE ?? '5'

const dir = tempDir()
const server = await startServer(dir, { command: 'start', env: { KOUAN_SIMULATE: 'true', KOUAN_SIMULATE_RATE: RATE } })
try {
  const password = /officer \/ (\S+)/.exec(server.output())?.[1]
  if (!password) throw new Error(`no demo officer password in:\n${server.output()}`)
  console.error(`server ${server.url}, simulator at ${RATE}/s; warming up ${WARMUP_S} s`)
  await sleep(WARMUP_S * 1000)
  const api = client(server.url)
  const session = await api<{ token: string; expiresAt: string }>('POST', '/api/v1/auth/login', undefined, { username: 'officer', password })
  const before = await api<{ totals: { declarationsToday: number } }>('GET', '/api/v1/console/dashboard', session.token)
  const stored = JSON.stringify({ token: session.token, expiresAt: session.expiresAt, kind: 'user', role: 'officer', name: 'officer' })

  const browser = await launchBrowser()
  const loads: number[] = []
  const dcl: number[] = []
  try {
    for (let i = 0; i < RUNS; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } })
      await ctx.addInitScript((s) => { localStorage.setItem('kouan.session', s) }, stored)
      const page = await ctx.newPage()
      await page.goto(`${server.url}/officer/dashboard`, { waitUntil: 'commit' })
      await page.locator('.dash[data-ready=true]').waitFor({ timeout: 30_000 })
      const t = await page.evaluate(() => ({ ready: performance.now(), dcl: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).domContentLoadedEventEnd }))
      loads.push(t.ready)
      dcl.push(t.dcl)
      console.error(`run ${i + 1}: dashboard drawn after ${t.ready.toFixed(0)} ms (DOMContentLoaded ${t.dcl.toFixed(0)} ms)`)
      await ctx.close()
    }
  } finally {
    await browser.close()
  }
  const sorted = [...loads].sort((a, b) => a - b)
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
  console.log(JSON.stringify({
    bench: 'dashboard-page-load', runs: RUNS, simulateRate: Number(RATE), warmupSeconds: WARMUP_S, declarationsToday: before.totals.declarationsToday,
    firstMs: Math.round(loads[0]!), medianMs: Math.round(q(0.5)), p90Ms: Math.round(q(0.9)), maxMs: Math.round(sorted.at(-1)!), medianDomContentLoadedMs: Math.round([...dcl].sort((a, b) => a - b)[Math.floor(dcl.length / 2)]!),
    cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, date: new Date().toISOString().slice(0, 10),
  }))
} finally {
  await server.stop()
  removeDir(dir)
}
