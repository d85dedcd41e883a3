import { expect } from 'chai'
import { ACCESS_COUNTED_PEERS, ManualClock } from '@simplepool/core'
import { Access, CALL_OR_HOST, PoolRight } from '../../src/access/access.js'
import type { AccessDenyDetail } from '../../src/events.js'
import { validateAccessRules } from '../../src/access/access-rules.js'
import type { AccessRules } from '../../src/access/access-rules.js'
import { WorkerEvents } from '../../src/events.js'

const RULES: AccessRules = {
  roles: { edge: ['api-1'], workers: ['w-1', 'w-2'], ops: ['laptop'] },
  pools: { 'chat-room': { call: ['edge'], host: ['workers'] }, billing: { host: ['workers'] }, '*': { call: ['*'] } },
  operations: { drain: ['ops'], read: ['ops', 'workers'] }
}

function accessOf (rules: AccessRules | undefined, self = 'w-1', runs = ['chat-room', 'billing']): { access: Access, clock: ManualClock, denied: AccessDenyDetail[] } {
  const clock = new ManualClock()
  const events = new WorkerEvents()
  const denied: AccessDenyDetail[] = []
  events.addEventListener('access:deny', (evt) => { denied.push(evt.detail) })
  const access = new Access(rules, { clock, events, self: () => self, runs: (p) => runs.includes(p) })
  return { access, clock, denied }
}

describe('Access', () => {
  it('with no rules, lets every member do everything', () => {
    const { access } = accessOf(undefined)
    expect(access.open).to.equal(true)
    expect(access.may('anyone', 'billing', PoolRight.Host)).to.equal(true)
    expect(access.mayOperate('anyone', 'drain')).to.equal(true)
    expect(access.maySend('billing')).to.equal(true)
  })

  it('grants each role what its pool names, hosting implying calling; denies the rest', () => {
    const { access } = accessOf(RULES)
    expect(access.may('api-1', 'chat-room', CALL_OR_HOST)).to.equal(true)
    expect(access.may('api-1', 'chat-room', PoolRight.Host), 'an edge node hosts nothing').to.equal(false)
    expect(access.may('api-1', 'billing', CALL_OR_HOST), 'billing is not reachable from the edge').to.equal(false)
    expect(access.may('w-2', 'billing', PoolRight.Host)).to.equal(true)
    expect(access.may('w-2', 'chat-room', PoolRight.Call), 'a host sends on calls').to.equal(true)
    expect(access.may('stranger', 'chat-room', CALL_OR_HOST)).to.equal(false)
  })

  it("gives pools not named the '*' rule, and '*' as a role means every member", () => {
    const { access } = accessOf(RULES)
    expect(access.may('stranger', 'counter', PoolRight.Call)).to.equal(true)
    expect(access.may('stranger', 'counter', PoolRight.Host)).to.equal(false)
    const { access: none } = accessOf({ roles: {} })
    expect(none.may('stranger', 'counter', CALL_OR_HOST), 'rules given, nothing granted').to.equal(false)
  })

  it('grants node operations per role; the node itself may always ask itself', () => {
    const { access } = accessOf(RULES)
    expect(access.mayOperate('laptop', 'drain')).to.equal(true)
    expect(access.mayOperate('laptop', 'undrain'), 'not granted').to.equal(false)
    expect(access.mayOperate('w-2', 'read')).to.equal(true)
    expect(access.mayOperate('api-1', 'read')).to.equal(false)
    expect(access.mayOperate('w-1', 'targets'), 'itself').to.equal(true)
    expect(access.may('w-1', 'nowhere', PoolRight.Host), 'itself').to.equal(true)
  })

  it("checks the node's own rights: to send, and to host every pool it runs", () => {
    expect(accessOf(RULES, 'api-1', []).access.maySend('chat-room')).to.equal(true)
    expect(accessOf(RULES, 'api-1', []).access.maySend('billing')).to.equal(false)
    expect(() => { accessOf(RULES, 'w-1').access.checkSelf(['chat-room', 'billing']) }).not.to.throw()
    expect(() => { accessOf(RULES, 'api-1', ['chat-room']).access.checkSelf(['chat-room']) })
      .to.throw(/runs pool chat-room, but its access rules do not let it host it/).with.property('name', 'InvalidOptionError')
  })

  it('counts refusals per peer, pool and operation, and names the refusal in a ForbiddenError', () => {
    const { access } = accessOf(RULES)
    const err = access.refuse('stranger', 'call', 'billing')
    expect(err.name).to.equal('ForbiddenError')
    expect(err.message).to.equal('node w-1 does not let peer stranger call pool billing')
    expect(err.data).to.deep.equal({ node: 'w-1', peer: 'stranger', pool: 'billing', op: 'call' })
    access.refused('stranger', 'cast', 'billing')
    access.refused('stranger', 'cast', 'billing')
    access.refused('stranger', 'cast', 'made-up-' + 'x'.repeat(100))
    access.refuse('api-1', 'drain', null)
    expect(access.refusals()).to.deep.equal([
      { peer: 'stranger', pool: 'billing', op: 'call', count: 1 },
      { peer: 'stranger', pool: 'billing', op: 'cast', count: 2 },
      { peer: 'stranger', pool: '(unknown)', op: 'cast', count: 1 },
      { peer: 'api-1', pool: '', op: 'drain', count: 1 }
    ])
  })

  it('counts past 256 peers under (other), and caches no pool a peer makes up', () => {
    const { access } = accessOf(RULES)
    for (let i = 0; i < ACCESS_COUNTED_PEERS + 50; i++) access.refused(`p-${i}`, 'cast', 'billing')
    const rows = access.refusals()
    expect(rows).to.have.length(ACCESS_COUNTED_PEERS + 1)
    expect(rows.at(-1)).to.deep.equal({ peer: '(other)', pool: 'billing', op: 'cast', count: 50 })
    for (let i = 0; i < 10_000; i++) access.may('stranger', `pool-${i}`, CALL_OR_HOST)
    const cached = (access as unknown as { peers: Map<string, { pools: Map<string, number> }> }).peers.get('stranger')?.pools
    expect(cached?.size ?? 0).to.equal(0)
  })

  it('announces a peer once a second at most, saying how many refusals the event covers', () => {
    const { access, clock, denied } = accessOf(RULES)
    access.refused('stranger', 'cast', 'billing')
    for (let i = 0; i < 99; i++) access.refused('stranger', 'cast', 'billing')
    access.refused('api-1', 'call', 'billing')
    expect(denied.map(d => [d.peer, d.count])).to.deep.equal([['stranger', 1], ['api-1', 1]])
    clock.advance(999)
    access.refused('stranger', 'cast', 'billing')
    expect(denied).to.have.length(2)
    clock.advance(1)
    access.refuse('stranger', 'claim', 'chat-room')
    expect(denied.at(-1)).to.deep.equal({ node: 'w-1', peer: 'stranger', pool: 'chat-room', op: 'claim', count: 101 })
  })
})

describe('validateAccessRules', () => {
  it('takes rules as documented', () => {
    expect(validateAccessRules(RULES)).to.equal(RULES)
  })

  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', [], /access must be an object/],
    ['no roles', { pools: {} }, /access.roles is required/],
    ['an unknown field', { roles: {}, pool: {} }, /access has no field pool/],
    ['a role of one string', { roles: { edge: 'api-1' } }, /access.roles.edge must be a list of non-empty strings/],
    ["'*' defined", { roles: { '*': ['a'] } }, /cannot define \*/],
    ['a role granted but not defined', { roles: { edge: ['a'] }, pools: { p: { call: ['egde'] } } }, /access.pools.p.call grants role "egde", which access.roles does not define/],
    ['a right that does not exist', { roles: {}, pools: { p: { write: [] } } }, /access.pools.p has no right write/],
    ['an operation that does not exist', { roles: {}, operations: { shutdown: [] } }, /access.operations has no operation shutdown/],
    ['a pool grant of the wrong type', { roles: {}, pools: { p: ['call'] } }, /access.pools.p must be an object/]
  ]
  for (const [what, rules, message] of bad) {
    it(`refuses ${what} with InvalidOptionError`, () => {
      expect(() => validateAccessRules(rules)).to.throw(message).with.property('name', 'InvalidOptionError')
    })
  }

  it('checks the form of peer ids when given a way to', () => {
    expect(() => validateAccessRules({ roles: { edge: ['api-1'] } }, (id) => id.startsWith('12D3')))
      .to.throw('access.roles.edge has "api-1", which is not a peer id')
  })
})
