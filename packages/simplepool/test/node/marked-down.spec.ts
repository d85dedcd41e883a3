import { expect } from 'chai'
import type { Member } from '@simplepool/core'
import { MarkedDownQuestion } from '../../src/node/marked-down.js'

function member (peerId: string, liveness: Member['liveness'] = 'alive'): Member {
  return { peerId, addresses: [], status: 'up', liveness, incarnation: 1, pools: {} } as unknown as Member
}

/** A question asked of `members`, each answering when and what `answers` says (undefined: never). */
function question (members: Member[], answers: Record<string, (() => Promise<unknown>) | undefined>): { q: MarkedDownQuestion, heard: string[] } {
  const heard: string[] = []
  const q = new MarkedDownQuestion({
    self: () => 'me',
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
  it('answers yes at the first member that says so, without waiting for one that does not answer yet', async () => {
    // b sits behind a connection still in the kernel's backoff after a heal
    const { q, heard } = question([member('a'), member('b')], { a: async () => true, b: undefined })
    expect(await q.ask(3_000, { timeoutMs: 2_000 })).to.equal(true)
    expect(heard).to.deep.equal(['a'])
  })

  it('answers no only once every member said no', async () => {
    let release: (v: unknown) => void = () => {}
    const late = new Promise((resolve) => { release = resolve })
    const { q } = question([member('a'), member('b')], { a: async () => false, b: async () => await late })
    let done = false
    const asked = q.ask(3_000, { timeoutMs: 2_000 }).then((v) => { done = true; return v })
    await new Promise(resolve => setImmediate(resolve))
    expect(done).to.equal(false)
    release(false)
    expect(await asked).to.equal(false)
  })

  it('takes a member that does not answer for yes unless this node sees it down, and no members for no', async () => {
    const failing = async (): Promise<never> => { throw Object.assign(new Error('timed out'), { name: 'TimeoutError' }) }
    expect(await question([member('a')], { a: failing }).q.ask(3_000, { timeoutMs: 2_000 })).to.equal(true)
    expect(await question([member('a', 'down')], { a: failing }).q.ask(3_000, { timeoutMs: 2_000 })).to.equal(false)
    expect(await question([], {}).q.ask(3_000, { timeoutMs: 2_000 })).to.equal(false)
  })
})
