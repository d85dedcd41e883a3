import { expect } from 'chai'
import { screenOrder } from '../../src/admin/cluster-watch.js'
import type { TickNode } from '../../src/admin/cluster-watch.js'

const BASE: Omit<TickNode, 'node'> = {
  self: false,
  status: 'up',
  liveness: 'alive',
  health: 'online',
  reasons: [],
  loopP99Ms: 1,
  rssBytes: 1,
  heapUsedBytes: 1,
  workers: 0,
  msgsPerSec: 0,
  failuresPerSec: 0,
  migrationBacklog: 0,
  replicas: null,
  replicaBytes: null,
  pools: {}
}
const row = (node: string, more: Partial<TickNode> = {}): TickNode => ({ ...BASE, node, ...more })

describe('the watch\'s order of nodes (what a page of rows shows first)', () => {
  it('this node, then every node that needs a look, then the rest, each part by id', () => {
    const nodes = [
      row('a'),
      row('b', { status: 'draining' }),
      row('c', { self: true }),
      row('d', { liveness: 'suspect' }),
      row('e', { health: 'degraded' }),
      row('f', { migrationBacklog: 3 }),
      row('g', { error: 'TimeoutError', health: null }),
      row('h'),
      // no answer yet is no reason for a look by itself
      row('i', { health: null })
    ]
    expect(nodes.sort(screenOrder).map(n => n.node)).to.deep.equal(['c', 'b', 'd', 'e', 'f', 'g', 'a', 'h', 'i'])
  })
})
