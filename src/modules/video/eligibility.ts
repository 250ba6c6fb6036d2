/**
 * Whether an inspection task may be done by remote video (远程视频查验, issue 15). GACC's pilots (17 districts):
 * the enterprise consents and has the equipment, is not discredited; high-risk goods and special enforcement campaigns
 * are excluded; the officer agrees. Every reason is recorded, whichever way it goes. Pure: the caller gathers the facts.
 */
export const VIDEO_CREDIT_LEVELS_DEFAULT = ['ADVANCED_CERTIFIED', 'CERTIFIED', 'REGULAR'] as const

/** What the site configures (treated as configuration, not law: the pilots publish no thresholds). */
export interface VideoPolicy {
  /** Credit levels allowed (discredited levels never are). */
  creditLevels: readonly string[]
  /** Tasks whose declaration scored at or above this risk (0–1) are done on site. */
  maxRiskScore: number
  /** HS code prefixes never inspected by video (hazardous goods, e.g. chapter 28/29 chemicals, 36 explosives, 93 arms). */
  excludedHsPrefixes: readonly string[]
  /** Tags of special enforcement campaigns: a declaration carrying one is done on site. */
  campaigns: readonly string[]
  /** Sites (customs offices) equipped for video inspection; empty: none is. */
  equippedSites: readonly string[]
}

export const DEFAULT_VIDEO_POLICY: VideoPolicy = {
  creditLevels: VIDEO_CREDIT_LEVELS_DEFAULT,
  maxRiskScore: 0.8,
  excludedHsPrefixes: ['28', '29', '36', '93', '2612', '2844'],
  campaigns: [],
  equippedSites: [],
}

export interface VideoFacts {
  creditLevel: string
  /** The enterprise consented to video inspection. */
  consented: boolean
  /** The office doing the inspection. */
  site: string
  /** The declaration's risk score (0–1), if scored. */
  riskScore: number | null
  hsCodes: readonly string[]
  /** Campaign tags the declaration carries. */
  campaignTags: readonly string[]
  /** The officer's choice: undefined before asked, false declines video. */
  officerAgrees: boolean | undefined
}

export interface VideoReason {
  code:
    | 'ENTERPRISE_NOT_CONSENTED'
    | 'ENTERPRISE_DISCREDITED'
    | 'CREDIT_LEVEL_NOT_ALLOWED'
    | 'SITE_NOT_EQUIPPED'
    | 'HIGH_RISK'
    | 'EXCLUDED_GOODS'
    | 'SPECIAL_CAMPAIGN'
    | 'OFFICER_DECLINED'
    | 'ELIGIBLE'
    | 'OFFICER_AGREED'
  message: string
}

export interface VideoDecision {
  /** VIDEO only when every condition holds and the officer agreed; ELIGIBLE: waits for the officer. */
  mode: 'VIDEO' | 'ON_SITE' | 'ELIGIBLE'
  reasons: VideoReason[]
}

const DISCREDITED = new Set(['DISHONEST', 'SERIOUSLY_DISHONEST'])

/** Decides video or on site, with every reason that applies (all of them, not only the first). */
export function videoEligibility(f: VideoFacts, p: VideoPolicy = DEFAULT_VIDEO_POLICY): VideoDecision {
  const reasons: VideoReason[] = []
  if (!f.consented)
    reasons.push({ code: 'ENTERPRISE_NOT_CONSENTED', message: 'the enterprise has not consented to video inspection' })
  if (DISCREDITED.has(f.creditLevel))
    reasons.push({ code: 'ENTERPRISE_DISCREDITED', message: `discredited enterprise (${f.creditLevel})` })
  else if (!p.creditLevels.includes(f.creditLevel))
    reasons.push({ code: 'CREDIT_LEVEL_NOT_ALLOWED', message: `credit level ${f.creditLevel} is not admitted` })
  if (!p.equippedSites.includes(f.site))
    reasons.push({ code: 'SITE_NOT_EQUIPPED', message: `site ${f.site} is not equipped for video inspection` })
  if (f.riskScore !== null && f.riskScore >= p.maxRiskScore)
    reasons.push({ code: 'HIGH_RISK', message: `risk score ${f.riskScore} ≥ ${p.maxRiskScore}` })
  const excluded = f.hsCodes.filter((hs) => p.excludedHsPrefixes.some((x) => hs.startsWith(x)))
  if (excluded.length)
    reasons.push({ code: 'EXCLUDED_GOODS', message: `goods excluded from video inspection: ${excluded.join(', ')}` })
  const campaigns = f.campaignTags.filter((c) => p.campaigns.includes(c))
  if (campaigns.length) reasons.push({ code: 'SPECIAL_CAMPAIGN', message: `special campaign: ${campaigns.join(', ')}` })
  if (reasons.length) return { mode: 'ON_SITE', reasons }
  if (f.officerAgrees === false)
    return {
      mode: 'ON_SITE',
      reasons: [{ code: 'OFFICER_DECLINED', message: 'the officer chose an on-site inspection' }],
    }
  if (f.officerAgrees === true)
    return { mode: 'VIDEO', reasons: [{ code: 'OFFICER_AGREED', message: 'eligible, and the officer agreed' }] }
  return {
    mode: 'ELIGIBLE',
    reasons: [{ code: 'ELIGIBLE', message: 'eligible for video inspection; the officer decides' }],
  }
}
