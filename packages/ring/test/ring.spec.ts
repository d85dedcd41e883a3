import { expect } from 'chai'
import HashRing from 'hashring'
import { WeightedRing, murmur3, murmur3Digest, nodesOfFingerprint, pointUnit, pointsFor } from '../src/index.js'
import { peerIds, weighted, workerIds } from './fixtures.js'

const IDS = workerIds(100_000, 42)
const SIZES = [3, 5, 7, 10]

function owners (ring: WeightedRing, ids: string[]): string[] {
  return ids.map(id => ring.ownerOf(id) as string)
}

/** Largest |actual - expected| / expected over the nodes of `weights`. */
function worstShareDeviation (weights: Map<string, number>, ids: string[]): number {
  const ring = new WeightedRing(weights, { cacheSize: 0 })
  const counts = new Map<string, number>()
  for (const id of ids) {
    const o = ring.ownerOf(id) as string
    counts.set(o, (counts.get(o) ?? 0) + 1)
  }
  let total = 0
  for (const w of weights.values()) total += w
  let worst = 0
  for (const [node, w] of weights) {
    const expected = ids.length * w / total
    worst = Math.max(worst, Math.abs((counts.get(node) ?? 0) - expected) / expected)
  }
  return worst
}

describe('WeightedRing', () => {
  describe('points', () => {
    it('gives the heaviest node 2048..4095 points and others points proportional to weight', () => {
      for (const [max, expected] of [[1, 2048], [2, 2048], [3, 3072], [7, 3584], [8, 2048], [200_000, 3125], [0.75, 3072]]) {
        expect(pointsFor(max, pointUnit(max)), String(max)).to.equal(expected)
      }
      const nodes = peerIds(4, 1)
      const ring = new WeightedRing(weighted(nodes, [100_000, 200_000]))
      expect(ring.pointsOf(nodes[1])).to.equal(3125)
      expect(ring.pointsOf(nodes[0])).to.equal(1562)
      expect(ring.points).to.equal(2 * (3125 + 1562))
    })

    it('settles the power of two exactly next to a power of two', () => {
      for (let e = -20; e <= 60; e++) {
        for (const w of [2 ** e, 2 ** e * (1 + Number.EPSILON), 2 ** (e + 1) * (1 - Number.EPSILON / 2)]) {
          const n = pointsFor(w, pointUnit(w))
          expect(n, String(w)).to.be.within(2048, 4095)
        }
      }
    })

    it("leaves every other node's point count unchanged when a node joins or leaves", () => {
      const nodes = peerIds(8, 2)
      const before = new WeightedRing(weighted(nodes.slice(0, 7), [1, 2]))
      const after = new WeightedRing(weighted(nodes, [1, 2]))
      for (const n of nodes.slice(0, 7)) expect(after.pointsOf(n)).to.equal(before.pointsOf(n))
    })

    it('rescales every count together when the largest weight crosses a power of two', () => {
      const nodes = peerIds(3, 3)
      const small = new WeightedRing(new Map([[nodes[0], 1], [nodes[1], 1]]))
      const big = new WeightedRing(new Map([[nodes[0], 1], [nodes[1], 1], [nodes[2], 2]]))
      expect(small.pointsOf(nodes[0])).to.equal(2048)
      expect(big.pointsOf(nodes[0])).to.equal(1024)
    })

    it('gives a positive weight far below the heaviest one point', () => {
      const nodes = peerIds(2, 4)
      const ring = new WeightedRing(new Map([[nodes[0], 1], [nodes[1], 1e6]]))
      expect(ring.pointsOf(nodes[0])).to.equal(1)
    })
  })

  describe('determinism', () => {
    it('gives the same owners whatever order the weights were given in, and as a record', () => {
      const nodes = peerIds(7, 5)
      const ids = IDS.slice(0, 10_000)
      const a = owners(new WeightedRing(weighted(nodes, [1, 2])), ids)
      const reversed = new Map([...weighted(nodes, [1, 2])].reverse())
      const b = owners(new WeightedRing(reversed), ids)
      const c = owners(new WeightedRing(Object.fromEntries(weighted(nodes, [1, 2]))), ids)
      expect(b).to.deep.equal(a)
      expect(c).to.deep.equal(a)
    })

    it('is the ring hashring builds from the same points: the same owner for every id', () => {
      for (const [count, seed, weights] of [[3, 6, [1]], [40, 7, [1, 2]], [150, 8, [100_000, 70_000, 250_000]]] as const) {
        const nodes = peerIds(count, seed)
        const ring = new WeightedRing(weighted(nodes, [...weights]))
        // hashring's own continuum and lookup, on points labelled and counted the same way
        const servers: Record<string, { vnodes: number }> = {}
        for (const n of ring.nodes) servers[n] = { vnodes: ring.pointsOf(n) }
        const inner = new HashRing(servers, murmur3Digest, { 'vnode count': 0, replicas: 1, 'max cache size': 1 })
        for (const id of IDS.slice(0, 20_000)) {
          expect(inner.hashValue(id)).to.equal(murmur3(id))
          expect(inner.get(id), `${count} nodes, id ${id}`).to.equal(ring.ownerOf(id))
        }
      }
    })
  })

  describe('balance over 100k ids', () => {
    for (const n of SIZES) {
      it(`${n} nodes, equal weights: each share within ±10% of its weight's share`, () => {
        expect(worstShareDeviation(weighted(peerIds(n, 1000 + n), [1]), IDS)).to.be.below(0.10)
      })
    }
    for (const n of SIZES) {
      it(`${n} nodes, targets 100000/200000 alternating: each share within ±10%`, () => {
        expect(worstShareDeviation(weighted(peerIds(n, 1000 + n), [100_000, 200_000]), IDS)).to.be.below(0.10)
      })
    }
    for (const n of SIZES) {
      // the worst case of the point rule: weight-1 nodes carry half the heaviest's points
      it(`${n} nodes, weights 1 and 2 alternating: each share within ±10%`, () => {
        expect(worstShareDeviation(weighted(peerIds(n, 1000 + n), [1, 2]), IDS)).to.be.below(0.10)
      })
    }
  })

  describe('adding a node', () => {
    for (let n = 3; n <= 10; n++) {
      it(`${n} -> ${n + 1} equal nodes moves about 1/${n + 1} of ids (±30%), all to the new node`, () => {
        const nodes = peerIds(n + 1, 2000 + n)
        const before = owners(new WeightedRing(weighted(nodes.slice(0, n), [1]), { cacheSize: 0 }), IDS)
        const after = owners(new WeightedRing(weighted(nodes, [1]), { cacheSize: 0 }), IDS)
        let moved = 0
        let elsewhere = 0
        for (let i = 0; i < IDS.length; i++) {
          if (before[i] !== after[i]) {
            moved++
            if (after[i] !== nodes[n]) elsewhere++
          }
        }
        expect(elsewhere).to.equal(0)
        const ideal = IDS.length / (n + 1)
        expect(moved).to.be.within(ideal * 0.7, ideal * 1.3)
      })
    }
  })

  describe('removing a node', () => {
    const cases: Array<[string, number[], number[]]> = [
      // [label, weight pattern, indexes to remove one at a time]
      ['equal weights', [1], [0, 3]],
      // removing a weight-1 and a weight-2 node; another weight-2 node stays, so the
      // largest weight, and with it every other count, stays put
      ['weights 1 and 2', [1, 2], [0, 1]],
      ['targets 100000/200000', [100_000, 200_000], [2, 3]]
    ]
    for (const [label, pattern, removals] of cases) {
      it(`${label}: only the removed node's ids move, N = 4..10`, () => {
        const ids = IDS.slice(0, 50_000)
        for (let n = 4; n <= 10; n++) {
          const nodes = peerIds(n, 3000 + n)
          const full = weighted(nodes, pattern)
          const before = owners(new WeightedRing(full, { cacheSize: 0 }), ids)
          for (const r of removals) {
            const less = new Map(full)
            less.delete(nodes[r])
            const after = owners(new WeightedRing(less, { cacheSize: 0 }), ids)
            let disturbed = 0
            let orphaned = 0
            for (let i = 0; i < ids.length; i++) {
              if (before[i] !== nodes[r] && after[i] !== before[i]) disturbed++
              if (after[i] === nodes[r] || after[i] === undefined) orphaned++
            }
            expect(disturbed, `N = ${n}, removing #${r}`).to.equal(0)
            expect(orphaned, `N = ${n}, removing #${r}`).to.equal(0)
          }
        }
      })
    }
  })

  describe('weights and emptiness', () => {
    it('leaves weight-0 nodes off the ring', () => {
      const nodes = peerIds(4, 7)
      const ring = new WeightedRing(new Map([[nodes[0], 0], [nodes[1], 1], [nodes[2], 0], [nodes[3], 2]]))
      expect(ring.nodes).to.deep.equal([nodes[1], nodes[3]].sort())
      expect([...ring.weights.keys()].sort()).to.deep.equal([nodes[1], nodes[3]].sort())
      for (const id of IDS.slice(0, 5000)) expect(ring.ownerOf(id)).to.be.oneOf([nodes[1], nodes[3]])
    })

    it('gives undefined on an empty ring, or one of only weight-0 nodes', () => {
      for (const ring of [new WeightedRing(new Map()), new WeightedRing({ a: 0, b: 0 })]) {
        expect(ring.points).to.equal(0)
        expect(ring.nodes).to.deep.equal([])
        expect(ring.ownerOf('x')).to.equal(undefined)
        expect(ring.ownerOf('x')).to.equal(undefined)
      }
    })

    it('rejects negative, non-finite and non-numeric weights, bad ids and cache sizes', () => {
      for (const bad of [-1, Number.NaN, Infinity, '2' as unknown as number]) {
        expect(() => new WeightedRing(new Map([['a', bad]]))).to.throw().with.property('name', 'InvalidOptionError')
      }
      expect(() => new WeightedRing(new Map([['', 1]]))).to.throw().with.property('name', 'InvalidOptionError')
      expect(() => new WeightedRing(new Map([['__proto__', 1]]))).to.throw().with.property('name', 'InvalidOptionError')
      expect(() => new WeightedRing({ a: 1 }, { cacheSize: -1 })).to.throw().with.property('name', 'InvalidOptionError')
    })

    it('handles ids that are names of Object.prototype members', () => {
      const nodes = peerIds(3, 8)
      const ring = new WeightedRing(weighted(nodes, [1]))
      for (const id of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        expect(ring.ownerOf(id)).to.be.oneOf(nodes)
        expect(ring.ownerOf(id)).to.equal(ring.ownerOf(id))
      }
      expect(({} as Record<string, unknown>).before).to.equal(undefined)
    })
  })

  describe('owner without a node', () => {
    const cases: Array<[string, number[]]> = [
      ['equal weights', [1]],
      ['weights 1 and 2, two of weight 2', [1, 2, 2]],
      // one node alone at the top: taking it off moves the unit, and every count with it
      ['one heaviest node, weights 1 1 1 4', [1, 1, 1, 4]],
      ['targets 100000/200000/300000', [100_000, 200_000, 300_000]]
    ]
    for (const [label, pattern] of cases) {
      it(`${label}: the owner on the ring built without that node, for every node, N = 2..8`, () => {
        const ids = IDS.slice(0, 5_000)
        for (let n = 2; n <= 8; n++) {
          const nodes = peerIds(n, 5000 + n)
          const full = weighted(nodes, pattern)
          const ring = new WeightedRing(full)
          for (const gone of nodes) {
            const less = new Map(full)
            less.delete(gone)
            const rebuilt = new WeightedRing(less, { cacheSize: 0 })
            const mismatches = ids.filter(id => ring.ownerWithout(id, gone) !== rebuilt.ownerOf(id))
            expect(mismatches, `N = ${n}, without ${gone}`).to.deep.equal([])
          }
          expect(ring.ownerWithout(ids[0], 'not-on-the-ring')).to.equal(ring.ownerOf(ids[0]))
          // two nodes off at once: the ring built without both
          for (let k = 1; k < n; k++) {
            const [a, b] = [nodes[k - 1], nodes[k]]
            const less = new Map(full)
            less.delete(a)
            less.delete(b)
            const rebuilt = n === 2 ? undefined : new WeightedRing(less, { cacheSize: 0 })
            const mismatches = ids.slice(0, 1_000).filter(id => ring.ownerWithout(id, a, b) !== rebuilt?.ownerOf(id))
            expect(mismatches, `N = ${n}, without ${a} and ${b}`).to.deep.equal([])
          }
        }
      })
    }

    it('is undefined without the only node', () => {
      expect(new WeightedRing(new Map([['a', 1]])).ownerWithout('x', 'a')).to.equal(undefined)
    })
  })

  describe('owner cache', () => {
    it('gives identical owners cold, warm and with the cache off', () => {
      const nodes = peerIds(10, 9)
      const ids = IDS.slice(0, 20_000)
      const ring = new WeightedRing(weighted(nodes, [1, 2]))
      const cold = owners(ring, ids)
      // direct-mapped: colliding ids share a slot, so fewer entries than ids
      expect(ring.cachedOwners).to.be.within(ids.length * 0.7, ids.length)
      const warm = owners(ring, ids)
      const off = owners(new WeightedRing(weighted(nodes, [1, 2]), { cacheSize: 0 }), ids)
      // a table that starts small and grows answers the same as one that started whole
      const small = owners(new WeightedRing(weighted(nodes, [1, 2]), { cacheSize: 512 }), ids)
      expect(warm).to.deep.equal(cold)
      expect(small).to.deep.equal(cold)
      expect(off).to.deep.equal(cold)
    })

    it('is bounded: holds at most its slots (a power of two) and keeps answering the same', () => {
      const nodes = peerIds(5, 10)
      const ids = IDS.slice(0, 1000)
      const ring = new WeightedRing(weighted(nodes, [1]), { cacheSize: 100 })
      const first = owners(ring, ids)
      expect(ring.cachedOwners).to.be.within(100, 128)
      expect(owners(ring, ids)).to.deep.equal(first)
      expect(ring.cachedOwners).to.be.within(100, 128)
      const off = new WeightedRing(weighted(nodes, [1]), { cacheSize: 0 })
      owners(off, ids)
      expect(off.cachedOwners).to.equal(0)
    })
  })

  describe('fingerprint', () => {
    it('lists nodes on the ring with their weights, sorted, and ignores weight-0 nodes', () => {
      expect(new WeightedRing({ b: 2, a: 1, c: 0 }).fingerprint).to.equal('a:1,b:2')
      expect(new WeightedRing(new Map([['a', 1], ['b', 2]])).fingerprint).to.equal('a:1,b:2')
      expect(new WeightedRing({ a: 1, b: 3 }).fingerprint).to.not.equal('a:1,b:2')
    })

    it('names its nodes back, peer ids with colons in them too', () => {
      expect(nodesOfFingerprint(new WeightedRing({ b: 2, 'x:y': 1 }).fingerprint)).to.deep.equal(['b', 'x:y'])
      expect(nodesOfFingerprint(new WeightedRing({}).fingerprint)).to.deep.equal([])
    })
  })
})
