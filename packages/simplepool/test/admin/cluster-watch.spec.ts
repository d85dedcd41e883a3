import { expect } from 'chai'
import type { ServerResponse } from 'node:http'
import { EVENT_LOG_KEEP, WATCH_EVENTS_MAX } from '@simplepool/core'
import { ClusterWatch } from '../../src/admin/cluster-watch.js'
import type { AdminNode, MemberInfo, WatchFigures } from '../../src/admin/admin-node.js'

const quiet = { error () {}, warn () {}, info () {}, debug () {} }

/** A response that records what is written to it and never drains: what a burst leaves unsent counts against the stream's buffer. */
function response (): ServerResponse & { text: string, cut: boolean } {
  const closers: Array<() => void> = []
  const res = {
    text: '',
    cut: false,
    destroyed: false,
    writableLength: 0,
    writeHead () { return res },
    write (chunk: string) { res.text += chunk; res.writableLength += Buffer.byteLength(chunk); return false },
    once (event: string, fn: () => void) { if (event === 'close') closers.push(fn); return res },
    destroy () { res.cut = true; res.destroyed = true; for (const fn of closers) fn(); return res },
    end () { res.destroy() }
  }
  return res as unknown as ServerResponse & { text: string, cut: boolean }
}

/** `members` members, each answering its first question with `WATCH_EVENTS_MAX` events (as a member of a cluster that just started does). */
function cluster (members: number): AdminNode {
  const ids = Array.from({ length: members }, (_, i) => `peer-${String(i).padStart(3, '0')}`)
  const info: MemberInfo[] = ids.map(peerId => ({ peerId, status: 'up', liveness: 'alive', addresses: [], pools: {} }))
  const figures = (peer: string, after: string | undefined): WatchFigures => ({
    node: peer,
    at: Date.now(),
    health: 'online',
    reasons: [],
    loopP99Ms: 1,
    rssBytes: 1,
    heapUsedBytes: 1,
    migrationBacklog: 0,
    pools: {},
    rings: {},
    events: after !== undefined ? [] : Array.from({ length: WATCH_EVENTS_MAX }, (_, i) => ({ id: `${peer}.${i}`, type: 'member:update', at: 1_000 + i, data: { member: peer, i } })),
    gap: false
  })
  return {
    peerId: ids[0],
    members: () => info,
    placement: () => ({ version: 1, ownerOf: () => undefined }),
    rings: () => ({ node: ids[0], version: 1, rings: {} }),
    watchFigures: (after?: string) => figures(ids[0], after),
    watchFiguresOf: async (peer: string, after: string | undefined) => figures(peer, after)
  } as unknown as AdminNode
}

describe('ClusterWatch: the first answers of many members', () => {
  it('keeps the newest EVENT_LOG_KEEP of them and says the rest were left out, so a watcher is not cut off by a burst', async () => {
    // 20,000 events: written all at once, well past the stream's 1 MB
    const members = 100
    const watch = new ClusterWatch(cluster(members), false, quiet)
    const res = response()
    try {
      watch.openEvents(res, undefined)
      for (let i = 0; i < 100 && watch.log.since(undefined, Infinity).events.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
      const kept = watch.log.since(undefined, Infinity).events
      expect(members * WATCH_EVENTS_MAX).to.be.above(EVENT_LOG_KEEP)
      expect(kept).to.have.length(EVENT_LOG_KEEP)
      expect(kept[0].type).to.equal('events:gap')
      expect(String((kept[0].data as { reason: string }).reason)).to.include(`${members * WATCH_EVENTS_MAX - (EVENT_LOG_KEEP - 1)} older events`)
      // what was written to the stream: the gap, then the newest (the oldest went unsent)
      expect(res.text.match(/^event: /gm)).to.have.length(EVENT_LOG_KEEP)
      expect(res.cut).to.equal(false)
    } finally {
      watch.close()
    }
  })
})
