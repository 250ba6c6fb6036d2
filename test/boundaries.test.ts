/**
 * Module boundaries (docs/ARCHITECTURE.md "Modules and their boundaries"): the import rules of .dependency-cruiser.cjs,
 * the generated module graph in the document, and who writes and reads which table.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain ES module script without types
import { cruise, documented, mermaid } from '../scripts/module-graph.mjs'

const root = join(import.meta.dirname, '..')

/** Every table and the module that owns it: only the owner writes it. */
const OWNERS: Record<string, string> = {
  users: 'auth',
  settings: 'auth',
  auth_challenges: 'auth',
  auth_throttle: 'auth',
  exchange_rates: 'reference',
  enterprises: 'enterprises',
  enterprise_credit_history: 'enterprises',
  aeo_partners: 'enterprises',
  port_cards: 'cards',
  selectivity_rules: 'selectivity',
  selectivity_params: 'selectivity',
  entrustments: 'entrustments',
  appointment_sites: 'appointments',
  appointment_slots: 'appointments',
  appointment_numbers: 'appointments',
  appointments: 'appointments',
  appointment_history: 'appointments',
  declarations: 'declarations',
  declaration_items: 'declarations',
  declaration_refs: 'declarations',
  entry_sequences: 'declarations',
  inspections: 'inspections',
  risk_models: 'risk',
  certificates: 'certificates',
  certificate_keys: 'certificates',
  certificate_types: 'certificates',
  certificate_claims: 'certificates',
  quarantine_hs_ranges: 'certificates',
  archives: 'archives',
  archive_prints: 'archives',
  archive_retention_rules: 'archives',
  archive_purge_runs: 'archives',
  ceb_buyer_totals: 'ecommerce',
  ceb_documents: 'ecommerce',
  ceb_match_queue: 'ecommerce',
  ceb_parties: 'ecommerce',
  ceb_receipts: 'ecommerce',
  ceb_tax_bills: 'ecommerce',
  ceb_tickets: 'ecommerce',
  ceb_webhook_deliveries: 'ecommerce',
  ceb_webhooks: 'ecommerce',
  audit_checkpoints: 'audit',
  audit_checkpoint_keys: 'audit',
  db_app_roles: 'audit',
  // Kernel tables, written by src/shared (the audit chain, the outbox) on every module's behalf.
  audit_log: 'shared',
  audit_heads: 'shared',
  outbox: 'shared',
}

/** Reads of another module's tables, each with its reason. Anything not listed here is a new dependency to design. */
const READS: Record<string, { tables: string[]; why: string }> = {
  'archives/repo.ts': {
    tables: ['declarations', 'enterprises'],
    why: 'the archive snapshot is built in SQL from the cleared declaration and its trader',
  },
  'auth/repo.ts': { tables: ['port_cards'], why: 'card login resolves the card (auth sits below cards)' },
  'auth/service.ts': { tables: ['port_cards'], why: 'the session check of a card token reads its status' },
  'certificates/repo.ts': { tables: ['inspections'], why: 'a certificate is issued only after compliant inspections' },
  'console/repo.ts': {
    tables: [
      'ceb_tickets',
      'certificates',
      'declaration_items',
      'declarations',
      'enterprises',
      'exchange_rates',
      'inspections',
    ],
    why: 'the dashboard and the queue are read models over the whole port',
  },
  'declarations/service.ts': { tables: ['exchange_rates'], why: 'values are converted to CNY at intake' },
  'ecommerce/routes.ts': { tables: ['enterprises'], why: 'party registration names an enterprise' },
  'ecommerce/service.ts': { tables: ['enterprises'], why: 'the party registry joins enterprises' },
  'ecommerce/webhooks.ts': { tables: ['enterprises'], why: 'webhooks belong to an enterprise' },
  'entrustments/repo.ts': { tables: ['enterprises'], why: 'entrustments name both enterprises' },
  'inspections/repo.ts': { tables: ['declarations'], why: "a task shows its declaration's entry number" },
  'risk/live.ts': {
    tables: ['declarations', 'enterprises', 'exchange_rates', 'inspections'],
    why: 'the live history replays declarations and inspection results',
  },
  'risk/service.ts': {
    tables: ['declarations', 'enterprises', 'exchange_rates', 'inspections'],
    why: 'training and hit rates read labelled history',
  },
  'selectivity/repo.ts': { tables: ['declarations', 'inspections'], why: 'rule hit rates' },
}

function migrationTables(): string[] {
  const dir = join(root, 'src/db/migrations')
  const sql = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n')
  // Tables a later migration dropped (archive_queue, 0015) are gone.
  const dropped = new Set([...sql.matchAll(/drop table (?:if exists )?([a-z_]+)/gi)].map((m) => m[1]!.toLowerCase()))
  return [
    ...new Set([...sql.matchAll(/create table (?:if not exists )?([a-z_]+)\s*\(/gi)].map((m) => m[1]!.toLowerCase())),
  ].filter((t) => !dropped.has(t))
}

function moduleSources(): Array<{ module: string; file: string; text: string }> {
  const base = join(root, 'src/modules')
  return readdirSync(base).flatMap((m) =>
    readdirSync(join(base, m))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => ({ module: m, file: f, text: readFileSync(join(base, m, f), 'utf8') })),
  )
}

const touches = (text: string, table: string, verbs: string) =>
  new RegExp(`\\b(?:${verbs})\\s+${table}\\b`, 'i').test(text)

describe('module boundaries', () => {
  it('has no import that breaks the rules of .dependency-cruiser.cjs (cycles, private files, layers)', () => {
    const { summary } = cruise(['src', 'web/src']) as {
      summary: { violations: Array<{ rule: { name: string }; from: string; to: string }>; totalCruised: number }
    }
    expect(summary.totalCruised).toBeGreaterThan(200)
    expect(summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([])
  }, 120_000)

  it('documents the module graph as the code has it (npm run deps:graph rewrites it)', () => {
    const graph = mermaid() as string
    expect(graph).toMatch(/declarations --> selectivity/)
    expect(documented(readFileSync(join(root, 'docs/ARCHITECTURE.md'), 'utf8'))).toBe(graph)
  }, 120_000)

  it('gives every table an owner module', () => {
    const tables = migrationTables()
    expect(tables).toContain('declarations')
    expect(tables.filter((t) => !OWNERS[t])).toEqual([])
  })

  it('lets only the owner write a table', () => {
    const foreign = moduleSources().flatMap(({ module, file, text }) =>
      Object.entries(OWNERS)
        .filter(
          ([table, owner]) =>
            owner !== module && owner !== 'shared' && touches(text, table, 'insert\\s+into|update|delete\\s+from'),
        )
        .map(([table]) => `${module}/${file} writes ${table}`),
    )
    expect(foreign).toEqual([])
  })

  it("reads another module's tables only in the read models listed, each with its reason", () => {
    const reads: Record<string, string[]> = {}
    for (const { module, file, text } of moduleSources()) {
      const tables = Object.entries(OWNERS)
        .filter(([table, owner]) => owner !== module && owner !== 'shared' && touches(text, table, 'from|join'))
        .map(([table]) => table)
      if (tables.length) reads[`${module}/${file}`] = tables.sort()
    }
    expect(reads).toEqual(Object.fromEntries(Object.entries(READS).map(([k, v]) => [k, v.tables])))
  })
})
