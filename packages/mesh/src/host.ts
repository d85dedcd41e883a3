import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { createLibp2p } from 'libp2p'
import type { Libp2pOptions } from 'libp2p'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { HandshakeWitness } from './handshake-witness.js'
import { coalescedTcp } from './coalesced-tcp.js'
import { quietLengthPrefixes } from './quiet-length-prefix.js'

/**
 * Identifies a received message before validation, from the bytes gossipsub's own id
 * is made of (author and sequence number), so a copy already seen costs no signature check.
 */
function fastMsgIdFn (msg: { from?: Uint8Array, seqno?: Uint8Array, data?: Uint8Array }): string {
  const part = (u?: Uint8Array): string => u == null ? '' : Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64')
  return `${part(msg.from)}/${part(msg.seqno)}`
}

/** The libp2p services a SimplePool host runs. */
// a type alias, not an interface: libp2p's ServiceMap needs an index signature
export type HostServices = {
  pubsub: GossipSub
  identify: Identify
}

/** A started-or-not libp2p host of ours. */
export type Host = Libp2p<HostServices>

/** What the host needs; every field comes from `MeshInit` after defaults. */
export interface HostInit {
  listen: string[]
  /** Addresses to announce instead of the listen addresses (none: those). */
  announce: string[]
  clusterKey?: string | Uint8Array
  /** Sees the private network's nonce exchanges, to name dial failures (see `explainDialError`). */
  witness: HandshakeWitness
  privateKey?: PrivateKey
  /** Address ranges that may dial us at any rate (libp2p limits one host to 5 dials/s). */
  allow: string[]
  heartbeatMs: number
}

/**
 * Builds the libp2p host: TCP, Noise, Yamux, Identify, gossipsub, and libp2p's private
 * network when a cluster key is set.
 *
 * Choices that matter:
 * - gossipsub publishes a node's own records straight to every subscribed peer
 *   (`floodPublish`), so a heartbeat costs one hop on a full mesh, and its relay mesh is
 *   thin (degree 2), since every relayed copy is one more message each node must drop.
 * - duplicates are dropped before their signature is checked (`fastMsgIdFn`): gossipsub
 *   otherwise verifies every copy a peer relays, and on a full mesh that verification was
 *   most of an idle node's CPU.
 * - gossipsub's IP colocation penalty is off: it scores down every peer past the tenth
 *   behind one IP, so on one machine (or behind one NAT) a cluster of 30 stopped hearing
 *   itself; members of a SimplePool cluster are authenticated and trusted alike.
 * - libp2p's connection monitor is off: its ping, queued behind large writes, closed
 *   healthy busy connections; membership heartbeats detect hung peers instead.
 * - dials from the allowed ranges (loopback by default) skip the per-host rate limit,
 *   since on one machine every peer is 127.0.0.1.
 * - TCP writes are coalesced: one system call per connection per turn (coalesced-tcp.ts).
 * - libp2p's length-prefixed decoder throws no error per chunk (quiet-length-prefix.ts).
 */
export async function createHost (init: HostInit): Promise<Host> {
  return createLibp2p<HostServices>({
    ...baseConfig(init),
    services: {
      identify: identify(),
      pubsub: gossipsub({
        emitSelf: false,
        floodPublish: true,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        heartbeatInterval: Math.max(200, Math.min(1_000, init.heartbeatMs * 2)),
        // a thin relay mesh: records reach every peer directly (floodPublish on a full
        // mesh); relays only cover peers not connected yet, and each relay is a copy
        // every node must receive and drop (10 nodes on one machine: D=6 cost 74% of a
        // core at idle, D=2 29%)
        D: 2,
        Dlo: 1,
        Dhi: 4,
        Dout: 0,
        Dlazy: 2,
        doPX: false,
        fastMsgIdFn,
        scoreParams: { IPColocationFactorWeight: 0 }
      })
    }
  })
}

/**
 * A host with TCP, Noise, Yamux and the private network, and no service: no Identify and
 * no gossipsub. Measured (bench/links.bench.ts): Identify costs about 2.5x the CPU of a
 * connection's Noise and Yamux handshakes, and a member that knows its peers' addresses
 * from the membership has nothing to learn from it. Membership over links of its own
 * (docs/design/membership-v2.md) needs no more.
 */
export async function createLinkHost (init: Omit<HostInit, 'heartbeatMs'>): Promise<Libp2p> {
  return createLibp2p(baseConfig(init))
}

/** What every host of ours has: transports, encryption, muxer, private network, connection limits. */
function baseConfig (init: Omit<HostInit, 'heartbeatMs'>): Libp2pOptions {
  quietLengthPrefixes()
  return {
    start: false,
    ...(init.privateKey != null ? { privateKey: init.privateKey } : {}),
    addresses: { listen: init.listen, ...(init.announce.length > 0 ? { announce: init.announce } : {}) },
    transports: [coalescedTcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(init.clusterKey != null ? { connectionProtector: init.witness.protector(init.clusterKey) } : {}),
    connectionManager: {
      allow: init.allow,
      maxConnections: 1_000,
      maxIncomingPendingConnections: 100
    },
    connectionMonitor: { enabled: false }
  }
}

/** The timers libp2p 3 leaves behind on stop, reached through its objects (not its API). */
interface Leftovers {
  services?: { pubsub?: { status?: { heartbeatTimeout?: ReturnType<typeof setTimeout> }, stop?: () => Promise<void> } }
  components?: { addressManager?: { _updatePeerStoreAddresses?: { stop?: () => void } } }
}

/**
 * Stops the host, and lets the process end as soon as it has. Measured: an app's process
 * lived on about a second after its node stopped, held by two timers libp2p leaves: the
 * gossipsub heartbeat set before the stop (its stop forgets it; up to `heartbeatInterval`)
 * and the address manager's 1 s debounce that closing the listeners starts. Neither does
 * anything once the host is stopped. gossipsub is stopped first: its stop marks it stopped
 * at once, so no heartbeat running then sets another, and the one set before is cleared.
 * Reached defensively: a libp2p without them is fine.
 */
export async function stopHost (host: Host): Promise<void> {
  const h = host as unknown as Leftovers
  const pubsub = h.services?.pubsub
  const heartbeat = pubsub?.status?.heartbeatTimeout
  const pubsubStopped = pubsub?.stop?.()
  if (heartbeat !== undefined) clearTimeout(heartbeat)
  await pubsubStopped
  await host.stop()
  h.components?.addressManager?._updatePeerStoreAddresses?.stop?.()
}
