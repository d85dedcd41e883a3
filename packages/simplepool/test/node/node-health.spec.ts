import { expect } from 'chai'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { loopDelayMs } from '../../src/node/node-health.js'

describe('node health: event-loop delay', () => {
  it('Node records the whole sampling interval, so an idle loop is read as a delay of about 0, not 20 ms', async () => {
    const h = monitorEventLoopDelay({ resolution: 20 })
    h.enable()
    await new Promise(resolve => setTimeout(resolve, 400))
    h.disable()
    // the fact the figure corrects for: an idle loop's samples are the interval itself
    expect(h.percentile(50) / 1e6).to.be.above(15)
    expect(loopDelayMs(h.min)).to.be.below(5)
  })

  it('a recorded 20 ms is no delay, 120 ms is 100 ms of it, and nothing is below 0', () => {
    expect(loopDelayMs(20e6)).to.equal(0)
    expect(loopDelayMs(120e6)).to.equal(100)
    expect(loopDelayMs(19e6)).to.equal(0)
    expect(loopDelayMs(50e6, 10)).to.equal(40)
  })
})
