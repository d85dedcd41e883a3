import { expect } from 'chai'
import { ManualClock } from '@simplepool/core'
import { Later } from '../../src/handoff/later.js'

describe('Later', () => {
  it('hands back what was added once its delay passed, in order, with one timer, and forgets it all on stop', () => {
    const clock = new ManualClock()
    const due: number[][] = []
    const later = new Later<number>(clock, 1_000, (items) => { due.push(items) })
    later.add([1, 2])
    clock.advance(400)
    later.add([3])
    expect(later.size).to.equal(3)
    clock.advance(600)
    expect(due).to.deep.equal([[1, 2]])
    clock.advance(400)
    expect(due).to.deep.equal([[1, 2], [3]])
    expect(later.size).to.equal(0)
    later.add([4])
    later.stop()
    clock.advance(2_000)
    expect(due).to.have.length(2)
    expect(later.size).to.equal(0)
  })
})
