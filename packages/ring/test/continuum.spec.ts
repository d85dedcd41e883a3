import { expect } from 'chai'
import { buildContinuum, deriveContinuum, hashPoints, pointsOf } from '../src/continuum.js'
import type { Continuum, Layout } from '../src/continuum.js'
import { murmur3 } from '../src/hash.js'
import { pointLabel } from '../src/weights.js'

describe('the continuum: every node\'s points, hashed once per process', () => {
  it('gives each node\'s points as hashing their labels does, however many are asked and in what order', () => {
    const node = 'node-continuum-spec-a'
    const direct = (n: number): number[] => Array.from({ length: n }, (_, i) => murmur3(pointLabel(node, i)))
    // asked for few, then more (the cache grows), then fewer (a prefix of what it holds)
    expect([...pointsOf(node, 10)].slice(0, 10)).to.deep.equal(direct(10))
    expect([...pointsOf(node, 3000)].slice(0, 3000)).to.deep.equal(direct(3000))
    expect([...pointsOf(node, 7)].slice(0, 7)).to.deep.equal(direct(7))
  })

  it('builds the same sorted continuum from cached points as from fresh ones', () => {
    const nodes = ['node-continuum-spec-b', 'node-continuum-spec-c', 'node-continuum-spec-d']
    const counts = [2048, 1500, 4095]
    const fresh: number[] = []
    for (const [i, n] of nodes.entries()) for (let k = 0; k < counts[i]; k++) fresh.push(murmur3(pointLabel(n, k)))
    const built = buildContinuum(nodes, counts)
    expect([...built.positions]).to.deep.equal([...fresh].sort((a, b) => a - b))
    const again = buildContinuum(nodes, counts)
    expect([...again.positions]).to.deep.equal([...built.positions])
    expect([...again.owners]).to.deep.equal([...built.owners])
    const unsorted = hashPoints(nodes, counts)
    expect([...unsorted.positions]).to.deep.equal(fresh)
    expect(unsorted.owners[2048]).to.equal(1)
  })
})

describe('a continuum made from another ring\'s', () => {
  const same = (a: Continuum, b: Continuum): void => {
    expect(Buffer.from(a.positions.buffer).equals(Buffer.from(b.positions.buffer)), 'positions').to.equal(true)
    expect(Buffer.from(a.owners.buffer).equals(Buffer.from(b.owners.buffer)), 'owners').to.equal(true)
  }

  it('is the continuum a sort makes, point for point and tie for tie, over a run of joins, leaves and weight changes', () => {
    const random = seeded(11)
    let layout: Layout = { nodes: Array.from({ length: 100 }, (_, i) => `derive-${String(i).padStart(3, '0')}`), counts: Array.from({ length: 100 }, () => 2048) }
    let continuum = buildContinuum(layout.nodes, layout.counts)
    let derived = 0
    let ties = 0
    for (let step = 0; step < 40; step++) {
      const nodes = [...layout.nodes]
      const counts = [...layout.counts]
      const at = Math.floor(random() * nodes.length)
      const kind = random()
      if (kind < 0.3) {
        nodes.splice(at, 1)
        counts.splice(at, 1)
      } else if (kind < 0.6) {
        counts[at] = 1 + Math.floor(random() * 4095)
      } else {
        // a new id, in id order as every ring keeps its nodes
        const id = `derive-${String(100 + step).padStart(3, '0')}-new`
        const i = nodes.findIndex(n => n > id)
        const where = i < 0 ? nodes.length : i
        nodes.splice(where, 0, id)
        counts.splice(where, 0, 1 + Math.floor(random() * 4095))
      }
      const next: Layout = { nodes, counts }
      const built = buildContinuum(nodes, counts)
      for (let i = 1; i < built.positions.length; i++) if (built.positions[i] === built.positions[i - 1]) ties++
      const made = deriveContinuum({ ...layout, continuum }, next)
      if (made !== undefined) {
        derived++
        same(made, built)
      }
      layout = next
      continuum = built
    }
    expect(derived).to.be.above(30)
    // points of different nodes at one position: the order between them is checked too
    expect(ties).to.be.above(0)
  })

  it('declines when most points are new: a sort costs no more then', () => {
    const base: Layout = { nodes: ['derive-a', 'derive-b'], counts: [2048, 2048] }
    const continuum = buildContinuum(base.nodes, base.counts)
    // the unit moved: every count doubled
    expect(deriveContinuum({ ...base, continuum }, { nodes: base.nodes, counts: [4095, 4095] })).to.equal(undefined)
  })
})

/** A small seeded generator (mulberry32): the same run every time. */
function seeded (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
