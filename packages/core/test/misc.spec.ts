import { expect } from 'chai'
import { seededRandom, shuffle, withDefaults } from '../src/index.js'

describe('withDefaults', () => {
  it('keeps a default where the init field is present but undefined', () => {
    const out = withDefaults({ listen: ['a'], port: 1 }, { listen: undefined, port: 2 })
    expect(out).to.deep.equal({ listen: ['a'], port: 2 })
  })
})

describe('seeded randomness', () => {
  it('replays exactly from the same seed', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    for (let i = 0; i < 100; i++) expect(a.next()).to.equal(b.next())
  })

  it('shuffles without bias (Fisher-Yates): each item lands in each slot about equally', () => {
    const r = seededRandom(7)
    // counts[item][slot]
    const counts = [0, 1, 2, 3].map(() => [0, 0, 0, 0])
    for (let i = 0; i < 40_000; i++) shuffle([0, 1, 2, 3], r).forEach((item, slot) => { counts[item][slot]++ })
    for (const row of counts) for (const c of row) expect(c).to.be.within(9_000, 11_000)
  })
})
