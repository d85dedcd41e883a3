import { expect } from 'chai'
import { ManualClock, seededRandom } from '@simplepool/core'
import { CallDeadlines, Watched } from '../src/call-deadlines.js'
import type { Timed } from '../src/call-deadlines.js'

interface Item extends Timed { name: string }

const item = (name: string): Item => ({ name, due: 0, watched: Watched.Not })

function setup (resolutionMs = 10): { clock: ManualClock, fired: Array<[string, number]>, deadlines: CallDeadlines<Item> } {
  const clock = new ManualClock()
  const fired: Array<[string, number]> = []
  const deadlines = new CallDeadlines<Item>(clock, resolutionMs, (i) => { fired.push([i.name, clock.monotonic()]) })
  return { clock, fired, deadlines }
}

describe('CallDeadlines', () => {
  it('fires calls of one timeout in order, never before their deadline and within one resolution', () => {
    const { clock, fired, deadlines } = setup()
    const t0 = clock.monotonic()
    const due: Record<string, number> = {}
    for (let i = 0; i < 20; i++) {
      const name = `c${i}`
      due[name] = clock.monotonic() + 100
      deadlines.add(item(name), due[name])
      clock.advance(3)
    }
    clock.advance(200)
    expect(fired.map(f => f[0])).to.deep.equal(Array.from({ length: 20 }, (_, i) => `c${i}`))
    for (const [name, at] of fired) {
      expect(at).to.be.at.least(due[name])
      expect(at).to.be.below(due[name] + 10)
    }
    expect(clock.monotonic() - t0).to.be.at.least(260)
    expect(deadlines.size).to.equal(0)
  })

  it('a call answered never fires, wherever it waits; the others still do', () => {
    const { clock, fired, deadlines } = setup()
    const now = clock.monotonic()
    const items = Array.from({ length: 6 }, (_, i) => item(`c${i}`))
    for (const i of items) deadlines.add(i, now + 50)
    const short = item('short')
    deadlines.add(short, now + 20)
    expect(short.watched).to.equal(Watched.Wheel)
    for (const i of [items[0], items[2], items[5], short]) deadlines.delete(i)
    expect(deadlines.size).to.equal(3)
    clock.advance(100)
    expect(fired.map(f => f[0])).to.deep.equal(['c1', 'c3', 'c4'])
  })

  it('a shorter timeout after longer ones goes on the wheel and fires first; a timer set for an answered long call is moved up', () => {
    const { clock, fired, deadlines } = setup()
    const now = clock.monotonic()
    const long = item('long')
    deadlines.add(long, now + 60_000)
    deadlines.add(item('short'), now + 30)
    clock.advance(40)
    expect(fired.map(f => f[0])).to.deep.equal(['short'])
    // the long one answered: the queue is empty, its timer still set a minute out
    deadlines.delete(long)
    deadlines.add(item('next'), clock.monotonic() + 30)
    clock.advance(40)
    expect(fired.map(f => f[0])).to.deep.equal(['short', 'next'])
  })

  it('one call that hangs behind thousands answered does not keep them', () => {
    const { clock, fired, deadlines } = setup()
    const hung = item('hung')
    deadlines.add(hung, clock.monotonic() + 5_000)
    for (let i = 0; i < 100_000; i++) {
      const c = item(`c${i}`)
      deadlines.add(c, clock.monotonic() + 5_000)
      deadlines.delete(c)
    }
    expect(deadlines.size).to.equal(1)
    // what the queue holds: the one that waits and at most about as many answered as that, plus the compaction's threshold
    expect((deadlines as unknown as { queue: Item[], head: number }).queue.length).to.be.below(2_100)
    clock.advance(5_100)
    expect(fired.map(f => f[0])).to.deep.equal(['hung'])
  })

  it('clear forgets every call and its timer', () => {
    const { clock, fired, deadlines } = setup()
    deadlines.add(item('a'), clock.monotonic() + 10)
    deadlines.add(item('b'), clock.monotonic() + 5)
    deadlines.clear()
    expect(clock.pendingTimers).to.equal(0)
    clock.advance(100)
    expect(fired).to.deep.equal([])
  })

  it('matches a model of deadlines under random adds, answers and time', () => {
    const random = seededRandom(7)
    const { clock, fired, deadlines } = setup(5)
    const live = new Map<string, number>()
    const items = new Map<string, Item>()
    for (let step = 0; step < 5_000; step++) {
      const r = random.next()
      if (r < 0.5) {
        const name = `i${step}`
        const timeout = random.next() < 0.8 ? 200 : Math.floor(random.next() * 400) + 1
        const it = item(name)
        items.set(name, it)
        live.set(name, clock.monotonic() + timeout)
        deadlines.add(it, clock.monotonic() + timeout)
      } else if (r < 0.8 && live.size > 0) {
        const names = [...live.keys()]
        const name = names[Math.floor(random.next() * names.length)]
        live.delete(name)
        deadlines.delete(items.get(name) as Item)
      } else {
        clock.advance(Math.floor(random.next() * 20))
        // what fired was live (not answered) and due; what is live is not past its deadline by a resolution
        for (const [name, at] of fired.splice(0)) {
          expect(live.has(name), `${name} fired after it was answered`).to.equal(true)
          expect(at).to.be.at.least(live.get(name) as number)
          live.delete(name)
        }
        for (const [name, due] of live) expect(due + 5, `${name} has not fired`).to.be.above(clock.monotonic())
      }
    }
  })
})
