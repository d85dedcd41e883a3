import { expect } from 'chai'
import { DeadlineWheel, ManualClock } from '../src/index.js'

describe('DeadlineWheel', () => {
  it('fires each entry at or after its deadline, never before, and within one resolution', () => {
    const clock = new ManualClock()
    const fired: Array<[string, number]> = []
    const wheel = new DeadlineWheel<string>(clock, 10, (item) => { fired.push([item, clock.monotonic()]) })
    const t0 = clock.monotonic()
    wheel.add('a', t0 + 25)
    wheel.add('b', t0 + 5)
    wheel.add('c', t0 + 100)
    clock.advance(24)
    expect(fired.map(f => f[0])).to.deep.equal(['b'])
    clock.advance(100)
    expect(fired.map(f => f[0])).to.deep.equal(['b', 'a', 'c'])
    for (const [item, at] of fired) {
      const deadline = { a: 25, b: 5, c: 100 }[item] as number
      expect(at - t0).to.be.at.least(deadline)
      expect(at - t0).to.be.below(deadline + 10)
    }
    expect(wheel.size).to.equal(0)
  })

  it('a deleted entry never fires, and an emptied wheel lets its timer lapse', () => {
    const clock = new ManualClock()
    const fired: string[] = []
    const wheel = new DeadlineWheel<string>(clock, 10, (item) => { fired.push(item) })
    wheel.add('x', clock.monotonic() + 50)
    expect(clock.pendingTimers).to.equal(1)
    expect(wheel.delete('x')).to.equal(true)
    clock.advance(100)
    expect(fired).to.deep.equal([])
    expect(clock.pendingTimers).to.equal(0)
  })

  it('re-adding moves the deadline; many entries share one timer', () => {
    const clock = new ManualClock()
    const fired: number[] = []
    const wheel = new DeadlineWheel<number>(clock, 10, (item) => { fired.push(item) })
    for (let i = 0; i < 1_000; i++) wheel.add(i, clock.monotonic() + 1_000)
    expect(clock.pendingTimers).to.equal(1)
    wheel.add(7, clock.monotonic() + 10)
    clock.advance(20)
    expect(fired).to.deep.equal([7])
    clock.advance(1_000)
    expect(fired).to.have.length(1_000)
  })

  it('an expiry handler that throws does not stop the others', () => {
    const clock = new ManualClock()
    const fired: number[] = []
    const wheel = new DeadlineWheel<number>(clock, 10, (item) => {
      fired.push(item)
      if (item === 1) throw new Error('boom')
    })
    wheel.add(1, clock.monotonic() + 10)
    wheel.add(2, clock.monotonic() + 10)
    clock.advance(20)
    expect(fired.sort()).to.deep.equal([1, 2])
  })
})
