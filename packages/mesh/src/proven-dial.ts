import type { Connection, Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { timeoutSignal } from '@simplepool/core'
import type { Clock } from '@simplepool/core'
import { explainDialError, isDialTimeout, mayBeKeyRefusal } from './dial-error.js'
import type { HandshakeWitness } from './handshake-witness.js'

/** One dial of {@link dialProven}. */
export interface ProvenDial {
  readonly host: Pick<Libp2p, 'dial'>
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

/** The caller's signal, if any, and the dial deadline in any case: a pnet dial can hang. */
export function dialDeadline (clock: Clock, timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = timeoutSignal(clock, timeoutMs)
  return signal == null ? timeout : AbortSignal.any([signal, timeout])
}

/** Dials made at most to prove a key refusal, the first included. */
const MAX_DIALS = 3

/**
 * How soon after the peer's nonce a failure must come to count as a refusal of this
 * node's key, in ms. Measured on loopback, a peer with another key resets within
 * milliseconds of the first bytes sent under the key; a connection closed later is a peer
 * giving up on a handshake that stalled (a link that flapped, its own upgrade timeout).
 */
const KEY_REFUSAL_MS = 1_000

/**
 * Dials `targets` and names the failure by what it proved (see `explainDialError`). A dial
 * whose handshake was closed under it, or whose peer answered the private network's nonce
 * and then failed the handshake, is made again, up to {@link MAX_DIALS}: a peer that died
 * meanwhile refuses the next one outright, which proves it gone; a peer with another key
 * fails them alike. Two such failures, one of them a refusal within `KEY_REFUSAL_MS` of the
 * nonce (a peer that answers its nonce and then stalls is slow, not refusing; one that
 * closes a stalled handshake later gave up on it), prove the key.
 */
export async function dialProven (d: ProvenDial): Promise<Connection> {
  let suspect = 0
  let refused = 0
  for (let attempt = 1; ; attempt++) {
    const since = d.clock.monotonic()
    try {
      return await d.host.dial(d.targets, { signal: d.signal(), force: d.force === true })
    } catch (err) {
      const answeredAt = d.witness?.answeredSince(d.targets, since)
      const keyMaybe = mayBeKeyRefusal(err, answeredAt !== undefined)
      if (keyMaybe) {
        suspect++
        if (!isDialTimeout(err) && d.clock.monotonic() - (answeredAt ?? 0) <= KEY_REFUSAL_MS) refused++
      }
      const proven = suspect >= 2 && refused >= 1
      const named = explainDialError(err, d.label, d.witness !== undefined, d.timeoutMs, proven)
      const closed = (named as { data?: { reason?: string } }).data?.reason === 'handshake'
      const again = named.name === 'NodeUnavailableError' && attempt < MAX_DIALS && (keyMaybe || (closed && attempt === 1))
      if (!again) throw named
    }
  }
}
