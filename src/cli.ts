#!/usr/bin/env node
import { join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import { Command, InvalidArgumentError } from 'commander'
import { loadConfig, ConfigError, type Config } from './config.js'
import { openDb, type Db } from './db/index.js'
import { migrate } from './db/migrate.js'
import { systemClock, systemIds } from './shared/clock.js'
import { ALGORITHM_NAMES, algorithms, parseKeyFile, signPayload } from './shared/signing.js'
import { createUser } from './modules/auth/index.js'
import { startCluster, startServer } from './server.js'
import { cebCommand } from './modules/ecommerce/index.js'
import type { DemoCardReady } from './simulator/run.js'

const program = new Command('kouan').description('Kouan (口岸): open smart-customs platform').showHelpAfterError()

function config(overrides: Partial<Config> = {}): Readonly<Config> {
  try {
    return loadConfig(process.env, overrides)
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message)
      process.exit(2)
    }
    throw e
  }
}

/** Opens the configured database (migrated first with `migrate`), runs `fn` and closes it, whatever happens. */
async function withDb<T>(
  fn: (db: Db, cfg: Readonly<Config>) => Promise<T>,
  opts: { migrate?: boolean } = {},
): Promise<T> {
  const cfg = config()
  const db = await openDb(cfg)
  try {
    if (opts.migrate) await migrate(db)
    return await fn(db, cfg)
  } finally {
    await db.close()
  }
}

/** A signature algorithm name as the registry spells it (`--alg sm2` → `SM2`). */
const algName = (v: string) => {
  const name = ALGORITHM_NAMES.find((n) => n.toLowerCase() === v.toLowerCase())
  if (!name) throw new InvalidArgumentError(`must be one of ${ALGORITHM_NAMES.join(', ')}`)
  return name
}

const positive = (v: string) => {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number')
  return n
}

program
  .command('serve')
  .description('run the API server (no demo accounts, no simulator)')
  .option('-p, --port <port>', 'port (env PORT)', positive)
  .option('-w, --workers <n>', 'API processes sharing the port, on PostgreSQL (env KOUAN_WORKERS)', positive)
  .action(async (o: { port?: number; workers?: number }) => {
    const cfg = config({
      ...(o.port ? { port: o.port } : {}),
      ...(o.workers ? { workers: Math.floor(o.workers) } : {}),
      simulate: false,
    })
    if (cfg.workers > 1) {
      try {
        const url = await startCluster(cfg)
        if (url) console.log(`Kouan API on ${url} with ${cfg.workers} workers  (OpenAPI: ${url}/api/openapi.json)`)
      } catch (e) {
        console.error((e as Error).message)
        process.exit(2)
      }
      return
    }
    const r = await startServer(cfg)
    console.log(`Kouan API on ${r.url}  (OpenAPI: ${r.url}/api/openapi.json)`)
  })

program
  .command('start')
  .description(
    'run the platform with demo accounts and, unless --no-simulate or KOUAN_SIMULATE=false, simulated traffic',
  )
  .option('-p, --port <port>', 'port (env PORT)', positive)
  .option('--no-simulate', 'do not feed simulated traffic')
  .option('--rate <n>', 'simulated declarations per second (env KOUAN_SIMULATE_RATE)', positive)
  .action(async (o: { port?: number; simulate: boolean; rate?: number }) => {
    const cfg = config({ ...(o.port ? { port: o.port } : {}), ...(o.rate ? { simulateRate: o.rate } : {}) })
    const simulate = cfg.simulate && o.simulate
    const r = await startServer(cfg)
    // Demo accounts get fresh random passwords at every start; they are printed, never stored in clear.
    const creds = { admin: systemIds.token(9), officer: systemIds.token(9), officer2: systemIds.token(9) }
    await createUser(r.db, systemClock, systemIds, {
      username: 'admin',
      password: creds.admin,
      role: 'admin',
      displayName: 'Demo admin',
    })
    await createUser(r.db, systemClock, systemIds, {
      username: 'officer',
      password: creds.officer,
      role: 'officer',
      displayName: 'Demo officer',
    })
    await createUser(r.db, systemClock, systemIds, {
      username: 'officer2',
      password: creds.officer2,
      role: 'officer',
      displayName: 'Second demo officer',
    })
    console.log(
      [
        '',
        `  Kouan is running on ${cfg.databaseUrl ? 'PostgreSQL' : `embedded PGlite (${cfg.dataDir})`}`,
        `  Console        ${r.url}/   (officers: demo accounts below; enterprises: the demo card's key file, printed when ready)`,
        `  API            ${r.url}/api/v1   (health: ${r.url}/api/v1/health)`,
        `  OpenAPI        ${r.url}/api/openapi.json`,
        `  Metrics        ${cfg.metricsToken ? `${r.url}/metrics (bearer token: KOUAN_METRICS_TOKEN)` : 'not served (set KOUAN_METRICS_TOKEN to scrape /metrics)'}`,
        `  Demo accounts  admin / ${creds.admin}    officer / ${creds.officer}    officer2 / ${creds.officer2}`,
        `  Simulator      ${simulate ? `${cfg.simulateRate} declarations/s, ${cfg.simulateCebRate} e-commerce tickets/s and ${cfg.simulateAppointmentRate} appointment bookings/min (stop with KOUAN_SIMULATE=false or --no-simulate); the risk model retrains every 2 minutes` : 'off'}`,
        '',
      ].join('\n'),
    )
    const { runSimulation } = await import('./simulator/run.js')
    const demoCardFile = join(cfg.dataDir, 'demo-card.json')
    const printDemoCard = (c: DemoCardReady) =>
      console.log(
        [
          '',
          `  Demo card      ${c.cardNo} of ${c.enterprise} (${c.customsCode})${c.renewed ? ', issued again for this new database' : ''}`,
          `                 log in at ${r.url}/ as an enterprise: card number ${c.cardNo}, key file ${c.file}`,
          '',
        ].join('\n'),
      )
    if (!simulate) {
      // No traffic, but the demo enterprise and its card all the same, for a person to try the portal with.
      void runSimulation({
        baseUrl: r.url,
        officer: { username: 'officer', password: creds.officer },
        rate: 1,
        demoOnly: true,
        demoCardFile,
        onDemoCard: printDemoCard,
        statusEverySec: 0,
        log: (m) => r.app.log.debug(m),
      }).catch((e: unknown) => r.app.log.error({ err: e }, 'demo card set-up failed'))
    }
    if (simulate) {
      const ctl = new AbortController()
      process.once('SIGINT', () => ctl.abort())
      process.once('SIGTERM', () => ctl.abort())
      // The demo enterprise also acts as the e-commerce tickets' customs broker once its card is ready.
      let demoAgent: (a: { customsCode: string; name: string; cardNo: string; privateKey: string }) => void = () => {}
      const agent = new Promise<{ customsCode: string; name: string; cardNo: string; privateKey: string }>(
        (resolve) => {
          demoAgent = resolve
        },
      )
      void runSimulation({
        baseUrl: r.url,
        officer: { username: 'officer', password: creds.officer },
        officer2: { username: 'officer2', password: creds.officer2 },
        rate: cfg.simulateRate,
        // Released goods are closed after half a minute, so the archives fill as the declarations do.
        clearAfterSec: 30,
        quarantineChecks: true,
        // Appointment clearance bookings (mostly perishables at night), reviewed after half a minute.
        appointments: { perMinute: cfg.simulateAppointmentRate, reviewDelaySec: 30 },
        signal: ctl.signal,
        log: (m) => r.app.log.info(m),
        // The demo enterprise's card, for a person to log in to the enterprise portal with.
        demoCardFile,
        onDemoCard: (c) => {
          printDemoCard(c)
          demoAgent({ customsCode: c.customsCode, name: c.enterprise, cardNo: c.cardNo, privateKey: c.privateKey })
        },
      }).catch((e: unknown) => r.app.log.error({ err: e }, 'simulator stopped'))
      if (cfg.simulateCebRate > 0) {
        const { runCebSimulation } = await import('./simulator/ceb.js')
        void runCebSimulation({
          baseUrl: r.url,
          officer: { username: 'admin', password: creds.admin },
          rate: cfg.simulateCebRate,
          agent,
          signal: ctl.signal,
          log: (m) => r.app.log.info(m),
        }).catch((e: unknown) => r.app.log.error({ err: e }, 'CEB simulator stopped'))
      }
      // The demo closes the learning loop by itself: retrain on the labels so far every few minutes and
      // promote the candidate unless it validates worse than the active model.
      const { trainModel, promoteModel, listModels } = await import('./modules/risk/index.js')
      const deps = { db: r.db, clock: systemClock }
      const learn = setInterval(() => {
        void (async () => {
          const m = await trainModel(deps, 'system:demo')
          const active = (await listModels(r.db)).find((x) => x.status === 'ACTIVE')
          if (!active || (m.metrics.validAuc ?? 0) >= (active.metrics.validAuc ?? 0) - 0.01) {
            await promoteModel(deps, 'system:demo', m.version)
            await r.app.kouan.risk.sync(r.db)
            r.app.log.info(
              `risk model v${m.version} trained on ${m.trainedRows} labelled items and promoted (valid AUC ${m.metrics.validAuc?.toFixed(3)})`,
            )
          }
        })().catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'RISK_NOT_ENOUGH_LABELS')
            r.app.log.error({ err: e }, 'demo retraining failed')
        })
      }, 120_000)
      learn.unref()
      ctl.signal.addEventListener('abort', () => clearInterval(learn))
    }
  })

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const applied = await withDb((db) => migrate(db))
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'up to date')
  })

const user = program.command('user').description('customs user accounts')
user
  .command('add')
  .description('create an officer or admin account (or reset its password)')
  .argument('<username>')
  .requiredOption('-r, --role <role>', 'officer | admin')
  .option('--password <password>', 'password (default: read from KOUAN_PASSWORD or generated and printed)')
  .option('--name <displayName>', 'display name')
  .action(async (username: string, o: { role: string; password?: string; name?: string }) => {
    if (o.role !== 'officer' && o.role !== 'admin') throw new InvalidArgumentError('role must be officer or admin')
    const password = o.password ?? systemIds.token(12)
    const role = o.role
    const id = await withDb(
      (db) =>
        createUser(db, systemClock, systemIds, {
          username,
          password,
          role,
          ...(o.name ? { displayName: o.name } : {}),
        }),
      { migrate: true },
    )
    console.log(JSON.stringify({ id, username, role: o.role, ...(o.password ? {} : { password }) }))
  })

const card = program.command('card').description('electronic port card keys (the private key never leaves the holder)')
card
  .command('keygen')
  .description(
    'make a key pair (Ed25519, or SM2 with SM3 as China E-Port cards use); give the public key to customs to issue the card',
  )
  .option('-o, --out <file>', 'write the key pair JSON to this file (mode 600) instead of stdout')
  .option('--alg <alg>', `${ALGORITHM_NAMES.join(' or ')} (case-insensitive)`, algName, 'Ed25519')
  .action((o: { out?: string; alg: string }) => {
    const k = algorithms[o.alg]!.generate()
    const json = JSON.stringify({ alg: o.alg, publicKey: k.publicKey, privateKey: k.privateKey }, null, 2)
    if (o.out) {
      writeFileSync(o.out, json + '\n', { mode: 0o600 })
      console.log(JSON.stringify({ alg: o.alg, publicKey: k.publicKey, keyFile: o.out }))
    } else console.log(json)
  })
card
  .command('sign')
  .description('sign a declaration JSON file with a key file: prints the body to POST')
  .requiredOption('-k, --key <file>', 'key pair JSON from `kouan card keygen`')
  .requiredOption('-c, --card <cardNo>', 'card number customs issued')
  .argument('<declaration.json>')
  .action((file: string, o: { key: string; card: string }) => {
    let key
    try {
      key = parseKeyFile(readFileSync(o.key, 'utf8'))
    } catch (e) {
      throw new InvalidArgumentError(`${o.key}: ${(e as Error).message}`)
    }
    const { signature: _drop, ...content } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    console.log(
      JSON.stringify(
        {
          ...content,
          signature: { cardNo: o.card, alg: key.alg.alg, value: signPayload(key.privateKey, content, key.alg) },
        },
        null,
        2,
      ),
    )
  })

const audit = program.command('audit').description('the hash-chained audit log')
audit
  .command('verify')
  .description(
    're-walk every chain and check the append-only triggers; with --checkpoints, also compare every chain with exported checkpoints; exit 1 on any problem',
  )
  .option(
    '--checkpoints <file>',
    'checkpoints exported earlier (`kouan audit checkpoints export`), kept where the database administrators cannot write',
  )
  .option('--trust <kid...>', 'pin these checkpoint key ids: checkpoints signed by any other key are refused')
  .option('--keys <file>', 'pin the keys in this file (`kouan audit checkpoints keys`, kept with the exports)')
  .action(async (o: { checkpoints?: string; trust?: string[]; keys?: string }) => {
    const { verifyLog } = await import('./modules/audit/index.js')
    const { parseTrustedKeys } = await import('./modules/audit/index.js')
    const trust = {
      ...(o.trust ? { kids: o.trust } : {}),
      ...(o.keys ? { keys: parseTrustedKeys(readFileSync(o.keys, 'utf8')) } : {}),
    }
    const checkpointsText = o.checkpoints === undefined ? undefined : readFileSync(o.checkpoints, 'utf8')
    const r = await withDb((db) =>
      verifyLog(db, { ...(checkpointsText === undefined ? {} : { checkpointsText }), trust }),
    )
    const unpinned = r.checkpoints?.keys.filter((k) => !k.pinned).map((k) => k.kid) ?? []
    if (unpinned.length)
      console.error(
        `warning: checkpoint keys ${unpinned.join(', ')} taken from the file itself; pin them with --trust or --keys`,
      )
    console.log(JSON.stringify(r, null, 2))
    if (!r.ok) process.exitCode = 1
  })

const checkpoints = audit
  .command('checkpoints')
  .description("signed checkpoints of the chain heads, to keep out of the database administrators' reach")
checkpoints
  .command('export')
  .description(
    'print every checkpoint as JSON lines {chain, seq, hash, at, kid, alg, publicKey, signature}, oldest first',
  )
  .option('-o, --out <file>', 'write to this file instead of stdout')
  .option('--since <time>', 'only checkpoints taken after this ISO 8601 time (for appending to an earlier export)')
  .action(async (o: { out?: string; since?: string }) => {
    if (o.since !== undefined && Number.isNaN(Date.parse(o.since)))
      throw new InvalidArgumentError('--since must be an ISO 8601 time')
    const { allCheckpoints } = await import('./modules/audit/index.js')
    const lines = await withDb(async (db) => {
      const out: string[] = []
      for await (const c of allCheckpoints(db, o.since)) out.push(JSON.stringify(c) + '\n')
      return out
    })
    if (o.out) {
      writeFileSync(o.out, lines.join(''))
      console.error(JSON.stringify({ checkpoints: lines.length, file: o.out }))
    } else process.stdout.write(lines.join(''))
  })
checkpoints
  .command('take')
  .description(
    'sign a checkpoint of every chain whose head moved since its last checkpoint, now (the server does it every KOUAN_AUDIT_CHECKPOINT_SECONDS)',
  )
  .action(async () => {
    const { takeCheckpoints } = await import('./modules/audit/index.js')
    await withDb(
      async (db, cfg) => {
        console.log(JSON.stringify(await takeCheckpoints({ db, clock: systemClock, config: cfg })))
      },
      { migrate: true },
    )
  })
checkpoints
  .command('keys')
  .description(
    'public halves of the checkpoint keys with their windows: keep a copy with the exports and pin it (verify --keys)',
  )
  .action(async () => {
    const { checkpointKeys } = await import('./modules/audit/index.js')
    await withDb(async (db) => {
      console.log(JSON.stringify({ items: await checkpointKeys(db) }, null, 2))
    })
  })
checkpoints
  .command('rotate-key')
  .description(
    'retire the active checkpoint key (what it signed keeps verifying) and activate a new one in the database',
  )
  .option('--alg <name>', 'algorithm of the new key (default KOUAN_AUDIT_CHECKPOINT_ALG, Ed25519)')
  .action(async (o: { alg?: string }) => {
    const { rotateCheckpointKey } = await import('./modules/audit/index.js')
    await withDb(
      async (db, cfg) => {
        console.log(
          JSON.stringify(await rotateCheckpointKey({ db, clock: systemClock, config: cfg }, 'cli:kouan', o.alg)),
        )
      },
      { migrate: true },
    )
  })

const dbCommand = program.command('db').description('database roles (PostgreSQL)')
dbCommand
  .command('grant-app-role')
  .description(
    'as the owner (the role that migrates), grant an existing login role what the application needs and no more: it cannot change, delete or truncate audit rows, nor drop or disable their triggers; later migrations grant it their new tables',
  )
  .argument('<role>', "the application's role (create it first: create role kouan_app login password '...')")
  .action(async (role: string) => {
    const { grantAppRole } = await import('./modules/audit/index.js')
    await withDb(
      async (db) => {
        console.log(JSON.stringify(await grantAppRole(db, role)))
      },
      { migrate: true },
    )
  })

const risk = program.command('risk').description('the learned risk model')
risk
  .command('backtest')
  .description(
    'train on --train, early-stop on --valid, refit on both, rank --test; one JSON line on stdout, progress on stderr',
  )
  .requiredOption('--train <file>', 'training records')
  .requiredOption('--valid <file>', 'validation records (model selection, early stopping)')
  .requiredOption('--test <file>', 'records to rank')
  .option('--format <format>', 'kcs (Korea Customs Service CSV) or jsonl (kouan simulate --export *.jsonl)', 'kcs')
  .option('--no-refit', 'rank test with the model trained on --train only')
  .option('--seed <n>', 'random seed', positive, 1)
  .option('--json', 'print only the JSON line on stdout (the default; kept for scripts)')
  .action(async (o: { train: string; valid: string; test: string; format: string; refit: boolean; seed: number }) => {
    const { readKcs, readJsonl } = await import('./modules/risk/index.js')
    const { backtest } = await import('./modules/risk/index.js')
    if (o.format !== 'kcs' && o.format !== 'jsonl') throw new InvalidArgumentError(`unknown format ${o.format}`)
    const read = o.format === 'kcs' ? readKcs : readJsonl
    const { model: _model, ...result } = backtest({
      train: read(o.train),
      valid: read(o.valid),
      test: read(o.test),
      refit: o.refit,
      seed: o.seed,
      log: (m) => console.error(m),
    })
    console.log(JSON.stringify(result))
  })

risk
  .command('train')
  .description(
    'train a candidate model on the inspection results in the database (progress on stderr, summary JSON on stdout)',
  )
  .option('--promote', 'make it the active model right away')
  .action(async (o: { promote?: boolean }) => {
    const { trainModel, promoteModel } = await import('./modules/risk/index.js')
    await withDb(
      async (db) => {
        let m = await trainModel({ db, clock: systemClock }, 'cli:kouan', (msg) => console.error(msg))
        if (o.promote) m = await promoteModel({ db, clock: systemClock }, 'cli:kouan', m.version)
        console.log(JSON.stringify(m))
      },
      { migrate: true },
    )
  })
risk
  .command('models')
  .description('list model versions')
  .action(async () => {
    const { listModels } = await import('./modules/risk/index.js')
    console.log(JSON.stringify(await withDb((db) => listModels(db)), null, 2))
  })
risk
  .command('promote')
  .description('make a model version the active one')
  .argument('<version>', 'model version', positive)
  .action(async (version: number) => {
    const { promoteModel } = await import('./modules/risk/index.js')
    await withDb(async (db) => {
      console.log(JSON.stringify(await promoteModel({ db, clock: systemClock }, 'cli:kouan', version)))
    })
  })
risk
  .command('rollback')
  .description('re-activate the previously active model')
  .action(async () => {
    const { rollbackModel } = await import('./modules/risk/index.js')
    await withDb(async (db) => {
      console.log(JSON.stringify(await rollbackModel({ db, clock: systemClock }, 'cli:kouan')))
    })
  })

program
  .command('simulate')
  .description(
    'feed a running server with simulated traffic (enterprises, signed declarations, officers working inspections)',
  )
  .option('--url <url>', 'server base URL', 'http://127.0.0.1:3000')
  .option('--officer <user:password>', 'officer credentials', 'officer:')
  .option('--officer2 <user:password>', 'second officer (activates targeting rules)')
  .option('--rate <n>', 'declarations per second', positive, 5)
  .option('--duration <s>', 'seconds to run (default: until interrupted)', positive)
  .option('--enterprises <n>', 'enterprises to simulate', positive, 40)
  .option('--seed <n>', 'random seed', positive, 1)
  .option('--batch', 'submit through the batch endpoint')
  .option('--export <file.csv>', 'instead: write a labelled dataset offline (no server) and exit')
  .option('--count <n>', 'declarations in the exported dataset', positive, 10_000)
  .action(
    async (o: {
      url: string
      officer: string
      officer2?: string
      rate: number
      duration?: number
      enterprises: number
      seed: number
      batch?: boolean
      export?: string
      count: number
    }) => {
      if (o.export) {
        const { exportDataset } = await import('./simulator/dataset.js')
        console.log(JSON.stringify(await exportDataset({ count: o.count, seed: o.seed, out: o.export })))
        return
      }
      const cred = (s: string) => {
        const i = s.indexOf(':')
        return { username: s.slice(0, i), password: s.slice(i + 1) }
      }
      const { runSimulation } = await import('./simulator/run.js')
      const ctl = new AbortController()
      process.once('SIGINT', () => ctl.abort())
      const stats = await runSimulation({
        baseUrl: o.url,
        officer: cred(o.officer),
        ...(o.officer2 ? { officer2: cred(o.officer2) } : {}),
        rate: o.rate,
        ...(o.duration ? { durationSec: o.duration } : {}),
        enterprises: o.enterprises,
        seed: o.seed,
        batch: !!o.batch,
        signal: ctl.signal,
        log: (m) => console.error(m),
      })
      console.log(JSON.stringify(stats))
    },
  )

const cert = program
  .command('cert')
  .description('inspection and quarantine certificates, and verification of printed QR codes')
cert
  .command('verify')
  .description(
    'verify a certificate or archive printout: a PDF file, a file holding a token or verify URL, or the token itself; exit 0 only if AUTHENTIC',
  )
  .argument('<file|token>')
  .option('--url <base>', 'ask this Kouan server (POST /api/v1/certificates/verify) instead of the database')
  .action(async (arg: string, o: { url?: string }) => {
    const { existsSync } = await import('node:fs')
    const { tokenOfPdf } = await import('./shared/pdf.js')
    const { contentDigest, parseToken, tokenFromInput } = await import('./modules/certificates/index.js')
    let input = arg
    let file: { attachedContentMatchesToken: boolean } | undefined
    if (existsSync(arg)) {
      const bytes = readFileSync(arg)
      if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') {
        const inside = await tokenOfPdf(bytes)
        if (!inside.token) throw new InvalidArgumentError(`${arg} carries no Kouan token`)
        input = inside.token
        const parsed = parseToken(input)
        // The PDF's attached content must be what the token's digest commits to (an offline check of the file).
        if (inside.attachment && parsed.ok)
          file = {
            attachedContentMatchesToken:
              contentDigest(JSON.parse(Buffer.from(inside.attachment).toString('utf8'))) === parsed.token.digest,
          }
      } else input = bytes.toString('utf8')
    }
    let result: { verdict: string }
    if (o.url) {
      const res = await fetch(`${o.url.replace(/\/+$/, '')}/api/v1/certificates/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: tokenFromInput(input) }),
      })
      if (!res.ok) throw new Error(`${o.url}: HTTP ${res.status} ${await res.text()}`)
      result = (await res.json()) as { verdict: string }
    } else {
      const { verifyToken } = await import('./modules/certificates/index.js')
      result = await withDb((db) => verifyToken({ db, clock: systemClock }, input))
    }
    console.log(JSON.stringify({ ...result, ...(file ? { file } : {}) }, null, 2))
    if (result.verdict !== 'AUTHENTIC' || file?.attachedContentMatchesToken === false) process.exitCode = 1
  })
cert
  .command('keys')
  .description('the published issuing keys (JWKS with validity windows)')
  .action(async () => {
    const { publicKeys } = await import('./modules/certificates/index.js')
    await withDb(async (db) => {
      console.log(JSON.stringify(await publicKeys(db), null, 2))
    })
  })
cert
  .command('rotate-key')
  .description('retire the active issuing key (it keeps verifying what it signed) and activate a new one')
  .option(
    '--alg <alg>',
    `the new key's algorithm: ${ALGORITHM_NAMES.join(' or ')} (case-insensitive)`,
    algName,
    'Ed25519',
  )
  .action(async (o: { alg: (typeof ALGORITHM_NAMES)[number] }) => {
    const { rotateKey } = await import('./modules/certificates/index.js')
    await withDb(
      async (db) => {
        console.log(JSON.stringify(await rotateKey({ db, clock: systemClock, ids: systemIds }, 'cli:kouan', o.alg)))
      },
      { migrate: true },
    )
  })

const archive = program
  .command('archive')
  .description('declaration archives: the sweep that creates them, retention enforcement')
archive
  .command('sweep')
  .description(
    'archive every cleared declaration still pending in the outbox (the server does this every KOUAN_OUTBOX_DISPATCH_MS; on PGlite, with the server stopped)',
  )
  .action(async () => {
    const { queueState, sweepArchives } = await import('./modules/archives/index.js')
    await withDb(
      async (db) => {
        const deps = { db, clock: systemClock, ids: systemIds }
        const before = await queueState(db)
        console.log(
          JSON.stringify({
            queued: before.pending,
            oldestClearedAt: before.oldestClearedAt,
            taken: await sweepArchives(deps),
            left: (await queueState(db)).pending,
          }),
        )
      },
      { migrate: true },
    )
  })
archive
  .command('purge')
  .description(
    'remove archives past retention (audited) and drop empty partitions of past years; --dry-run lists what would go',
  )
  .option('--dry-run', 'list only, remove nothing')
  .action(async (o: { dryRun?: boolean }) => {
    const { purgeArchives } = await import('./modules/archives/index.js')
    await withDb(
      async (db) => {
        console.log(
          JSON.stringify(
            await purgeArchives({ db, clock: systemClock, ids: systemIds }, 'cli:kouan', { dryRun: !!o.dryRun }),
            null,
            2,
          ),
        )
      },
      { migrate: true },
    )
  })

cebCommand(program)

program.parseAsync().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
