/**
 * Page load of the command dashboard in Chromium, with the simulator feeding the server: `kouan start`
 * (PGlite in a temp dir, simulated traffic at KOUAN_SIMULATE_RATE, default 5/s) runs for a warm-up, then a
 * fresh browser context (cold cache) opens /officer/dashboard signed in as the demo officer, N times. Two
 * times from navigation start, read in the page with performance.now(): `figures` = the first server-sent
 * snapshot drawn (KPIs, lists: `.dash[data-ready]`), `load` = every chart drawn too (ECharts' `finished`:
 * `.chart[data-drawn]`), the page load proper. The first run is the first screen of the server (the snapshot is computed for it);
 * later ones get the feed's recent snapshot at once, as a screen opened again does. Prints one JSON object as
 * its last line.
 *
 *   npm run bench:dashboard            BENCH_RUNS=10 BENCH_WARMUP_S=60 KOUAN_SIMULATE_RATE=5
 */
import { cpus, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { ARTIFACTS, client, launchBrowser, removeDir, startServer, tempDir } from '../test/e2e/harness.js'

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
  const session = await api<{ token: string; expiresAt: string }>('POST', '/api/v1/auth/login', undefined, {
    username: 'officer',
    password,
  })
  const before = await api<{ totals: { declarationsToday: number } }>('GET', '/api/v1/console/dashboard', session.token)
  const stored = JSON.stringify({
    token: session.token,
    expiresAt: session.expiresAt,
    kind: 'user',
    role: 'officer',
    name: 'officer',
  })

  const browser = await launchBrowser()
  const loads: number[] = []
  const figures: number[] = []
  const dcl: number[] = []
  try {
    for (let i = 0; i < RUNS; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } })
      await ctx.addInitScript((s) => {
        localStorage.setItem('kouan.session', s)
      }, stored)
      const page = await ctx.newPage()
      await page.goto(`${server.url}/officer/dashboard`, { waitUntil: 'commit' })
      // Marks the moment the figures appear and the moment the last chart finishes drawing, in the page's clock.
      const t = await page.evaluate(
        () =>
          new Promise<{ figures: number; load: number; dcl: number }>((resolve) => {
            let figures = 0
            const check = () => {
              if (!figures && document.querySelector('.dash[data-ready=true]')) figures = performance.now()
              const charts = document.querySelectorAll('.chart')
              if (figures && charts.length > 0 && [...charts].every((c) => c.getAttribute('data-drawn') === 'true')) {
                obs.disconnect()
                resolve({
                  figures,
                  load: performance.now(),
                  dcl: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming)
                    .domContentLoadedEventEnd,
                })
              }
            }
            const obs = new MutationObserver(check)
            obs.observe(document, {
              subtree: true,
              childList: true,
              attributes: true,
              attributeFilter: ['data-ready', 'data-drawn'],
            })
            check()
          }),
      )
      loads.push(t.load)
      figures.push(t.figures)
      dcl.push(t.dcl)
      console.error(
        `run ${i + 1}: figures after ${t.figures.toFixed(0)} ms, charts drawn after ${t.load.toFixed(0)} ms (DOMContentLoaded ${t.dcl.toFixed(0)} ms)`,
      )
      // The last screen, with the simulated traffic, is kept to look at.
      if (i === RUNS - 1) await page.screenshot({ path: join(ARTIFACTS, 'dashboard-simulated.png'), fullPage: true })
      await ctx.close()
    }
  } finally {
    await browser.close()
  }
  const sorted = [...loads].sort((a, b) => a - b)
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
  const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)
  const [load1, load5] = loadavg()
  console.log(
    JSON.stringify({
      bench: 'dashboard-page-load',
      runs: RUNS,
      simulateRate: Number(RATE),
      warmupSeconds: WARMUP_S,
      declarationsToday: before.totals.declarationsToday,
      firstMs: Math.round(loads[0]!),
      medianMs: Math.round(q(0.5)),
      p90Ms: Math.round(q(0.9)),
      maxMs: Math.round(sorted.at(-1)!),
      medianFiguresMs: median(figures),
      medianDomContentLoadedMs: median(dcl),
      loadAverage: [load1, load5].map((x) => Math.round(x! * 10) / 10),
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      node: process.version,
      date: new Date().toISOString().slice(0, 10),
    }),
  )
} finally {
  await server.stop()
  removeDir(dir)
}
