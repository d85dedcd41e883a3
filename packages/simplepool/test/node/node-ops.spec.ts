import { expect } from 'chai'
import { ManualClock } from '@simplepool/core'
import { Access, WorkerEvents } from '@simplepool/runtime'
import type { AccessRules } from '@simplepool/runtime'
import type { NodeOpsComponents } from '../../src/node/node-ops.js'
import { handleNodeOp } from '../../src/node/node-ops.js'
import { NodeOp, encodeDrain, encodeHeld, encodeHolders, encodeInspect, encodeMarkedDown, encodeRebalance, encodeSetTargets, encodeUndrain, encodeWatch } from '../../src/node/node-protocol.js'

/** A node that runs `counter` and `rooms`, and writes down what it was asked to do. */
function fakeNode (stopping = false, rules?: AccessRules): { c: NodeOpsComponents, did: unknown[][] } {
  const did: unknown[][] = []
  const c: NodeOpsComponents = {
    self: () => 'A',
    stopping: () => stopping,
    poolNames: () => ['counter', 'rooms'],
    runs: (pool) => pool === 'counter' || pool === 'rooms',
    applyTargets: (targets) => { did.push(['applyTargets', targets]) },
    drained: {
      drain: (pools, all) => { did.push(['drain', pools, all]) },
      undrain: (pools) => { did.push(['undrain', pools]) },
      held: (pools) => pools.length * 10
    },
    markedDown: (from, withinMs) => from === 'B' && withinMs > 1_000,
    rebalance: () => { did.push(['rebalance']) },
    health: () => { throw new Error('not asked here') },
    rings: () => ({ node: 'A', version: 3, rings: {} }),
    holders: () => ['A', 'C'],
    watchFigures: (after) => { did.push(['watch', after]); return {} as any },
    whereHere: (pool, id) => ({ node: 'A', epoch: 1, why: 'owner', owner: `${pool}/${id}` }),
    movesOf: () => [],
    movePlan: () => ({ B: 2 }),
    access: new Access(rules, { clock: new ManualClock(), events: new WorkerEvents(), self: () => 'A', runs: (pool) => pool === 'counter' || pool === 'rooms' })
  }
  return { c, did }
}

describe('node operations, as a node answers them', () => {
  it('drains every pool, and the node as a whole, for a drain that names none', () => {
    const { c, did } = fakeNode()
    expect(handleNodeOp(encodeDrain({ pools: null }), 'B', c)).to.equal(true)
    expect(handleNodeOp(encodeDrain({ pools: ['rooms'] }), 'B', c)).to.equal(true)
    expect(handleNodeOp(encodeUndrain({ pools: null }), 'B', c)).to.equal(true)
    expect(did).to.deep.equal([['drain', ['counter', 'rooms'], true], ['drain', ['rooms'], false], ['undrain', ['counter', 'rooms']]])
    expect(handleNodeOp(encodeHeld({ pools: null }), 'B', c)).to.equal(20)
  })

  it('answers UnknownPoolError, and does nothing, for a pool it does not run', () => {
    const { c, did } = fakeNode()
    for (const payload of [encodeDrain({ pools: ['counter', 'nope'] }), encodeHeld({ pools: ['nope'] }), encodeRebalance({ pool: 'nope' }), encodeInspect({ pool: 'nope', id: 'w' })]) {
      expect(() => handleNodeOp(payload, 'B', c)).to.throw().with.property('name', 'UnknownPoolError')
    }
    expect(did).to.deep.equal([])
  })

  it('answers the asker\'s own question with the asker as `from`', () => {
    const { c } = fakeNode()
    expect(handleNodeOp(encodeMarkedDown({ withinMs: 6_500 }), 'B', c)).to.equal(true)
    expect(handleNodeOp(encodeMarkedDown({ withinMs: 6_500 }), 'C', c)).to.equal(false)
  })

  it('answers who may hold workers from its view', () => {
    const { c } = fakeNode()
    expect(handleNodeOp(encodeHolders(), 'B', c)).to.deep.equal(['A', 'C'])
  })

  it('hands each operation its decoded message', () => {
    const { c, did } = fakeNode()
    handleNodeOp(encodeSetTargets({ targets: { counter: 5 } }), 'B', c)
    handleNodeOp(encodeWatch({ afterEventId: null }), 'B', c)
    handleNodeOp(encodeWatch({ afterEventId: 'x.1' }), 'B', c)
    handleNodeOp(encodeRebalance({ pool: 'counter' }), 'B', c)
    expect(did).to.deep.equal([['applyTargets', { counter: 5 }], ['watch', undefined], ['watch', 'x.1'], ['rebalance']])
    expect(handleNodeOp(encodeInspect({ pool: 'counter', id: 'w-1' }), 'B', c)).to.deep.equal({ where: { node: 'A', epoch: 1, why: 'owner', owner: 'counter/w-1' }, moves: [] })
    expect(handleNodeOp([NodeOp.Plan, 'counter'], 'B', c)).to.deep.equal({ B: 2 })
  })

  it('refuses, while it stops, to take targets back (an undrain, a target change): NodeUnavailableError, and nothing done', () => {
    const { c, did } = fakeNode(true)
    expect(() => handleNodeOp(encodeUndrain({ pools: null }), 'B', c)).to.throw().with.property('name', 'NodeUnavailableError')
    expect(() => handleNodeOp(encodeSetTargets({ targets: { counter: 5 } }), 'B', c)).to.throw().with.property('name', 'NodeUnavailableError')
    expect(did).to.deep.equal([])
    // a drain of a stopping node changes nothing it would not do itself
    handleNodeOp(encodeDrain({ pools: null }), 'B', c)
    expect(did).to.deep.equal([['drain', ['counter', 'rooms'], true]])
  })

  it('refuses an operation it does not know with InvalidMessageError', () => {
    const { c } = fakeNode()
    expect(() => handleNodeOp([199], 'B', c)).to.throw().with.property('name', 'InvalidMessageError')
    expect(() => handleNodeOp('x', 'B', c)).to.throw().with.property('name', 'InvalidMessageError')
  })

  it('runs an operation for a peer only when the access rules grant it; the questions members ask to run at all stay open', () => {
    const { c, did } = fakeNode(false, { roles: { ops: ['B'] }, operations: { drain: ['ops'], read: ['ops'] } })
    expect(handleNodeOp(encodeDrain({ pools: ['rooms'] }), 'B', c)).to.equal(true)
    expect(handleNodeOp(encodeHeld({ pools: ['rooms'] }), 'B', c)).to.equal(10)
    for (const [payload, op] of [[encodeUndrain({ pools: null }), 'undrain'], [encodeSetTargets({ targets: { rooms: 1 } }), 'targets'], [encodeRebalance({ pool: 'rooms' }), 'rebalance']] as const) {
      expect(() => handleNodeOp(payload, 'B', c)).to.throw(`node A does not let peer B run ${op} on it`).with.property('name', 'ForbiddenError')
    }
    expect(() => handleNodeOp(encodeDrain({ pools: null }), 'C', c)).to.throw('node A does not let peer C run drain on it')
    expect(() => handleNodeOp(encodeHeld({ pools: null }), 'C', c)).to.throw('run drain on it')
    expect(() => handleNodeOp(encodeWatch({ afterEventId: null }), 'C', c)).to.throw('run read on it')
    expect(handleNodeOp(encodeHolders(), 'C', c), 'a joining node asks').to.deep.equal(['A', 'C'])
    expect(handleNodeOp(encodeMarkedDown({ withinMs: 6_500 }), 'C', c), 'a node back from a stall asks').to.equal(false)
    expect(handleNodeOp(encodeSetTargets({ targets: { rooms: 1 } }), 'A', c), 'the node itself').to.equal(true)
    expect(did).to.deep.equal([['drain', ['rooms'], false], ['applyTargets', { rooms: 1 }]])
  })

  it("records another member's writes, done or failed, in the audit trail; not one it had no right to (the access rules count those), not its reads, nor the node's own", () => {
    const { c } = fakeNode(false, { roles: { ops: ['B'] }, operations: { drain: ['ops'] } })
    const audited: unknown[][] = []
    c.audit = (from, action, target, error) => { audited.push([from, action, target, (error as Error | undefined)?.name ?? 'done']) }
    handleNodeOp(encodeDrain({ pools: ['rooms'] }), 'B', c)
    expect(() => handleNodeOp(encodeSetTargets({ targets: { rooms: 3 } }), 'B', c)).to.throw()
    expect(() => handleNodeOp(encodeDrain({ pools: ['nope'] }), 'B', c)).to.throw()
    expect(() => handleNodeOp([102, 'not a list'], 'C', c)).to.throw()
    handleNodeOp(encodeHolders(), 'B', c)
    handleNodeOp(encodeUndrain({ pools: null }), 'A', c)
    expect(audited).to.deep.equal([
      ['B', 'drain', { node: 'A', pools: ['rooms'] }, 'done'],
      ['B', 'drain', { node: 'A', pools: ['nope'] }, 'UnknownPoolError']
    ])
  })
})
