// Dev tool: cuts the small KCS slice the CI backtest test uses (test/fixtures/kcs/) from ../shared/data/kcs.
// Deterministic: every k-th row. Usage: node scripts/make-kcs-slice.mjs [kcsDir]
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs'
const dir = process.argv[2] ?? '../shared/data/kcs'
const out = 'test/fixtures/kcs'
const lines = (f) => readFileSync(`${dir}/${f}`, 'utf8').trimEnd().split('\n')
const [header, ...train] = lines('df_syn_train_eng.csv')
const [, ...valid] = lines('df_syn_valid_eng.csv')
const every = (rows, k) => rows.filter((_, i) => i % k === 0)
const date = (l) => l.split(',')[1]
writeFileSync(
  `${out}/train.csv`,
  [
    header,
    ...every(
      train.filter((l) => date(l) < '2020-10-01'),
      9,
    ),
  ].join('\n') + '\n',
)
writeFileSync(
  `${out}/valid.csv`,
  [
    header,
    ...every(
      train.filter((l) => date(l) >= '2020-10-01'),
      9,
    ),
  ].join('\n') + '\n',
)
writeFileSync(`${out}/test.csv`, [header, ...every(valid, 8)].join('\n') + '\n')
copyFileSync(`${dir}/LICENSE`, `${out}/LICENSE`)
