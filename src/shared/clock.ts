import { randomBytes, randomUUID } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'

/** Source of the current time; services never call `Date.now()` themselves. */
export interface Clock {
  now(): Date
}
export const systemClock: Clock = { now: () => new Date() }

/** A clock tests can set and advance. */
export function fixedClock(start: Date | string): Clock & { advance(ms: number): void; set(d: Date | string): void } {
  let t = new Date(start).getTime()
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms
    },
    set: (d) => {
      t = new Date(d).getTime()
    },
  }
}

/** Source of identifiers and random bytes; injectable so tests can be deterministic. */
export interface Ids {
  /** Time-ordered UUID (v7), good for B-tree locality of hot tables. */
  uuid(): string
  /** `n` random bytes as base64url. */
  token(n: number): string
}
export const systemIds: Ids = {
  uuid: () => uuidv7(),
  token: (n) => randomBytes(n).toString('base64url'),
}
export { randomUUID }

/** A seeded PRNG (mulberry32); used for the random control group and the simulator. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
