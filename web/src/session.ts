import { useSyncExternalStore } from 'react'

/** Who is signed in in this tab. The token lives in sessionStorage (gone with the tab); the card key never does. */
export interface Session {
  token: string
  kind: 'user' | 'card'
  role: string
  name: string
  enterpriseId?: string | undefined
  cardNo?: string | undefined
}

const KEY = 'kouan.session'
const listeners = new Set<() => void>()
let current: Session | null = read()

function read(): Session | null {
  try { return JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null } catch { return null }
}

export function setSession(s: Session | null) {
  current = s
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s))
  else sessionStorage.removeItem(KEY)
  for (const f of listeners) f()
}
export const getSession = () => current

export function useSession(): Session | null {
  return useSyncExternalStore((f) => { listeners.add(f); return () => listeners.delete(f) }, () => current)
}

// The card's signing key for this page only: a non-extractable CryptoKey, kept in memory.
let cardKey: CryptoKey | null = null
const keyListeners = new Set<() => void>()
export function setCardKey(k: CryptoKey | null) { cardKey = k; for (const f of keyListeners) f() }
export function useCardKey(): CryptoKey | null {
  return useSyncExternalStore((f) => { keyListeners.add(f); return () => keyListeners.delete(f) }, () => cardKey)
}
