import type { Db, Queryable } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { appendAudit } from '../../shared/audit.js'
import { conflict, notFound, validationFailed, type ErrorItem } from '../../errors.js'
import { actorRef, type Actor } from '../auth/index.js'
import { DEFAULT_PARAMS, LaneWindow } from './engine.js'
import type { CreateRule, Params, Rule } from './schema.js'
import * as repo from './repo.js'

export interface Deps {
  db: Db
  clock: Clock
  ids: Ids
}

const NUMERIC_OPS = new Set(['lt', 'lte', 'gt', 'gte'])

/** Checks a rule's conditions make sense together: list operators get lists, numeric ones numbers, between a pair. */
export function ruleProblems(r: CreateRule): ErrorItem[] {
  const out: ErrorItem[] = []
  r.conditions.forEach((c, i) => {
    const p = `/body/conditions/${i}/value`
    const isList = Array.isArray(c.value)
    if (
      c.op === 'between' &&
      !(isList && (c.value as unknown[]).length === 2 && (c.value as unknown[]).every((x) => typeof x === 'number'))
    ) {
      out.push({ code: 'RULE_BAD_VALUE', message: 'between takes [low, high] numbers', pointer: p })
    } else if (NUMERIC_OPS.has(c.op) && typeof c.value !== 'number') {
      out.push({ code: 'RULE_BAD_VALUE', message: `${c.op} takes a number`, pointer: p })
    } else if ((c.op === 'eq' || c.op === 'ne' || c.op === 'contains') && isList) {
      out.push({ code: 'RULE_BAD_VALUE', message: `${c.op} takes a single value`, pointer: p })
    }
  })
  if (r.action.lane === 'GREEN' || r.action.lane === 'BLUE') {
    out.push({
      code: 'RULE_BAD_LANE',
      message: 'a targeting rule routes to RED or YELLOW; lowering a lane is a downgrade',
      pointer: '/body/action/lane',
    })
  }
  return out
}

/** Creates a rule, inactive: activation needs a second officer (four-eyes, DOMAIN §1). */
export async function createRule(deps: Deps, actor: Actor, input: CreateRule): Promise<Rule> {
  const problems = ruleProblems(input)
  if (problems.length) throw validationFailed(problems)
  const now = deps.clock.now().toISOString()
  const rule: Rule = {
    id: deps.ids.uuid(),
    name: input.name,
    description: input.description ?? '',
    conditions: input.conditions,
    action: input.action,
    active: false,
    createdBy: actorRef(actor),
    activatedBy: null,
    createdAt: now,
    updatedAt: now,
  }
  return deps.db.transaction(async (tx) => {
    const row = await repo.insertRule(tx, rule)
    if (!row) throw conflict('RULE_EXISTS', `a rule named ${input.name} exists`, '/body/name')
    appendAudit(tx, {
      at: new Date(now),
      actor: actorRef(actor),
      action: 'RULE_CREATED',
      entityType: 'rule',
      entityId: rule.id,
      data: { ...input },
    })
    return row
  })
}

export async function setRuleActive(deps: Deps, actor: Actor, id: string, active: boolean): Promise<Rule> {
  const now = deps.clock.now().toISOString()
  const by = actorRef(actor)
  const rule = await deps.db.transaction(async (tx) => {
    const before = await repo.findRule(tx, id)
    if (!before) throw notFound('RULE_NOT_FOUND', `rule ${id}`, '/params/id')
    if (active && before.createdBy === by)
      throw conflict('RULE_FOUR_EYES', 'a rule is activated by an officer other than its author', '/params/id')
    if (before.active === active)
      throw conflict('RULE_STATE_UNCHANGED', `rule is already ${active ? 'active' : 'inactive'}`, '/params/id')
    const after = (await repo.setRuleActive(tx, id, active, active ? by : null, now))!
    appendAudit(tx, {
      at: new Date(now),
      actor: by,
      action: active ? 'RULE_ACTIVATED' : 'RULE_DEACTIVATED',
      entityType: 'rule',
      entityId: id,
      data: {},
    })
    return after
  })
  invalidateSelectivityCache()
  return rule
}

/** Publishes a new parameter version, in force from `effectiveFrom` (default now). */
export async function publishParams(deps: Deps, actor: Actor, params: Params, effectiveFrom?: string) {
  const now = deps.clock.now().toISOString()
  if (params.thresholds.yellow > params.thresholds.red) {
    throw validationFailed([
      {
        code: 'PARAMS_THRESHOLDS',
        message: 'yellow threshold must not exceed red',
        pointer: '/body/params/thresholds/yellow',
      },
    ])
  }
  const version = await deps.db.transaction(async (tx) => {
    const v = await repo.insertParams(tx, {
      effectiveFrom: effectiveFrom ?? now,
      params,
      createdBy: actorRef(actor),
      createdAt: now,
    })
    appendAudit(tx, {
      at: new Date(now),
      actor: actorRef(actor),
      action: 'PARAMS_PUBLISHED',
      entityType: 'selectivity_params',
      entityId: String(v),
      data: { effectiveFrom: effectiveFrom ?? now },
    })
    return v
  })
  invalidateSelectivityCache()
  return version
}

export interface SelectivityState {
  rules: Rule[]
  params: Params
  paramsVersion: number
  window: LaneWindow
}

// Active rules and parameters, cached per process: changes made here invalidate at once, changes made by
// other processes are seen within CACHE_MS.
const CACHE_MS = 1000
let cache: { at: number; state: Omit<SelectivityState, 'window'> } | undefined
const window = new LaneWindow(DEFAULT_PARAMS.capWindow)

export function invalidateSelectivityCache() {
  cache = undefined
}

export async function selectivityState(db: Queryable, now: Date): Promise<SelectivityState> {
  if (!cache || now.getTime() - cache.at > CACHE_MS || now.getTime() < cache.at) {
    const [rules, current] = await Promise.all([repo.listRules(db, true), repo.currentParams(db, now.toISOString())])
    const params = current?.params ?? DEFAULT_PARAMS
    cache = { at: now.getTime(), state: { rules, params, paramsVersion: current?.version ?? 0 } }
    window.resize(params.capWindow)
  }
  return { ...cache.state, window }
}

/** Makes sure version 1 of the parameters exists (the defaults), so every decision names a stored version. */
export async function ensureDefaultParams(db: Db, clock: Clock) {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from selectivity_params')
  if (row!.n > 0) return
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(4815162343)')
    const [again] = await tx.query<{ n: number }>('select count(*)::int as n from selectivity_params')
    if (again!.n > 0) return
    const at = new Date(0).toISOString()
    const v = await repo.insertParams(tx, {
      effectiveFrom: at,
      params: DEFAULT_PARAMS,
      createdBy: 'system:kouan',
      createdAt: clock.now().toISOString(),
    })
    appendAudit(tx, {
      at: clock.now(),
      actor: 'system:kouan',
      action: 'PARAMS_PUBLISHED',
      entityType: 'selectivity_params',
      entityId: String(v),
      data: { default: true },
    })
  })
}

/** Hit rate per source and targeted vs random, from inspection results (the labels). */
export async function hitRates(db: Queryable, from?: string, to?: string) {
  const rows = await repo.hitRates(db, from ?? null, to ?? null)
  const rate = (i: number, n: number) => (i === 0 ? null : Math.round((n / i) * 10_000) / 10_000)
  const bySourceMap = new Map<string, { inspected: number; nonCompliant: number }>()
  const targeted = { inspected: 0, nonCompliant: 0 }
  const random = { inspected: 0, nonCompliant: 0 }
  for (const r of rows) {
    const s = bySourceMap.get(r.source) ?? { inspected: 0, nonCompliant: 0 }
    s.inspected += r.inspected
    s.nonCompliant += r.non_compliant
    bySourceMap.set(r.source, s)
    const g = r.random || r.source === 'RANDOM' ? random : r.source === 'MANUAL' ? undefined : targeted
    if (g) {
      g.inspected += r.inspected
      g.nonCompliant += r.non_compliant
    }
  }
  const t = rate(targeted.inspected, targeted.nonCompliant)
  const rr = rate(random.inspected, random.nonCompliant)
  return {
    bySource: [...bySourceMap]
      .map(([source, s]) => ({ source, ...s, hitRate: rate(s.inspected, s.nonCompliant) }))
      .sort((a, b) => a.source.localeCompare(b.source)),
    targeted: { ...targeted, hitRate: t },
    random: { ...random, hitRate: rr },
    liftPp: t === null || rr === null ? null : Math.round((t - rr) * 10_000) / 100,
  }
}
