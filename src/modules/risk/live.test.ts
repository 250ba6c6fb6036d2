import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp, T0 } from '../../../test/app.js'
import {
  activeRule,
  buildEnterprise,
  buildOperator,
  CHICKEN_FEET,
  inspect,
  loginUser,
  noRandomSelection,
  submitDeclaration,
  type TestOperator,
} from '../../../test/factories.js'
import { RiskEngine } from './live.js'

/**
 * The live engine's history is replayed from the database by `sync`, in pages of keys with whole rows loaded only for
 * keys not seen yet (issue 11). Whatever the order of syncs and commits, it must equal a history loaded at once.
 */
describe("the live risk engine's sync", () => {
  const t = useTestApp()
  let op: TestOperator
  let officer: { headers: { authorization: string } }

  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    await noRandomSelection(t, await loginUser(t, 'admin'))
    await activeRule(
      t,
      officer,
      await loginUser(t, 'officer'),
      'poultry-red',
      [{ field: 'hsCode', op: 'prefix', value: '0207' }],
      { lane: 'RED', reason: 'poultry under inspection order' },
    )
    op = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })

  it('observes each declaration and learns each result once, also one stamped before rows already read (a late commit)', async () => {
    await submitDeclaration(t, op)
    const live = await RiskEngine.load(t.db)
    t.clock.set(new Date(Date.parse(T0) + 10_000).toISOString())
    const red = await submitDeclaration(t, op, { items: [CHICKEN_FEET] })
    expect(red.lane).toBe('RED')
    await live.sync(t.db)
    // Stamped 5 s earlier than the row just read, as a transaction that commits late: inside the sync window.
    t.clock.set(new Date(Date.parse(T0) + 5_000).toISOString())
    await submitDeclaration(t, op)
    await live.sync(t.db)
    await live.sync(t.db)
    t.clock.set(new Date(Date.parse(T0) + 20_000).toISOString())
    await inspect(t, officer, red.id, {
      result: 'NON_COMPLIANT',
      findings: [{ category: 'UNDERVALUATION', itemNo: 1, note: 'invoice shows 1.10 USD/kg' }],
      disposal: 'TECHNICAL_TREATMENT',
    })
    await live.sync(t.db)
    await live.sync(t.db)

    const fresh = await RiskEngine.load(t.db)
    expect(fresh.history.labelled).toBe(1)
    expect(JSON.parse(JSON.stringify(live.history))).toEqual(JSON.parse(JSON.stringify(fresh.history)))
  })
})
