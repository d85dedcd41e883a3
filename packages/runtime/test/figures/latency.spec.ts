import { expect } from 'chai'
import { LatencyHistogram } from '../../src/figures/latency.js'

describe('LatencyHistogram', () => {
  it('reads quantiles to within one bucket (about 19%)', () => {
    const h = new LatencyHistogram()
    for (let i = 1; i <= 1000; i++) h.record(i / 100) // 0.01 .. 10 ms, uniform
    const p50 = h.quantile(0.5)
    const p99 = h.quantile(0.99)
    expect(p50).to.be.within(5, 5 * 1.2)
    expect(p99).to.be.within(9.9, 9.9 * 1.2)
  })

  it('is 0 when empty, and adds and resets', () => {
    const a = new LatencyHistogram()
    expect(a.quantile(0.99)).to.equal(0)
    const b = new LatencyHistogram()
    b.record(2)
    a.add(b)
    expect(a.total).to.equal(1)
    expect(a.quantile(0.5)).to.be.within(2, 2.4)
    a.reset()
    expect(a.total).to.equal(0)
  })
})
