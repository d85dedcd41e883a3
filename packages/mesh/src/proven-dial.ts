import type { Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Clock } from '@simplepool/core'
import { explainDialError, mayBeKeyRefusal } from './dial-error.js'
import type { HandshakeWitness } from './handshake-witness.js'
import type { Host } from './host.js'

/** One dial of {@link dialProven}. */
export interface ProvenDial {
  readonly host: Host
  readonly clock: Clock
  /** Undefined without a cluster key: then only bytes that do not decode prove a key. */
  readonly witness?: HandshakeWitness
  readonly targets: Multiaddr[]
  /** How the peer is named in errors: its id, or the address dialed. */
  readonly label: string
  /** A fresh signal for each dial: the caller's, and the dial deadline. */
  readonly signal: () => AbortSignal
  readonly force?: boolean
  readonly timeoutMs: number
}

/**
 * Dials `targets` and names the failure by what it proved (see `explainDialError`). A dial
 * whose handshake was closed under it, or whose peer answered the private network's nonce
 * and then failed the handshake, is made once more: a peer with another key fails it alike,
 * which proves the key; a peer that died meanwhile refuses it outright, which proves it gone.
 */
export async function dialProven (d: ProvenDial): Promise<Connection> {
  let refusedBefore = false
  for (let attempt = 0; ; attempt++) {
    const since = d.clock.monotonic()
    try {
      return await d.host.dial(d.targets, { signal: d.signal(), force: d.force === true })
    } catch (err) {
      const answered = d.witness?.answeredSince(d.targets, since) === true
      const named = explainDialError(err, d.label, d.witness !== undefined, d.timeoutMs, { answered, refusedBefore })
      const keyMaybe = mayBeKeyRefusal(err, answered)
      const closed = (named as { data?: { reason?: string } }).data?.reason === 'handshake'
      if (attempt > 0 || named.name !== 'NodeUnavailableError' || !(keyMaybe || closed)) throw named
      refusedBefore = keyMaybe
    }
  }
}
