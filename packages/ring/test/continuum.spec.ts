import { expect } from 'chai'
import { buildContinuum, hashPoints, pointsOf } from '../src/continuum.js'
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
