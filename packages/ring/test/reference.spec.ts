import { expect } from 'chai'
import { RendezvousHash, SortedArrayRing, WeightedRing } from '../src/index.js'
import { peerIds, weighted, workerIds } from './fixtures.js'

const IDS = workerIds(50_000, 21)

describe('reference implementations', () => {
  describe('SortedArrayRing', () => {
    it('gives the same owner as WeightedRing for every id', () => {
      for (const [n, pattern] of [[3, [1]], [10, [1, 2]], [25, [100_000, 200_000]]] as Array<[number, number[]]>) {
        const w = weighted(peerIds(n, 400 + n), pattern)
        const ring = new WeightedRing(w, { cacheSize: 0 })
        const sorted = new SortedArrayRing(w)
        expect(sorted.points).to.equal(ring.points)
        let differ = 0
        for (const id of IDS) if (sorted.ownerOf(id) !== ring.ownerOf(id)) differ++
        expect(differ, `${n} nodes`).to.equal(0)
      }
    })

    it('gives undefined when empty', () => {
      expect(new SortedArrayRing(new Map()).ownerOf('x')).to.equal(undefined)
      expect(new SortedArrayRing({ a: 0 }).ownerOf('x')).to.equal(undefined)
    })
  })

  describe('RendezvousHash', () => {
    it('shares ids in proportion to weight (±10%) over 50k ids', () => {
      for (const [n, pattern] of [[3, [1]], [10, [1, 2]]] as Array<[number, number[]]>) {
        const w = weighted(peerIds(n, 500 + n), pattern)
        const hrw = new RendezvousHash(w)
        const counts = new Map<string, number>()
        for (const id of IDS) {
          const o = hrw.ownerOf(id) as string
          counts.set(o, (counts.get(o) ?? 0) + 1)
        }
        let total = 0
        for (const x of w.values()) total += x
        for (const [node, x] of w) {
          const expected = IDS.length * x / total
          expect(Math.abs((counts.get(node) ?? 0) - expected) / expected).to.be.below(0.1)
        }
      }
    })

    it('moves only ids won by the new node when a node joins', () => {
      const nodes = peerIds(6, 600)
      const before = new RendezvousHash(weighted(nodes.slice(0, 5), [1, 2]))
      const after = new RendezvousHash(weighted(nodes, [1, 2]))
      let elsewhere = 0
      for (const id of IDS) {
        const b = before.ownerOf(id)
        const a = after.ownerOf(id)
        if (a !== b && a !== nodes[5]) elsewhere++
      }
      expect(elsewhere).to.equal(0)
    })

    it('gives undefined when empty', () => {
      expect(new RendezvousHash(new Map()).ownerOf('x')).to.equal(undefined)
    })
  })
})
