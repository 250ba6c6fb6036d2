import { describe, expect, it } from 'vitest'
import { DEFAULT_VIDEO_POLICY, videoEligibility, type VideoFacts } from './eligibility.js'

const policy = { ...DEFAULT_VIDEO_POLICY, equippedSites: ['5301'], campaigns: ['2026-FOOD-SAFETY'] }
const facts: VideoFacts = {
  creditLevel: 'CERTIFIED',
  consented: true,
  site: '5301',
  riskScore: 0.2,
  hsCodes: ['0808100000'],
  campaignTags: [],
  officerAgrees: undefined,
}
const codes = (f: Partial<VideoFacts>) => videoEligibility({ ...facts, ...f }, policy).reasons.map((r) => r.code)

describe('video inspection eligibility', () => {
  it('an eligible task waits for the officer, who chooses video or on site', () => {
    expect(videoEligibility(facts, policy)).toMatchObject({ mode: 'ELIGIBLE', reasons: [{ code: 'ELIGIBLE' }] })
    expect(videoEligibility({ ...facts, officerAgrees: true }, policy)).toMatchObject({
      mode: 'VIDEO',
      reasons: [{ code: 'OFFICER_AGREED' }],
    })
    expect(videoEligibility({ ...facts, officerAgrees: false }, policy)).toMatchObject({
      mode: 'ON_SITE',
      reasons: [{ code: 'OFFICER_DECLINED' }],
    })
  })

  it('each condition sends the task on site with its reason; all reasons are kept', () => {
    expect(codes({ consented: false })).toEqual(['ENTERPRISE_NOT_CONSENTED'])
    expect(codes({ creditLevel: 'DISHONEST' })).toEqual(['ENTERPRISE_DISCREDITED'])
    expect(codes({ creditLevel: 'SERIOUSLY_DISHONEST' })).toEqual(['ENTERPRISE_DISCREDITED'])
    expect(codes({ site: '5302' })).toEqual(['SITE_NOT_EQUIPPED'])
    expect(codes({ riskScore: 0.8 })).toEqual(['HIGH_RISK'])
    expect(codes({ riskScore: 0.79 })).toEqual(['ELIGIBLE'])
    expect(codes({ riskScore: null })).toEqual(['ELIGIBLE'])
    expect(codes({ hsCodes: ['0808100000', '2844101000'] })).toEqual(['EXCLUDED_GOODS'])
    expect(codes({ campaignTags: ['2026-FOOD-SAFETY', 'OTHER'] })).toEqual(['SPECIAL_CAMPAIGN'])
    expect(codes({ consented: false, creditLevel: 'DISHONEST', riskScore: 0.95, officerAgrees: true })).toEqual([
      'ENTERPRISE_NOT_CONSENTED',
      'ENTERPRISE_DISCREDITED',
      'HIGH_RISK',
    ])
    // The officer's agreement never overrides a refusal.
    expect(videoEligibility({ ...facts, site: '9999', officerAgrees: true }, policy).mode).toBe('ON_SITE')
  })

  it('credit levels come from the policy; no site is equipped by default', () => {
    expect(
      videoEligibility({ ...facts, creditLevel: 'REGULAR' }, { ...policy, creditLevels: ['ADVANCED_CERTIFIED'] }),
    ).toMatchObject({ mode: 'ON_SITE', reasons: [{ code: 'CREDIT_LEVEL_NOT_ALLOWED' }] })
    expect(videoEligibility(facts).reasons.map((r) => r.code)).toEqual(['SITE_NOT_EQUIPPED'])
  })
})
