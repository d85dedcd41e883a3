import { expect } from 'chai'
import { ClaimedHere } from '../../src/handoff/claimed-here.js'

describe('ClaimedHere', () => {
  it('names the claimer of an id for 5 s, by pool, then forgets it', () => {
    const c = new ClaimedHere()
    c.note('rooms', 'a', 'n2', 1_000)
    expect(c.by('rooms', 'a', 1_000)).to.equal('n2')
    expect(c.by('rooms', 'a', 6_000)).to.equal('n2')
    expect(c.by('users', 'a', 1_000), 'another pool').to.equal(undefined)
    expect(c.by('rooms', 'b', 1_000)).to.equal(undefined)
    expect(c.by('rooms', 'a', 6_001)).to.equal(undefined)
  })

  it('a later claim of the same id replaces the earlier, and keeps the others', () => {
    const c = new ClaimedHere()
    c.note('rooms', 'a', 'n2', 0)
    c.note('rooms', 'b', 'n3', 3_000)
    c.note('rooms', 'a', 'n4', 4_000)
    expect(c.by('rooms', 'a', 8_000)).to.equal('n4')
    // a's first claim is past its span, b's is not: b still answers
    expect(c.by('rooms', 'b', 7_900)).to.equal('n3')
  })

  it('once every claim is past its span, all are forgotten and a claim after starts afresh', () => {
    const c = new ClaimedHere()
    for (let i = 0; i < 1_000; i++) c.note('rooms', `r${i}`, 'n2', i)
    expect(c.by('rooms', 'r999', 7_000)).to.equal(undefined)
    expect((c as unknown as { size: number }).size).to.equal(0)
    c.note('rooms', 'r1', 'n3', 8_000)
    expect(c.by('rooms', 'r1', 8_001)).to.equal('n3')
    expect(c.by('rooms', 'r2', 8_001)).to.equal(undefined)
  })

  it('holds 100,000 claims at most, the stale ones going first, then the oldest', () => {
    const c = new ClaimedHere()
    for (let i = 0; i < 100_000; i++) c.note('rooms', `old${i}`, 'n2', 0)
    c.note('rooms', 'fresh', 'n3', 10_000)
    expect((c as unknown as { size: number }).size).to.equal(1)
    for (let i = 0; i < 100_000; i++) c.note('rooms', `burst${i}`, 'n2', 20_000)
    c.note('rooms', 'last', 'n4', 20_000)
    expect((c as unknown as { size: number }).size).to.be.at.most(100_000)
    expect(c.by('rooms', 'last', 20_000)).to.equal('n4')
    expect(c.by('rooms', 'burst0', 20_000), 'the oldest of the burst went').to.equal(undefined)
  })
})
