import { expect } from 'chai'
import { EPOCHS_PER_MS, EPOCH_AHEAD_MAX_MS, ManualClock } from '@simplepool/core'
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

  it('ignore an epoch more than a day past the clock: a forged one cannot push every later epoch to the end of the safe integers', () => {
    const clock = new ManualClock(1_000_000)
    const epochs = new Epochs(clock)
    const dayAhead = (1_000_000 + EPOCH_AHEAD_MAX_MS) * EPOCHS_PER_MS
    expect(epochs.plausible(dayAhead)).to.equal(true)
    expect(epochs.plausible(dayAhead + 1)).to.equal(false)
    expect(epochs.plausible(Number.MAX_SAFE_INTEGER)).to.equal(false)
    expect(epochs.plausible(1.5)).to.equal(false)
    epochs.observe(Number.MAX_SAFE_INTEGER)
    epochs.observe(dayAhead + 1)
    expect(epochs.next()).to.equal(1_000_000 * EPOCHS_PER_MS)
    epochs.observe(dayAhead)
    expect(epochs.next()).to.equal(dayAhead + 1)
  })
})
