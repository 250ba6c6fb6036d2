/**
 * Risk model benchmark on the Korea Customs Service dataset (DOMAIN §9). Reads the KCS files from a path
 * (argument or KOUAN_KCS_DIR, default ../shared/data/kcs). The 2021 Q2 quarter is held back for
 * acceptance and not shipped, so this bench reproduces the protocol one quarter earlier:
 * train 2020-01..09, validate (model selection, early stopping) on 2020 Q4, refit on all of 2020, rank
 * 2021 Q1. Progress on stderr; the backtest JSON as the last line of stdout.
 *
 *   npm run bench:risk [-- /path/to/kcs]
 */
import { join } from 'node:path'
import { cpus, totalmem } from 'node:os'
import { readKcs } from '../src/modules/risk/kcs.js'
import { backtest } from '../src/modules/risk/backtest.js'

const dir = process.argv[2] ?? process.env.KOUAN_KCS_DIR ?? join(process.cwd(), '..', 'shared', 'data', 'kcs')
const year2020 = readKcs(join(dir, 'df_syn_train_eng.csv'))
const q1 = readKcs(join(dir, 'df_syn_valid_eng.csv'))
const cut = Date.parse('2020-10-01') / 86_400_000
const t0 = performance.now()
const { model: _m, ...result } = backtest({
  train: year2020.filter((x) => x.record.day < cut),
  valid: year2020.filter((x) => x.record.day >= cut),
  test: q1,
  log: (m) => console.error(m),
})
const out = {
  ...result,
  protocol: 'train 2020-01..09, valid 2020Q4, refit 2020, test 2021Q1',
  wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  date: new Date().toISOString(),
}
console.log(JSON.stringify(out))
