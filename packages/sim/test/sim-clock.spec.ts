import { expect } from 'chai'
import { SimClock } from '../src/sim-clock.js'

describe('SimClock', () => {
  it('takes events by due time, then in the order they were made; a cleared one never runs', async () => {
    const clock = new SimClock()
    const seen: string[] = []
    clock.setTimeout(() => { seen.push(`b@${clock.monotonic()}`) }, 20)
    clock.setTimeout(() => { seen.push(`a@${clock.monotonic()}`) }, 10)
    const gone = clock.setTimeout(() => { seen.push('cleared') }, 15)
    clock.setTimeout(() => { seen.push(`c@${clock.monotonic()}`) }, 20)
    clock.defer(() => { seen.push(`d@${clock.monotonic()}`) })
    clock.clearTimeout(gone)
    await clock.run(100)
    expect(seen).to.deep.equal(['d@0', 'a@10', 'b@20', 'c@20'])
    expect(clock.monotonic()).to.equal(100)
    expect(clock.events).to.equal(4)
  })

  it('lets the promises an event settles run before the next event', async () => {
    const clock = new SimClock()
    const seen: string[] = []
    clock.setTimeout(() => {
      void Promise.resolve().then(() => Promise.resolve()).then(() => { seen.push('chain') })
    }, 5)
    clock.setTimeout(() => { seen.push('next') }, 5)
    await clock.run(10)
    expect(seen).to.deep.equal(['chain', 'next'])
  })

  it('keeps wall time in whole milliseconds, and a skewed node sees its own', async () => {
    const clock = new SimClock()
    const skewed = clock.skewed(-3_000)
    await clock.run(1.75)
    expect(Number.isInteger(clock.now())).to.equal(true)
    expect(skewed.now()).to.equal(clock.now() - 3_000)
    expect(skewed.monotonic()).to.equal(1.75)
  })
})
