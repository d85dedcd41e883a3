import { expect } from 'chai'
import { InvalidMessageError, NodeUnavailableError, OverloadedError, REPLICA_BATCH } from '@simplepool/core'
import { ReplicaOutbox } from '../../src/replication/replica-outbox.js'
import { decodeReplicaPut } from '../../src/protocol/replica-messages.js'
import type { RuntimeTransport } from '../../src/runtime-types.js'

/** A transport that records each put and answers it as `answer` says. */
function transport (answer: (peer: string, count: number) => Promise<unknown>): { t: RuntimeTransport, sent: Array<{ peer: string, pool: string, ids: string[], seqs: number[] }> } {
  const sent: Array<{ peer: string, pool: string, ids: string[], seqs: number[] }> = []
  const t = {
    call: async (peer: string, payload: unknown) => {
      const m = decodeReplicaPut(payload)
      const items = m.items.map(i => i as { id: string, seq: number })
      sent.push({ peer, pool: m.pool, ids: items.map(i => i.id), seqs: items.map(i => i.seq) })
      return await answer(peer, m.items.length)
    },
    cast: () => {}
  } as unknown as RuntimeTransport
  return { t, sent }
}

const item = (id: string, seq = 1): { id: string, epoch: number, seq: number, bytes: Uint8Array } => ({ id, epoch: 7, seq, bytes: new Uint8Array([seq]) })

describe('ReplicaOutbox', () => {
  it('sends the puts made in one go as one message per node and pool, and answers each', async () => {
    const { t, sent } = transport(async (_, count) => new Array(count).fill(true))
    let missed = 0
    const box = new ReplicaOutbox(t, () => { missed++ })
    const answers = await Promise.all([
      box.put('n1', 'p', item('a')), box.put('n1', 'p', item('b')), box.put('n2', 'p', item('a')), box.put('n1', 'q', item('c'))
    ])
    expect(answers).to.deep.equal([true, true, true, true])
    expect(sent.map(s => `${s.peer}/${s.pool}:${s.ids.join(',')}`).sort()).to.deep.equal(['n1/p:a,b', 'n1/q:c', 'n2/p:a'])
    expect(missed).to.equal(0)
  })

  it('sends a worker put twice before the batch goes once, with its later state, and answers both', async () => {
    const { t, sent } = transport(async (_, count) => new Array(count).fill(true))
    const box = new ReplicaOutbox(t, () => {})
    box.send('n1', 'p', item('a', 1))
    const answers = await Promise.all([box.put('n1', 'p', item('a', 3)), box.put('n1', 'p', item('a', 2))])
    expect(answers).to.deep.equal([true, true])
    expect(sent).to.deep.equal([{ peer: 'n1', pool: 'p', ids: ['a'], seqs: [3] }])
  })

  it('splits a large batch', async () => {
    const { t, sent } = transport(async (_, count) => new Array(count).fill(true))
    const box = new ReplicaOutbox(t, () => {})
    await Promise.all(Array.from({ length: REPLICA_BATCH * 2 + 1 }, async (_, i) => await box.put('n1', 'p', item(`w${i}`))))
    expect(sent.map(s => s.ids.length)).to.deep.equal([REPLICA_BATCH, REPLICA_BATCH, 1])
  })

  it('passes on a refusal per item, and fails every item of a batch whose node is unreachable or answers garbage', async () => {
    const answers: Record<string, (count: number) => Promise<unknown>> = {
      n1: async () => [true, 99],
      n2: async () => { throw new NodeUnavailableError('gone') },
      n3: async () => ['yes', true]
    }
    const { t } = transport(async (peer, count) => await answers[peer](count))
    let missed = 0
    const box = new ReplicaOutbox(t, () => { missed++ })
    const out = await Promise.all(['n1', 'n2', 'n3'].flatMap(peer => [box.put(peer, 'p', item('a')), box.put(peer, 'p', item('b'))]))
    expect(out.slice(0, 2)).to.deep.equal([true, 99])
    expect(out.slice(2, 4).map(e => (e as Error).name)).to.deep.equal(['NodeUnavailableError', 'NodeUnavailableError'])
    expect(out.slice(4).every(e => e instanceof InvalidMessageError)).to.equal(true)
    expect(missed).to.equal(4)
  })

  it('holds back the drops a full queue refused, sends them on retry in order, and forgets those to a node it cannot reach', async () => {
    const cast: Array<[string, unknown]> = []
    let full = true
    const t = {
      call: async () => [],
      cast: (peer: string, payload: unknown) => {
        if (peer === 'gone') throw new NodeUnavailableError('stopped')
        if (full && payload === 'd2') throw new OverloadedError('65536 messages already queued')
        cast.push([peer, payload])
      }
    } as unknown as RuntimeTransport
    const outbox = new ReplicaOutbox(t, () => {})
    for (const d of ['d1', 'd2', 'd3']) outbox.drop('b', d)
    outbox.drop('gone', 'x')
    await Promise.resolve()
    expect(cast).to.deep.equal([['b', 'd1']])
    full = false
    outbox.drop('b', 'd4')
    await Promise.resolve()
    // the held-back drops go first, then the new one; nothing more for the node that is gone
    expect(cast).to.deep.equal([['b', 'd1'], ['b', 'd2'], ['b', 'd3'], ['b', 'd4']])
    outbox.retry()
    await Promise.resolve()
    expect(cast).to.have.length(4)
  })
})
