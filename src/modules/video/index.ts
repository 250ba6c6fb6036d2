/**
 * Remote video inspection (远程视频查验, issue 15, in progress): eligibility and the recording's tamper-evident chain.
 * The module's public face: other modules and the composition root import only this file.
 */
export { chainOf, genesisHead, link, verifyChain } from './chain.js'
export type { ChainLink, ChainVerdict } from './chain.js'
export { DEFAULT_VIDEO_POLICY, videoEligibility } from './eligibility.js'
export type { VideoDecision, VideoFacts, VideoPolicy, VideoReason } from './eligibility.js'
