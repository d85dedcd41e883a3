import { expect } from 'chai'
import { FENCE_ASK_STRAGGLE_MS, ManualClock } from '@simplepool/core'
import type { Member } from '@simplepool/core'
import { MarkedDownQuestion } from '../../src/node/marked-down.js'

function member (peerId: string, liveness: Member['liveness'] = 'alive'): Member {
  return { peerId, addresses: [], status: 'up', liveness, incarnation: 1, pools: {} } as unknown as Member
}

/** A question asked of `members`, each answering when and what `answers` says (undefined: never). */
function question (members: Member[], answers: Record<string, (() => Promise<unknown>) | undefined>, clock = new ManualClock()): { q: MarkedDownQuestion, heard: string[] } {
  const heard: string[] = []
  const q = new MarkedDownQuestion({
    self: () => 'me',
    clock,
    forgetAfterMs: 60_000,
    members: () => [member('me'), ...members],
    announceNow: () => {},
    heardFrom: (peerId) => { heard.push(peerId); return true },
    markedDownAgo: () => undefined,
    call: async (peerId) => await (answers[peerId]?.() ?? new Promise(() => {}))
  })
  return { q, heard }
}

describe('MarkedDownQuestion', () => {
  it('answers yes at the first member that says so, waiting a little for the others, not for one that does not answer yet', async () => {
    // b sits behind a connection still in the kernel's backoff after a heal
    const clock = new ManualClock()
    const { q, heard } = question([member('a'), member('b')], { a: async () => true, b: undefined }, clock)
    let done = false
    const asked = q.ask(3_000, { timeoutMs: 2_000, straggleMs: FENCE_ASK_STRAGGLE_MS }).then((v) => { done = true; return v })
    await new Promise(resolve => setImmediate(resolve))
    clock.advance(FENCE_ASK_STRAGGLE_MS - 1)
    await new Promise(resolve => setImmediate(resolve))
    expect(done).to.equal(false)
    clock.advance(1)
    expect(await asked).to.equal(true)
    expect(heard).to.deep.equal(['a'])
  })

  it('after isolation (no straggling asked for), answers yes at the first member that says so', async () => {
    const { q, heard } = question([member('a'), member('b')], { a: async () => true, b: undefined })
    expect(await q.ask(3_000, { timeoutMs: 2_000, straggleMs: 0 })).to.equal(true)
    expect(heard).to.deep.equal(['a'])
  })

  it('after a first yes, counts the answers that come soon after as heard before it answers', async () => {
    // a stalled node's lease on a majority is looked at as its fence ends: those answers are what it heard
    const { q, heard } = question([member('a'), member('b')], { a: async () => true, b: async () => await new Promise(resolve => setImmediate(() => { resolve(false) })) })
    expect(await q.ask(3_000, { timeoutMs: 2_000, straggleMs: FENCE_ASK_STRAGGLE_MS })).to.equal(true)
    expect(heard).to.have.members(['a', 'b'])
  })

  it('answers no only once every member said no', async () => {
    let release: (v: unknown) => void = () => {}
    const late = new Promise((resolve) => { release = resolve })
    const { q } = question([member('a'), member('b')], { a: async () => false, b: async () => await late })
    let done = false
    const asked = q.ask(3_000, { timeoutMs: 2_000, straggleMs: FENCE_ASK_STRAGGLE_MS }).then((v) => { done = true; return v })
    await new Promise(resolve => setImmediate(resolve))
    expect(done).to.equal(false)
    release(false)
    expect(await asked).to.equal(false)
  })

  it('takes a member that does not answer for yes unless this node sees it down, and no members for no', async () => {
    const failing = async (): Promise<never> => { throw Object.assign(new Error('timed out'), { name: 'TimeoutError' }) }
    expect(await question([member('a')], { a: failing }).q.ask(3_000, { timeoutMs: 2_000, straggleMs: FENCE_ASK_STRAGGLE_MS })).to.equal(true)
    expect(await question([member('a', 'down')], { a: failing }).q.ask(3_000, { timeoutMs: 2_000, straggleMs: FENCE_ASK_STRAGGLE_MS })).to.equal(false)
    expect(await question([], {}).q.ask(3_000, { timeoutMs: 2_000, straggleMs: FENCE_ASK_STRAGGLE_MS })).to.equal(false)
  })
})
