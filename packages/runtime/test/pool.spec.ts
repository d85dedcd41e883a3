import { expect } from 'chai'
import { definePool } from '../src/pool.js'

const ok = { name: 'p', init: () => ({}), handle: () => undefined }

describe('definePool', () => {
  it('returns a frozen copy of a valid definition', () => {
    const p = definePool(ok)
    expect(p.name).to.equal('p')
    expect(Object.isFrozen(p)).to.equal(true)
  })

  for (const [what, bad, pattern] of [
    ['a missing name', { ...ok, name: '' }, /pool name/],
    ['handle not a function', { ...ok, handle: 3 }, /handle must be a function, got 3 \(number\)/],
    ['a negative tickMs', { ...ok, tick: () => {}, tickMs: -1 }, /tickMs must be a positive number/],
    ['tickMs without tick', { ...ok, tickMs: 100 }, /tickMs is set but tick is not/],
    ['snapshot without restore', { ...ok, snapshot: (s: unknown) => s }, /snapshot and restore/],
    ['an unknown placement', { ...ok, placement: 'random' }, /placement must be 'ring' or a function/],
    ['limits out of order', { ...ok, softLimitRatio: 2, hardLimitRatio: 1.5 }, /hardLimitRatio/]
  ] as const) {
    it(`refuses ${what} with InvalidOptionError`, () => {
      expect(() => definePool(bad as never)).to.throw(pattern).with.property('name', 'InvalidOptionError')
    })
  }
})
