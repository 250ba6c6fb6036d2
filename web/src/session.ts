import { useSyncExternalStore } from 'react'
import type { CardSigner } from './lib/card.js'

/**
 * Who is signed in. The token lives in localStorage until it expires, so officers can open declarations in
 * new tabs; signing out in one tab signs out all of them. The card key is never stored (see below).
 */
export interface Session {
  token: string
  expiresAt: string
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
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null
    return s && Date.parse(s.expiresAt) > Date.now() ? s : null
  } catch {
    return null
  }
}

export function setSession(s: Session | null) {
  current = s
  if (s) localStorage.setItem(KEY, JSON.stringify(s))
  else localStorage.removeItem(KEY)
  for (const f of listeners) f()
}

// Another tab signed in or out.
window.addEventListener('storage', (e) => {
  if (e.key !== KEY) return
  current = read()
  for (const f of listeners) f()
})
export const getSession = () => current

export function useSession(): Session | null {
  return useSyncExternalStore(
    (f) => {
      listeners.add(f)
      return () => listeners.delete(f)
    },
    () => current,
  )
}

// The card's signer for this page only, kept in memory: a non-extractable CryptoKey (Ed25519) or the JS SM2 signer.
let cardKey: CardSigner | null = null
const keyListeners = new Set<() => void>()
export function setCardKey(k: CardSigner | null) {
  cardKey = k
  for (const f of keyListeners) f()
}
export function useCardKey(): CardSigner | null {
  return useSyncExternalStore(
    (f) => {
      keyListeners.add(f)
      return () => keyListeners.delete(f)
    },
    () => cardKey,
  )
}
