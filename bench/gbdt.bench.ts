// Timing script for gbdt.ts (not a test: no assertions, speed belongs outside unit tests).
//   npx tsx src/modules/risk/gbdt-bench.ts [rows=45000] [features=150] [rounds=1000]
// Synthetic, seeded data: a third of the columns integer-valued (20 levels), a third continuous, a
// third sparse (70 % zeros), 5 % missing everywhere, ~9 % positives. Progress goes to stderr; the last
// line is one JSON object (the bench/ convention), so it can move to bench/gbdt.bench.ts as is.
import { seededRandom } from '../src/shared/clock.js'
import { train, auc, GbdtModel, type Dataset } from '../src/modules/risk/gbdt.js'

const rng = seededRandom

function synth(nRows: number, nF: number, seed: number): Dataset {
  const rand = rng(seed)
  const values = new Float32Array(nRows * nF)
  const labels = new Float32Array(nRows)
  for (let f = 0; f < nF; f++) {
    for (let r = 0; r < nRows; r++) {
      // a mix of continuous, integer-valued and sparse columns, 5 % missing
      const u = rand()
      values[f * nRows + r] =
        u < 0.05 ? NaN : f % 3 === 0 ? Math.floor(rand() * 20) : f % 3 === 1 ? rand() * 100 : rand() < 0.7 ? 0 : rand()
    }
  }
  for (let r = 0; r < nRows; r++) {
    const x = (f: number) => {
      const v = values[f * nRows + r]!
      return Number.isNaN(v) ? 0 : v
    }
    const z =
      0.2 * (x(0) - 10) +
      0.03 * (x(1) - 50) +
      2 * x(2) * (x(4) > 50 ? 1 : -1) +
      (x(3) > 10 ? 1 : 0) -
      3.5 +
      (rand() - 0.5) * 2
    labels[r] = rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0
  }
  return { nRows, nFeatures: nF, values, labels, featureNames: Array.from({ length: nF }, (_, i) => `f${i}`) }
}

const [rows = 45000, feats = 150, rounds = 1000] = process.argv.slice(2).map(Number)
const d = synth(rows, feats, 7)
const v = synth(10000, feats, 8)
console.error(`positives ${d.labels.reduce((a, b) => a + b, 0) / rows}`)
const rssBefore = process.memoryUsage().rss
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const m = train(d, { nRounds: rounds, earlyStoppingRounds: 0 }, v, (p) => {
  if (p.round % 100 === 0)
    console.error(
      `round ${p.round} loss ${p.trainLoss?.toFixed(4)} auc ${p.validMetric?.toFixed(4)} ${((performance.now() - t0) / 1000).toFixed(1)}s`,
    )
})
const secs = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
// CPU time as well as wall time: on a shared machine wall time includes waiting for the core
const cpuSecs = (cpu.user + cpu.system) / 1e6
const maxRss = process.resourceUsage().maxRSS / 1024
// time one-row prediction with every tree, not just up to the best iteration
const json = m.toJSON()
const full = GbdtModel.fromJSON({ ...json, bestIteration: json.trees.length })
const nodes = json.trees.reduce((a, t) => a + t.splitFeature.length, 0)
const rowsForTiming = Array.from({ length: 100 }, (_, r) =>
  Float64Array.from({ length: feats }, (_, f) => v.values[f * v.nRows + r]!),
)
let sink = 0
for (let i = 0; i < 200; i++) sink += full.predictRaw(rowsForTiming[i % 100]!)
const t1 = performance.now()
const reps = 5000
for (let i = 0; i < reps; i++) sink += full.predictRaw(rowsForTiming[i % 100]!)
const perRow = (performance.now() - t1) / reps
const t2 = performance.now()
const pv = m.predictDataset(v)
const dsSecs = (performance.now() - t2) / 1000
const t3 = performance.now()
full.predictDataset(v)
const dsFullSecs = (performance.now() - t3) / 1000
console.log(
  JSON.stringify({
    rows,
    feats,
    rounds,
    trees: m.numTrees,
    bestIteration: m.bestIteration,
    splitNodes: nodes,
    trainSeconds: +secs.toFixed(2),
    trainCpuSeconds: +cpuSecs.toFixed(2),
    maxRssMB: Math.round(maxRss),
    rssBeforeTrainMB: Math.round(rssBefore / 2 ** 20),
    predictOneRowMs: +perRow.toFixed(4),
    predictDataset10kSeconds: +dsSecs.toFixed(3),
    predictDataset10kAllTreesSeconds: +dsFullSecs.toFixed(3),
    validAuc: +auc(pv, v.labels).toFixed(4),
    jsonMB: +(JSON.stringify(m.toJSON()).length / 2 ** 20).toFixed(1),
    checksum: +sink.toFixed(3),
  }),
)
