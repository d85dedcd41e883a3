import { expect } from 'chai'
import { ManualClock, SETTLE_PEERS_MAX_MS } from '@simplepool/core'
import type { Member, MemberStatus } from '@simplepool/core'
import { hearHolders } from '../../src/node/settle-membership.js'
import type { HoldersComponents } from '../../src/node/settle-membership.js'

const member = (peerId: string, status: MemberStatus): Member => ({ peerId, addresses: [], status, pools: {}, incarnation: 1, liveness: 'alive' })

/** A joining node's view, which the test fills as records would come, and what members answer when asked. */
function joining (clock: ManualClock): { view: Member[], asked: string[], c: HoldersComponents, answers: Map<string, { rings: string[], holders: string[] | Error }> } {
  const view: Member[] = [member('self', 'joining')]
  const asked: string[] = []
  const answers = new Map<string, { rings: string[], holders: string[] | Error }>()
  const c: HoldersComponents = {
    clock,
    self: 'self',
    alive: () => view.filter(m => m.liveness !== 'down'),
    // a ring's fingerprint is its `id:weight` pairs
    ringsOf: async (peer) => ({ counter: (answers.get(peer)?.rings ?? []).map(id => `${id}:1`).join(',') }),
    holdersOf: async (peer) => {
      asked.push(peer)
      const h = answers.get(peer)?.holders ?? []
      if (h instanceof Error) throw h
      return h
    }
  }
  return { view, asked, c, answers }
}

/** Lets the promise chain run, then moves the clock `ms`; the virtual time `p` took to settle. */
async function runUntil (clock: ManualClock, p: Promise<unknown>, maxMs: number): Promise<number> {
  const from = clock.monotonic()
  let done = false
  void p.then(() => { done = true })
  for (;;) {
    for (let i = 0; i < 10; i++) await Promise.resolve()
    if (done) return clock.monotonic() - from
    if (clock.monotonic() - from > maxMs) throw new Error(`still waiting after ${maxMs} virtual ms`)
    clock.advance(10)
  }
}

describe('hearHolders: what a joining node waits for before it takes work', () => {
  it('asks no member still joining: it waits for one that may hold workers, then for every holder that one names, a draining one too', async () => {
    const clock = new ManualClock()
    const { view, asked, c, answers } = joining(clock)
    // the first member heard joins as this node does: it knows of no holder
    view.push(member('j1', 'joining'))
    answers.set('up1', { rings: ['up1', 'up2'], holders: ['up1', 'up2', 'drainer'] })
    const done = hearHolders(c)
    clock.advance(300)
    for (let i = 0; i < 10; i++) await Promise.resolve()
    expect(asked).to.deep.equal([])
    view.push(member('up1', 'up'))
    // up2 is heard soon; the draining node, on no ring, later
    setTimeoutOn(clock, 200, () => { view.push(member('up2', 'up')) })
    setTimeoutOn(clock, 900, () => { view.push(member('drainer', 'draining')) })
    const took = await runUntil(clock, done, SETTLE_PEERS_MAX_MS)
    expect(asked).to.deep.equal(['up1'])
    expect(view.map(m => m.peerId)).to.include('drainer')
    // it went on once the draining node was heard, not at the deadline
    expect(took).to.be.below(SETTLE_PEERS_MAX_MS - 1_000)
  })

  it('asks a second member too, in case the first is new and knows little', async () => {
    const clock = new ManualClock()
    const { view, asked, c, answers } = joining(clock)
    view.push(member('new', 'up'), member('old', 'up'))
    answers.set('new', { rings: ['new'], holders: ['new'] })
    answers.set('old', { rings: ['old', 'other'], holders: ['old', 'other'] })
    const done = hearHolders(c)
    setTimeoutOn(clock, 500, () => { view.push(member('other', 'up')) })
    const took = await runUntil(clock, done, SETTLE_PEERS_MAX_MS)
    expect(asked).to.have.members(['new', 'old'])
    expect(took).to.be.within(500, 1_000)
  })

  it('falls back to the rings of a member that knows no holders question (an older version)', async () => {
    const clock = new ManualClock()
    const { view, c, answers } = joining(clock)
    view.push(member('up1', 'up'))
    answers.set('up1', { rings: ['up1', 'up2'], holders: Object.assign(new Error('unknown node operation 111'), { name: 'InvalidMessageError' }) })
    const done = hearHolders(c)
    setTimeoutOn(clock, 700, () => { view.push(member('up2', 'up')) })
    expect(await runUntil(clock, done, SETTLE_PEERS_MAX_MS)).to.be.within(700, 1_200)
  })

  it('gives the view its whole time to fill when no member asked answers at all', async () => {
    const clock = new ManualClock()
    const { view, c } = joining(clock)
    view.push(member('up1', 'up'))
    c.ringsOf = async () => { throw new Error('no answer') }
    c.holdersOf = async () => { throw new Error('no answer') }
    const took = await runUntil(clock, hearHolders(c), SETTLE_PEERS_MAX_MS + 500)
    expect(took).to.be.within(SETTLE_PEERS_MAX_MS, SETTLE_PEERS_MAX_MS + 100)
  })

  it('goes on after the deadline when every member is joining (a cluster whose nodes all start now)', async () => {
    const clock = new ManualClock()
    const { view, asked, c } = joining(clock)
    view.push(member('j1', 'joining'), member('j2', 'joining'))
    const took = await runUntil(clock, hearHolders(c), SETTLE_PEERS_MAX_MS + 500)
    expect(asked).to.deep.equal([])
    expect(took).to.be.within(SETTLE_PEERS_MAX_MS, SETTLE_PEERS_MAX_MS + 100)
  })
})

function setTimeoutOn (clock: ManualClock, ms: number, fn: () => void): void {
  clock.setTimeout(fn, ms)
}
