import { expect } from 'chai'
import { ASK_CONCURRENCY } from '@simplepool/core'
import { askMembers, boundedMap } from '../../src/admin/ask-members.js'
import type { MemberInfo } from '../../src/admin/admin-node.js'

const member = (i: number, liveness = 'alive'): MemberInfo => ({ peerId: `p${i}`, status: 'up', liveness, addresses: [], pools: {} }) as unknown as MemberInfo

describe('askMembers', () => {
  it('asks a hundred members at most ASK_CONCURRENCY at a time, and gets every answer', async () => {
    let inFlight = 0
    let most = 0
    const members = Array.from({ length: 100 }, (_, i) => member(i))
    const { answers, unreachable } = await askMembers({ members: () => members }, () => true, async (peer) => {
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise(resolve => setImmediate(resolve))
      inFlight--
      return peer.toUpperCase()
    })
    expect(most).to.equal(ASK_CONCURRENCY)
    expect(answers.size).to.equal(100)
    expect(answers.get('p42')).to.equal('P42')
    expect(unreachable).to.deep.equal([])
  })

  it('asks nobody whose turn comes after the deadline, and names them unreachable; skips members down', async () => {
    const asked: string[] = []
    const members = [member(0, 'down'), ...Array.from({ length: 40 }, (_, i) => member(i + 1))]
    const gone = new AbortController()
    gone.abort(new Error('the request went'))
    const { answers, unreachable } = await askMembers({ members: () => members }, () => true, async (peer) => {
      asked.push(peer)
      return 1
    }, gone.signal)
    expect(asked).to.deep.equal([])
    expect(answers.size).to.equal(0)
    expect(unreachable.map(u => u.node)).to.have.length(40).and.not.to.include('p0')
  })

  it('boundedMap keeps the items\' order in its results, whatever order they finish in', async () => {
    const out = await boundedMap([5, 1, 3, 0, 2], 2, async (ms) => {
      await new Promise(resolve => setTimeout(resolve, ms))
      return ms * 10
    })
    expect(out).to.deep.equal([50, 10, 30, 0, 20])
  })
})
