import { expect } from 'chai'
import { Placement, WeightedRing } from '../src/index.js'
import { member, peerIds, snapshot, workerIds } from './fixtures.js'
import type { Member } from '@simplepool/core'

const IDS = workerIds(10_000, 11)

function cluster (seed: number, opts: Parameters<typeof member>[2] = {}): Member[] {
  const nodes = peerIds(6, seed)
  return nodes.map((n, i) => member(n, { chat: i % 2 === 0 ? 100 : 200, jobs: i < 3 ? 1 : 0 }, opts))
}

describe('Placement', () => {
  it('gives the same owner for 10k ids from two placements of equal snapshots, sharing the rings built in this process', () => {
    const a = Placement.fromSnapshot(snapshot(7, cluster(1)))
    const b = Placement.fromSnapshot(snapshot(7, cluster(1)))
    expect(a).to.not.equal(b)
    for (const pool of ['chat', 'jobs']) {
      // a ring is a pure function of its weights: nodes in one process share it
      expect(a.ring(pool)).to.equal(b.ring(pool))
      for (const id of IDS) expect(a.ownerOf(pool, id)).to.equal(b.ownerOf(pool, id))
    }
  })

  it('matches a WeightedRing of serving members with weight = target', () => {
    const members = cluster(2)
    const placement = Placement.fromSnapshot(snapshot(1, members))
    const ring = new WeightedRing(new Map(members.map(m => [m.peerId, m.pools.chat.target])))
    expect(placement.ring('chat')?.fingerprint).to.equal(ring.fingerprint)
    for (const id of IDS) expect(placement.ownerOf('chat', id)).to.equal(ring.ownerOf(id))
  })

  it('takes its version from the snapshot and lists the union of pool names, sorted', () => {
    const nodes = peerIds(3, 3)
    const placement = Placement.fromSnapshot(snapshot(42, [
      member(nodes[0], { b: 1 }),
      member(nodes[1], { a: 1, c: 0 }),
      member(nodes[2], { d: 5 }, { status: 'draining' })
    ]))
    expect(placement.version).to.equal(42)
    expect(placement.pools()).to.deep.equal(['a', 'b', 'c', 'd'])
    expect(placement.has('c')).to.equal(true)
    expect(placement.has('zzz')).to.equal(false)
  })

  it('gives nothing to members with target 0, not up, or down', () => {
    const nodes = peerIds(7, 4)
    const placement = Placement.fromSnapshot(snapshot(1, [
      member(nodes[0], { p: 1 }),
      member(nodes[1], { p: 0 }),
      member(nodes[2], { p: 3 }, { status: 'joining' }),
      member(nodes[3], { p: 3 }, { status: 'draining' }),
      member(nodes[4], { p: 3 }, { status: 'leaving' }),
      member(nodes[5], { p: 3 }, { liveness: 'down' }),
      member(nodes[6], { p: 2 }, { liveness: 'suspect' })
    ]))
    expect(placement.ring('p')?.nodes).to.deep.equal([nodes[0], nodes[6]].sort())
    const seen = new Set(IDS.map(id => placement.ownerOf('p', id)))
    expect([...seen].sort()).to.deep.equal([nodes[0], nodes[6]].sort())
  })

  it('treats a target that is not a finite positive number as 0', () => {
    const nodes = peerIds(4, 5)
    const placement = Placement.fromSnapshot(snapshot(1, [
      member(nodes[0], { p: 1 }),
      member(nodes[1], { p: Number.NaN }),
      member(nodes[2], { p: Infinity }),
      member(nodes[3], { p: -4 })
    ]))
    expect(placement.ring('p')?.nodes).to.deep.equal([nodes[0]])
  })

  it('gives undefined for a pool nobody serves, an unknown pool and an empty snapshot', () => {
    const nodes = peerIds(2, 6)
    const placement = Placement.fromSnapshot(snapshot(1, [
      member(nodes[0], { idle: 0 }),
      member(nodes[1], { idle: 4 }, { liveness: 'down' })
    ]))
    expect(placement.ring('idle')?.points).to.equal(0)
    expect(placement.ownerOf('idle', 'x')).to.equal(undefined)
    expect(placement.ownerOf('nope', 'x')).to.equal(undefined)
    expect(placement.ring('nope')).to.equal(undefined)
    const empty = Placement.fromSnapshot(snapshot(0, []))
    expect(empty.pools()).to.deep.equal([])
    expect(empty.ownerOf('chat', 'x')).to.equal(undefined)
  })

  describe('reuse', () => {
    it('keeps the ring object, warm cache included, when nothing that places changed', () => {
      const first = Placement.fromSnapshot(snapshot(1, cluster(7)))
      for (const id of IDS) first.ownerOf('chat', id)
      const cached = first.ring('chat')?.cachedOwners
      expect(cached).to.be.greaterThan(IDS.length / 2)
      // new addresses, a restart (incarnation) and a suspect peer bump the version
      // but leave every ring as it was
      const members = cluster(7, { port: 4002, incarnation: 2 })
      members[2] = { ...members[2], liveness: 'suspect' }
      const second = Placement.fromSnapshot(snapshot(2, members), first)
      expect(second.version).to.equal(2)
      expect(second.ring('chat')).to.equal(first.ring('chat'))
      expect(second.ring('jobs')).to.equal(first.ring('jobs'))
      expect(second.ring('chat')?.cachedOwners).to.equal(cached)
    })

    it('keeps the ring when only a non-serving member or a target-0 entry changed', () => {
      const members = cluster(10)
      members.push(member(peerIds(1, 99)[0], { chat: 5 }, { status: 'joining' }))
      const first = Placement.fromSnapshot(snapshot(1, members))
      const changed = members.map((m, i) => i === members.length - 1
        ? member(m.peerId, { chat: 9, jobs: 0 }, { status: 'joining' })
        : m)
      const second = Placement.fromSnapshot(snapshot(2, changed), first)
      expect(second.ring('chat')).to.equal(first.ring('chat'))
      expect(second.ring('jobs')).to.equal(first.ring('jobs'))
    })

    it('rebuilds only the pools whose members or weights changed', () => {
      const members = cluster(8)
      const first = Placement.fromSnapshot(snapshot(1, members))
      const changed = members.map((m, i) => i === 0 ? member(m.peerId, { chat: 300, jobs: 1 }) : m)
      const second = Placement.fromSnapshot(snapshot(2, changed), first)
      expect(second.ring('chat')).to.not.equal(first.ring('chat'))
      expect(second.ring('jobs')).to.equal(first.ring('jobs'))

      // a member going down changes the pools it served
      const down = members.map((m, i) => i === 1 ? { ...m, liveness: 'down' as const } : m)
      const third = Placement.fromSnapshot(snapshot(3, down), first)
      expect(third.ring('chat')).to.not.equal(first.ring('chat'))
      expect(third.ring('jobs')).to.not.equal(first.ring('jobs'))
      expect(third.ring('chat')?.nodes).to.not.include(members[1].peerId)
    })

    it('gives the same owners with a reused ring as with a fresh one', () => {
      const first = Placement.fromSnapshot(snapshot(1, cluster(9)))
      for (const id of IDS) first.ownerOf('chat', id)
      const reused = Placement.fromSnapshot(snapshot(2, cluster(9, { incarnation: 3 })), first)
      const fresh = Placement.fromSnapshot(snapshot(2, cluster(9, { incarnation: 3 })))
      for (const id of IDS) expect(reused.ownerOf('chat', id)).to.equal(fresh.ownerOf('chat', id))
    })
  })
})
