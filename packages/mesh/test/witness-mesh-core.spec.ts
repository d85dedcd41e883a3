import { expect } from 'chai'
import { ManualClock, seededRandom } from '@simplepool/core'
import { WitnessMeshCore } from '../src/witness/witness-mesh-core.js'
import type { LinkMessage } from '../src/witness/witness-messages.js'

interface Cores {
  clock: ManualClock
  cores: Record<string, WitnessMeshCore>
  /** Nodes whose messages, both ways, are lost. */
  cut: Set<string>
}

function cores (ids: string[]): Cores {
  const clock = new ManualClock(1_000_000)
  const random = seededRandom(7)
  const cut = new Set<string>()
  const cores: Record<string, WitnessMeshCore> = {}
  for (const [i, id] of ids.entries()) {
    cores[id] = new WitnessMeshCore({
      peerId: id,
      addresses: [`/memory/${id}`],
      clock,
      random: seededRandom(100 + i),
      send: (to: string, m: LinkMessage) => {
        if (cut.has(id) || cut.has(to)) return
        clock.setTimeout(() => { if (!cut.has(to)) cores[to].receive(id, m) }, 1 + Math.floor(random.next() * 4))
      }
    }, { room: 1 })
  }
  return { clock, cores, cut }
}

/** Advances 10 ms at a time, letting promises run between, until `done` or `ms` passed; the time it took, or -1. */
async function until (clock: ManualClock, done: () => boolean, ms: number): Promise<number> {
  for (let t = 0; t <= ms; t += 10) {
    if (done()) return t
    clock.advance(10)
    await Promise.resolve()
  }
  return -1
}

/** Starts `ids` (the first alone, the others through it), all `up` once their leases are ready. */
async function started (c: Cores, ids: string[]): Promise<void> {
  c.cores[ids[0]].start([])
  for (const id of ids.slice(1)) c.cores[id].start([ids[0]])
  expect(await until(c.clock, () => ids.every(id => c.cores[id].lease.ready() && c.cores[id].snapshot().members.length === ids.length), 10_000)).to.be.at.least(0)
  for (const id of ids) c.cores[id].setStatus('up')
  // witnesses named anew as the members came, settled
  await until(c.clock, () => false, 8_000)
}

describe('WitnessMeshCore: the node\'s lease on witness membership', function () {
  this.timeout(30_000)

  it('holds while the node joins (it holds nothing yet), and is ready only once its witnesses echo it', async () => {
    const c = cores(['a', 'b'])
    c.cores.a.start([])
    c.cores.b.start(['a'])
    expect(c.cores.b.lease.holds()).to.equal(true)
    expect(c.cores.b.lease.ready()).to.equal(false)
    expect(await until(c.clock, () => c.cores.b.lease.ready(), 5_000)).to.be.within(0, 3_000)
  })

  it('a node held down while cut off learns it as the cut heals: `lease:lost`, no lease, and "marked down" answered yes', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e']
    const c = cores(ids)
    await started(c, ids)
    const lost: string[] = []
    c.cores.e.addEventListener('lease:lost', (evt) => { lost.push(evt.detail.peerId) })
    c.cut.add('e')
    const cutAt = c.clock.monotonic()
    expect(await until(c.clock, () => ['a', 'b', 'c', 'd'].every(id => c.cores[id].member('e')?.liveness === 'down'), 10_000)).to.be.at.least(0)
    expect(c.cores.e.lease.holds(), 'no lease while cut off').to.equal(false)
    c.cut.delete('e')
    const answer = c.cores.e.lease.markedDown(c.clock.monotonic() - cutAt, { timeoutMs: 5_000 })
    expect(await until(c.clock, () => lost.length > 0, 5_000)).to.be.at.least(0)
    let said: boolean | undefined
    void answer.then(v => { said = v })
    expect(await until(c.clock, () => said !== undefined, 6_000)).to.be.at.least(0)
    expect(said).to.equal(true)
  })

  it('a node whose witnesses hear it again after a short cut is told nobody marked it down', async () => {
    const ids = ['a', 'b', 'c']
    const c = cores(ids)
    await started(c, ids)
    c.cut.add('c')
    await until(c.clock, () => false, 1_200)
    c.cut.delete('c')
    let said: boolean | undefined
    void c.cores.c.lease.markedDown(1_200, { timeoutMs: 5_000 }).then(v => { said = v })
    expect(await until(c.clock, () => said !== undefined, 6_000)).to.be.at.least(0)
    expect(said).to.equal(false)
  })

  it('a node that leaves waits until the members that name it name others, so none that stays loses its lease', async () => {
    for (const leaver of ['b', 'c']) {
      const ids = ['a', 'b', 'c']
      const c = cores(ids)
      await started(c, ids)
      const stay = ids.filter(id => id !== leaver)
      let left = false
      void c.cores[leaver].leave().then(() => { left = true })
      expect(await until(c.clock, () => left, 6_000)).to.be.at.least(0)
      expect(stay.flatMap(id => c.cores[id].membership.witnesses), 'nobody names it any more').to.not.include(leaver)
      c.cut.add(leaver)
      c.cores[leaver].stop()
      expect(await until(c.clock, () => stay.some(id => !c.cores[id].lease.holds()), 15_000), `a node lost its lease after ${leaver} left`).to.equal(-1)
    }
  })

  it('a node that serves and holds no lease for 10 s, though nobody holds it down, comes back as a new generation', async () => {
    const ids = ['a', 'b', 'c']
    const c = cores(ids)
    await started(c, ids)
    const gen = c.cores.c.membership.roster.self.gen
    const lost: string[] = []
    c.cores.c.addEventListener('lease:lost', (evt) => { lost.push(evt.detail.peerId) })
    // c hears nothing and is heard by nobody: the others hold it down, it never learns so
    c.cut.add('c')
    expect(await until(c.clock, () => lost.length > 0, 15_000)).to.be.within(9_000, 12_000)
    expect(c.cores.c.membership.roster.self.gen).to.be.above(gen)
  })
})
