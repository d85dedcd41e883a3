import { expect } from 'chai'
import { ManualClock } from '@simplepool/core'
import { TimingWheel } from '../../src/activation/timing-wheel.js'

describe('TimingWheel', () => {
  it('fires entries at or after their time, never before, in slot order', () => {
    const clock = new ManualClock()
    const fired: Array<[string, number]> = []
    const wheel = new TimingWheel<string>(clock, 100, (item) => { fired.push([item, clock.monotonic()]) })
    const t0 = clock.monotonic()
    wheel.schedule('late', t0 + 450)
    wheel.schedule('early', t0 + 50)
    clock.advance(99)
    expect(fired).to.deep.equal([])
    clock.advance(1)
    expect(fired).to.deep.equal([['early', t0 + 100]])
    clock.advance(1000)
    expect(fired.map(f => f[0])).to.deep.equal(['early', 'late'])
    expect(fired[1][1]).to.be.at.least(t0 + 450).and.below(t0 + 550)
  })

  it('hands each firing its slot, so an owner can ignore entries it rescheduled (lazy deletion)', () => {
    const clock = new ManualClock()
    const item = { slot: -1, fired: 0 }
    const wheel = new TimingWheel<typeof item>(clock, 10, (it, slot) => { if (it.slot === slot) it.fired++ })
    item.slot = wheel.schedule(item, clock.monotonic() + 20)
    item.slot = wheel.schedule(item, clock.monotonic() + 80) // the first entry is now stale
    expect(wheel.size).to.equal(2)
    clock.advance(200)
    expect(item.fired).to.equal(1)
    expect(wheel.size).to.equal(0)
  })

  it('keeps one timer for any number of entries, and none when empty', () => {
    const clock = new ManualClock()
    const wheel = new TimingWheel<number>(clock, 100, () => {})
    for (let i = 0; i < 100_000; i++) wheel.schedule(i, clock.monotonic() + (i % 5000))
    expect(clock.pendingTimers).to.equal(1)
    clock.advance(6000)
    expect(clock.pendingTimers).to.equal(0)
    expect(wheel.size).to.equal(0)
  })

  it('keeps firing the others when one entry throws', () => {
    const clock = new ManualClock()
    const seen: number[] = []
    const wheel = new TimingWheel<number>(clock, 10, (n) => { if (n === 1) throw new Error('boom'); seen.push(n) })
    for (const n of [0, 1, 2]) wheel.schedule(n, clock.monotonic() + 5)
    clock.advance(20)
    expect(seen).to.deep.equal([0, 2])
  })
})
