import { expect } from 'chai'
import { ManualClock, TypedEventTarget } from '@simplepool/core'
import { AuditTrail } from '../../src/admin/audit.js'
import type { AdminWriteDetail, AuditEvents } from '../../src/admin/audit.js'

function trail (): { audit: AuditTrail, clock: ManualClock, records: AdminWriteDetail[], lines: string[] } {
  const clock = new ManualClock(1_000)
  const events = new TypedEventTarget<AuditEvents>()
  const records: AdminWriteDetail[] = []
  const lines: string[] = []
  events.addEventListener('admin:write', (evt) => { records.push(evt.detail) })
  const log = (m: string): void => { lines.push(m) }
  return { audit: new AuditTrail(events, { debug: log, info: log, warn: log, error: log }, clock, () => 'n1'), clock, records, lines }
}

describe('AuditTrail', () => {
  it('records who, what, when and the outcome, a refusal apart from a failure', () => {
    const { audit, records, lines } = trail()
    audit.record({ kind: 'peer', peer: 'n2' }, 'drain', { node: 'n1', pools: ['rooms'] })
    audit.record({ kind: 'token', address: '127.0.0.1:5000' }, 'targets', { node: 'n3' }, Object.assign(new Error('no pool x'), { name: 'UnknownPoolError' }))
    audit.record({ kind: 'token', address: '127.0.0.1:5000' }, 'call', { pool: 'p', id: 'w' }, Object.assign(new Error('gone'), { name: 'NodeUnavailableError' }))
    expect(records.map(r => [r.action, r.outcome, r.error?.name])).to.deep.equal([['drain', 'done', undefined], ['targets', 'refused', 'UnknownPoolError'], ['call', 'failed', 'NodeUnavailableError']])
    expect(records[0]).to.deep.equal({ node: 'n1', by: { kind: 'peer', peer: 'n2' }, action: 'drain', target: { node: 'n1', pools: ['rooms'] }, at: 1_000, outcome: 'done' })
    expect(lines[0]).to.equal('audit: drain {"node":"n1","pools":["rooms"]} by peer n2: done')
  })

  it('keeps a record within bounds, whatever the write named', () => {
    const { audit, records, lines } = trail()
    const pools = Array.from({ length: 1_024 }, (_, i) => `${i}-${'p'.repeat(1_000)}`)
    audit.record({ kind: 'peer', peer: 'n2' }, 'drain', { node: 'n1', pools, targets: Object.fromEntries(pools.map(p => [p, 1])) })
    const target = records[0].target as { pools: string[], targets: Record<string, unknown> }
    expect(target.pools).to.have.length(17)
    expect(target.pools.at(-1)).to.equal('… 1008 more')
    expect(target.pools[0].length).to.equal(257)
    expect(Object.keys(target.targets)).to.have.length(17)
    expect(JSON.stringify(records[0]).length).to.be.below(10_000)
    expect(lines[0].length).to.be.below(10_000)
  })

  it('only logs a client refused for want of the token, once a second at most', () => {
    const { audit, clock, records, lines } = trail()
    for (let i = 0; i < 500; i++) audit.record({ kind: 'no-token', address: `10.0.0.${i % 250}:1` }, 'drain', { node: 'n1' }, Object.assign(new Error('no'), { name: 'Unauthorized' }))
    expect(records).to.deep.equal([])
    expect(lines).to.have.length(1)
    clock.advance(1_000)
    audit.record({ kind: 'no-token', address: '10.0.0.1:1' }, 'drain', { node: 'n1' }, new Error('no'))
    expect(lines[1]).to.match(/and 499 more since the last report/)
  })
})
