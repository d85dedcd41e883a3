import { expect } from 'chai'
import { Samples, fixedRate, percentile } from '../src/samples.js'

describe('samples', () => {
  it('keeps every sample as it grows and sorts them', () => {
    const s = new Samples()
    for (let i = 100_000; i > 0; i--) s.push(i)
    const sorted = s.sorted()
    expect(sorted.length).to.equal(100_000)
    expect(sorted[0]).to.equal(1)
    expect(percentile(sorted, 0.5)).to.equal(50_000)
    expect(percentile(sorted, 0.99)).to.equal(99_000)
    expect(percentile(new Float64Array(0), 0.5)).to.be.NaN
  })

  it('fixedRate sends rate x seconds calls at about that rate, whatever the replies do', async () => {
    let inFlight = 0
    let most = 0
    const r = await fixedRate(async () => {
      inFlight++
      most = Math.max(most, inFlight)
      // every reply takes 50 ms: a closed loop would send far fewer
      await new Promise(resolve => setTimeout(resolve, 50))
      inFlight--
    }, { rate: 2_000, seconds: 0.5 })
    expect(r.sent).to.equal(1_000)
    expect(most).to.be.greaterThan(20)
    expect(r.sentPerSecond).to.be.within(1_000, 2_200)
    expect(r.p50).to.be.at.least(50)
  })

  it('fixedRate counts a stall of the sender in the latency of the calls it delayed', async () => {
    const r = await fixedRate(async (i) => {
      // the 100th call blocks the event loop for 100 ms: calls due meanwhile go out late
      if (i === 100) {
        const until = performance.now() + 100
        while (performance.now() < until) { /* a stalled sender */ }
      }
    }, { rate: 1_000, seconds: 1 })
    expect(r.sent).to.equal(1_000)
    expect(r.max).to.be.at.least(90)
    expect(r.p99).to.be.at.least(10)
  })

  it('fixedRate counts failures by name and leaves them out of the latencies', async () => {
    const r = await fixedRate(async (i) => {
      if (i % 10 === 0) throw new RangeError('no')
    }, { rate: 1_000, seconds: 0.2 })
    expect(r.errors).to.deep.equal({ RangeError: 20 })
    // thrown where the call is made, not rejected: counted the same, and the run still ends
    const sync = await fixedRate((i) => {
      if (i % 10 === 0) throw new TypeError('at once')
      return Promise.resolve()
    }, { rate: 1_000, seconds: 0.2 })
    expect(sync.errors).to.deep.equal({ TypeError: 20 })
  })
})
