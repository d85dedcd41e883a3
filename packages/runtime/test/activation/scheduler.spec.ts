import { expect } from 'chai'
import { ManualClock } from '@simplepool/core'
import type { Activation } from '../../src/activation/activation.js'
import { Scheduler } from '../../src/activation/scheduler.js'

describe('Scheduler', () => {
  it('looks for a stall again as a drain goes on, and a hold taken then stops the drain', async () => {
    const clock = new ManualClock()
    const ran: number[] = []
    const checks: number[] = []
    const scheduler = new Scheduler((act) => {
      ran.push((act as unknown as { n: number }).n)
      return 0
    }, clock)
    // the second look at the clock finds a stall (as after SIGCONT): the fence holds the queue
    scheduler.onDrain = (now) => {
      checks.push(now)
      if (checks.length === 2) scheduler.hold()
    }
    for (let n = 0; n < 200; n++) scheduler.add({ n, scheduled: false } as unknown as Activation)
    await Promise.resolve()
    await Promise.resolve()
    expect(checks.length).to.equal(2)
    // the clock is read again after 64 turns (an activation with nothing to do counts as one)
    expect(ran.length).to.equal(64)
    scheduler.release()
    await new Promise(resolve => setImmediate(resolve))
    expect(ran.length).to.equal(200)
    expect(ran).to.deep.equal(Array.from({ length: 200 }, (_, n) => n))
  })
})
