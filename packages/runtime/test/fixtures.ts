import { ManualClock, TimeoutError, fromWireError, seededRandom, toWireError } from '@simplepool/core'
import type { Clock, Member, MembershipSnapshot } from '@simplepool/core'
import { Placement } from '@simplepool/ring'
import { decode, encode } from 'cbor-x'
import { Runtime } from '../src/runtime.js'
import type { RuntimeComponents, RuntimeInit, RuntimeTransport } from '../src/runtime-types.js'

/** A logger that keeps quiet. */
export const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

/**
 * Runtimes in one process, joined by a fake transport that round-trips every payload
 * through cbor (as the real one does) and delivers on a later microtask. For unit tests of
 * routing and forwarding; the real transport is tested across processes in test/.
 */
export class LocalCluster {
  readonly runtimes = new Map<string, Runtime>()
  private members: Member[] = []
  private version = 0
  /** Each node's own placement; a test may give one node a different view. */
  readonly views = new Map<string, Placement>()
  readonly clock: Clock
  /** When set and true for a call, its reply is lost: the caller gets `TimeoutError` after the callee acted. */
  loseReply?: (from: string, to: string, payload: unknown) => boolean
  /** When set and it returns an error for a call, the call fails with it before it reaches the callee. */
  failCall?: (from: string, to: string, payload: unknown) => Error | undefined

  constructor (clock: Clock = new ManualClock()) {
    this.clock = clock
  }

  add (peerId: string, init: RuntimeInit, components: Partial<RuntimeComponents> = {}): Runtime {
    const transport: RuntimeTransport = {
      cast: (to, payload) => {
        const wire = encode(payload)
        queueMicrotask(() => { this.runtimes.get(to)?.handleCast(decode(wire), peerId) })
      },
      call: async (to, payload) => {
        const wire = encode(payload)
        await Promise.resolve()
        const failed = this.failCall?.(peerId, to, payload)
        if (failed !== undefined) throw failed
        const rt = this.runtimes.get(to)
        if (rt == null) throw new Error(`no node ${to}`)
        let reply: unknown
        try {
          reply = decode(encode(await rt.handleCall(decode(wire), peerId)))
        } catch (err) {
          throw fromWireError(toWireError(err))
        }
        // a reply lost on the way back: the caller times out, though the callee did the work
        if (this.loseReply?.(peerId, to, payload) === true) throw new TimeoutError('the reply was lost')
        return reply
      }
    }
    const rt = new Runtime({
      self: () => peerId,
      placement: () => this.views.get(peerId) as Placement,
      members: () => this.members,
      countOf: (peer, pool) => this.runtimes.get(peer)?.counts()[pool],
      transport,
      clock: this.clock,
      random: seededRandom(7),
      logger: quiet,
      ...components
    }, init)
    this.runtimes.set(peerId, rt)
    this.members.push({ peerId, addresses: [], status: 'up', pools: Object.fromEntries(Object.entries(rt.targets()).map(([k, v]) => [k, { target: v }])), incarnation: 1, liveness: 'alive' })
    this.members.sort((a, b) => a.peerId < b.peerId ? -1 : 1)
    this.refresh()
    rt.start()
    return rt
  }

  /** Every node sees the current members. */
  refresh (): void {
    const snap: MembershipSnapshot = { version: ++this.version, self: '', members: this.members }
    const p = Placement.fromSnapshot(snap)
    for (const [id, rt] of this.runtimes) {
      this.views.set(id, p)
      rt.onPlacement(p)
    }
  }

  /** A node announces new targets: every node sees them. */
  retarget (peerId: string, targets: Record<string, number>): void {
    this.members = this.members.map(m => m.peerId === peerId
      ? { ...m, pools: Object.fromEntries(Object.entries({ ...Object.fromEntries(Object.entries(m.pools).map(([k, v]) => [k, v.target])), ...targets }).map(([k, v]) => [k, { target: v }])) }
      : m)
    this.refresh()
  }

  /** A node dies: the others mark it down (it leaves the rings) and nothing reaches it any more. */
  async down (peerId: string): Promise<void> {
    await this.runtimes.get(peerId)?.stop()
    this.runtimes.delete(peerId)
    this.members = this.members.map(m => m.peerId === peerId ? { ...m, liveness: 'down' as const } : m)
    this.refresh()
  }

  /** Gives one node its own view: as if only `serving` were up. */
  skew (peerId: string, serving: string[]): void {
    const snap: MembershipSnapshot = { version: ++this.version, self: peerId, members: this.members.filter(m => serving.includes(m.peerId)) }
    const p = Placement.fromSnapshot(snap)
    this.views.set(peerId, p)
    this.runtimes.get(peerId)?.onPlacement(p)
  }

  async stop (): Promise<void> {
    for (const rt of this.runtimes.values()) await rt.stop()
  }
}

/**
 * A fresh manual clock and cluster for each test of the enclosing suite, stopped after
 * it (also when it fails): `const t = useCluster()`, then `t.clock` and `t.cluster`.
 */
export function useCluster (): { readonly clock: ManualClock, readonly cluster: LocalCluster } {
  const t = { clock: new ManualClock(), cluster: new LocalCluster() }
  beforeEach(() => {
    t.clock = new ManualClock()
    t.cluster = new LocalCluster(t.clock)
  })
  afterEach(async () => { await t.cluster.stop() })
  return t
}

/** Resolves after pending microtasks and one macrotask. */
export async function settle (): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function rejection (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}
