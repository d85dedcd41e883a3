import { expect } from 'chai'
import { witnessRank, witnessesOf } from '../src/witness/witnesses.js'

const ids = (n: number, prefix = '12D3KooWnode'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('witnessesOf', () => {
  it('names the k members that rank highest for the subject, best first, never the subject itself', () => {
    const members = ids(200)
    for (const subject of members.slice(0, 20)) {
      const sorted = members.filter(m => m !== subject).sort((a, b) => witnessRank(subject, b) - witnessRank(subject, a))
      expect(witnessesOf(subject, members, 8)).to.deep.equal(sorted.slice(0, 8))
      expect(witnessesOf(subject, members, 8)).not.to.include(subject)
    }
  })

  it('names every other member when there are k or fewer, and none for k = 0', () => {
    expect(witnessesOf('a', ['a', 'b', 'c'], 8)).to.have.members(['b', 'c'])
    expect(witnessesOf('a', ['a', 'b', 'c'], 0)).to.deep.equal([])
  })

  it('does not depend on the order of the member list', () => {
    const members = ids(100)
    expect(witnessesOf('x', [...members].reverse(), 8)).to.deep.equal(witnessesOf('x', members, 8))
  })

  it('a member that joins changes the witnesses of a subject by one at most, and only by taking a place itself', () => {
    const members = ids(300)
    const newcomer = '12D3KooWnewcomer'
    let changed = 0
    for (const subject of members) {
      const before = witnessesOf(subject, members, 8)
      const after = witnessesOf(subject, [...members, newcomer], 8)
      const gone = before.filter(m => !after.includes(m))
      const came = after.filter(m => !before.includes(m))
      expect(gone.length, subject).to.be.at.most(1)
      expect(came, subject).to.deep.equal(gone.length === 0 ? [] : [newcomer])
      if (gone.length > 0) changed++
    }
    // about k subjects of 300 take the newcomer in: the change is local
    expect(changed).to.be.within(1, 30)
  })

  it('spreads the watching: at 1,000 members and k = 8 no member watches more than a few dozen', () => {
    const members = ids(1000)
    const watching = new Map<string, number>()
    for (const subject of members) for (const w of witnessesOf(subject, members, 8)) watching.set(w, (watching.get(w) ?? 0) + 1)
    const most = Math.max(...watching.values())
    expect(most).to.be.below(30)
    // on average exactly k
    expect([...watching.values()].reduce((a, b) => a + b, 0)).to.equal(8000)
  })
})
