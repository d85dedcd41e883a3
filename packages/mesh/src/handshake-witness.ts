import { preSharedKey } from '@libp2p/pnet'
import type { ConnectionProtector, MessageStream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Clock } from '@simplepool/core'
import { clusterKeyFile } from './cluster-key.js'
import { hostOf } from './own-address.js'

/** Addresses remembered at most: a bound on memory; a dial asks within its own span. */
const MAX_ANSWERS = 1_000

/** The `host:port` a TCP multiaddr names, or undefined when it names none. */
function hostPort (addr: Multiaddr | undefined): string | undefined {
  const host = hostOf(addr)
  const port = addr?.getComponents().find(c => c.name === 'tcp')?.value
  return host === undefined || port === undefined ? undefined : `${host}:${port}`
}

/**
 * Witnesses the first step of the private network's handshake on this node's outbound
 * connections: the peer sent its nonce. A failed dial alone cannot tell a peer with
 * another cluster key from one that died or was reset mid-handshake (measured: both end in
 * `EncryptionFailedError: read ECONNRESET`, or in a timeout); a peer that answered the
 * nonce exchange was alive and running a private network, and if what follows fails on
 * dials in a row, once refused at once, it refused this node's key (see `dialProven`).
 */
export class HandshakeWitness {
  private readonly clock: Clock
  /** `host:port` → when (monotonic ms) a peer there last answered this node's nonce. */
  private readonly answeredAt = new Map<string, number>()

  constructor (clock: Clock) {
    this.clock = clock
  }

  /** libp2p's private network protector for `clusterKey`, reporting to this witness. */
  protector (clusterKey: string | Uint8Array): () => ConnectionProtector {
    const make = preSharedKey({ psk: clusterKeyFile(clusterKey) })
    return () => {
      const inner = make()
      return {
        protect: async (conn: MessageStream, options) => {
          const out = await inner.protect(conn, options)
          const c = conn as MessageStream & { remoteAddr?: Multiaddr }
          if (c.direction === 'outbound') this.answered(hostPort(c.remoteAddr))
          return out
        }
      }
    }
  }

  /** When (monotonic ms) a peer at one of `targets` answered this node's nonce since `since`, or undefined. */
  answeredSince (targets: readonly Multiaddr[], since: number): number | undefined {
    for (const t of targets) {
      const key = hostPort(t)
      const at = key === undefined ? undefined : this.answeredAt.get(key)
      if (at !== undefined && at >= since) return at
    }
    return undefined
  }

  private answered (key: string | undefined): void {
    if (key === undefined) return
    this.answeredAt.delete(key)
    if (this.answeredAt.size >= MAX_ANSWERS) {
      const oldest = this.answeredAt.keys().next().value
      if (oldest !== undefined) this.answeredAt.delete(oldest)
    }
    this.answeredAt.set(key, this.clock.monotonic())
  }
}
