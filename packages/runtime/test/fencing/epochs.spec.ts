import { expect } from 'chai'
import { ManualClock } from '@simplepool/core'
import { Epochs } from '../../src/fencing/epochs.js'

describe('Epochs', () => {
  it('grow on every call, follow wall time, and are whole numbers whatever the clock gives', () => {
    const clock = new ManualClock(1_000)
    const epochs = new Epochs({ ...clock, now: () => clock.now() + 0.7 })
    const first = epochs.next()
    const second = epochs.next()
    expect(Number.isSafeInteger(first)).to.equal(true)
    expect(second).to.equal(first + 1)
    clock.advance(10)
    expect(epochs.next()).to.equal(1_010 * 1024)
    expect(epochs.last).to.equal(1_010 * 1024)
  })
})
