import { expect } from 'chai'
import { startCluster } from '@simplepool/testing'
import type { Cluster } from '@simplepool/testing'

const KEY = 'a1'.repeat(32)
const WRONG = 'b2'.repeat(32)

describe('private cluster (clusterKey)', function () {
  this.timeout(60_000)
  let cluster: Cluster

  before(async () => {
    cluster = await startCluster({ nodes: 2, clusterKey: KEY })
  })

  after(async () => {
    await cluster?.stop()
  })

  it('a node with the same key joins', async () => {
    await cluster.addNode({ name: 'same-key' })
    await cluster.waitForConvergence()
  })

  const refused: Array<{ title: string, name: string, clusterKey: string | null }> = [
    { title: 'a node with the wrong key is refused, with a ClusterKeyError in its log rather than a hang', name: 'wrong-key', clusterKey: WRONG },
    { title: 'a node with no key at all is refused the same way', name: 'no-key', clusterKey: null }
  ]
  for (const { title, name, clusterKey } of refused) {
    it(title, async () => {
      const members = cluster.running.map(n => n.peerId)
      const outsider = await cluster.addNode({ name, clusterKey })
      // the line and the event come over the child's channel each on its own
      await outsider.waitFor(() => outsider.logs.some(l => l.includes('ClusterKeyError')) && outsider.events.some(e => e.name === 'mesh:error' && e.detail.name === 'ClusterKeyError'), 10_000, 'a ClusterKeyError line and event')
      // nobody let it in, and it sees nobody
      expect((await outsider.request<string[]>('serving'))).to.deep.equal([outsider.peerId])
      await cluster.waitForConvergence({ nodes: cluster.running.filter(n => n !== outsider), expect: members })
      outsider.kill()
      await outsider.exited
    })
  }
})
