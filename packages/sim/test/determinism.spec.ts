import { expect } from 'chai'
import { seededRandom } from '@simplepool/core'
import type { Member, MembershipSnapshot } from '@simplepool/core'
import { Placement } from '@simplepool/ring'
import { Runtime } from '@simplepool/runtime'
import { SimClock } from '../src/sim-clock.js'
import { SimNetwork } from '../src/sim-network.js'
import { counter } from './fixtures.js'

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

interface Outcome { digest: string, events: number, acked: number[], values: number[], failed: number }

/**
 * Three nodes' real runtimes on one virtual clock: A and B serve 200 counters under calls
 * from both; at 2 s C joins, and each node hears of it at its own moment (late news), so
 * workers are handed over and claimed under traffic. At 8 s traffic stops; every counter
 * is read back.
 */
async function joinUnderTraffic (seed: number): Promise<Outcome> {
  const random = seededRandom(seed)
  const clock = new SimClock()
  const net = new SimNetwork(clock, random)
  const runtimes = new Map<string, Runtime>()
  const views = new Map<string, Placement>()
  let members: Member[] = []
  let version = 0
  const member = (peerId: string): Member => ({ peerId, addresses: [], status: 'up', pools: { counter: { target: 100 } }, incarnation: 1, liveness: 'alive' })
  const snapshot = (): MembershipSnapshot => ({ version: ++version, self: '', members })
  const add = (peerId: string): Runtime => {
    // the runtime is made after its transport: messages reach it through the map
    const transport = net.attach(peerId, {
      handleCall: (p, from) => (runtimes.get(peerId) as Runtime).handleCall(p, from),
      handleCast: (p, from) => { (runtimes.get(peerId) as Runtime).handleCast(p, from) }
    })
    const rt = new Runtime({
      self: () => peerId,
      placement: () => views.get(peerId) as Placement,
      members: () => members,
      countOf: (peer, pool) => runtimes.get(peer)?.counts()[pool],
      transport,
      clock,
      random,
      logger: quiet
    }, { pools: [counter], fenceAfterMs: 0 })
    runtimes.set(peerId, rt)
    return rt
  }
  members = [member('A'), member('B')]
  const first = Placement.fromSnapshot(snapshot())
  for (const id of ['A', 'B']) {
    views.set(id, first)
    add(id).start()
  }
  for (const id of ['A', 'B']) runtimes.get(id)?.onPlacement(first)

  const n = 200
  const acked = new Array<number>(n).fill(0)
  let failed = 0
  const send = (): void => {
    if (clock.monotonic() >= 8_000) return
    const from = random.next() < 0.5 ? 'A' : 'B'
    const i = Math.floor(random.next() * n)
    void (runtimes.get(from) as Runtime).call('counter', `c${i}`, 'inc').then(() => { acked[i]++ }, () => { failed++ })
    clock.setTimeout(send, random.next() * 2)
  }
  clock.setTimeout(send, 1)
  clock.setTimeout(() => {
    add('C')
    members = [...members, member('C')]
    const next = Placement.fromSnapshot(snapshot())
    // every node hears of C at its own moment within half a second
    for (const id of ['A', 'B', 'C']) {
      clock.setTimeout(() => {
        views.set(id, next)
        if (id === 'C') runtimes.get('C')?.start()
        runtimes.get(id)?.onPlacement(next)
      }, id === 'C' ? 0 : random.next() * 500)
    }
  }, 2_000)
  await clock.run(20_000)
  const values: number[] = []
  for (let i = 0; i < n; i++) {
    const read = (runtimes.get('C') as Runtime).call('counter', `c${i}`, 'get') as Promise<number>
    const done = read.then(v => { values[i] = v })
    await clock.run(clock.monotonic() + 100)
    await done
  }
  for (const rt of runtimes.values()) void rt.stop()
  await clock.run(clock.monotonic() + 1_000)
  return { digest: net.digest, events: clock.events, acked, values, failed }
}

describe('the simulator', () => {
  it('replays a run exactly from its seed, and another seed makes another run', async () => {
    const a = await joinUnderTraffic(1)
    const b = await joinUnderTraffic(1)
    const c = await joinUnderTraffic(2)
    expect(b.digest).to.equal(a.digest)
    expect(b.events).to.equal(a.events)
    expect(b.values).to.deep.equal(a.values)
    expect(c.digest).to.not.equal(a.digest)
    expect(a.events).to.be.above(10_000)
  })

  it('runs the real runtimes: a join under traffic hands every counter over with its state', async () => {
    for (const seed of [3, 4, 5]) {
      const r = await joinUnderTraffic(seed)
      expect(r.acked.reduce((x, y) => x + y, 0), `seed ${seed}: calls acknowledged`).to.be.above(1_000)
      const wrong = r.values.map((v, i) => ({ i, v, acked: r.acked[i] })).filter(x => x.v < x.acked || x.v > x.acked + r.failed)
      expect(wrong.slice(0, 5), `seed ${seed}`).to.deep.equal([])
    }
  })
})
