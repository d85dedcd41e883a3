import { expect } from 'chai'
import { AdminEventLog } from '../packages/simplepool/src/admin/event-log.js'

describe('admin event log', () => {
  it('keeps the last 1,000 events', () => {
    const log = new AdminEventLog()
    for (let i = 0; i < 1_200; i++) log.add('member:update', { i })
    expect(log.size).to.equal(1_000)
  })

  it('cuts a storm of failures to 20 a second per pool, the next one logged saying how many were left out', async () => {
    const log = new AdminEventLog()
    const added: unknown[] = []
    const add = log.add.bind(log)
    log.add = (type, data) => { added.push(data); add(type, data) }
    // all in one second: start early in one
    while (Date.now() % 1000 > 300) await new Promise(resolve => setTimeout(resolve, 20))
    for (let i = 0; i < 25; i++) log.failure('counter', { id: `w-${i}` })
    log.failure('other', { id: 'x' })
    expect(added).to.have.length(21)
    await new Promise(resolve => setTimeout(resolve, 1_000 - (Date.now() % 1000) + 10))
    log.failure('counter', { id: 'later' })
    expect(added[added.length - 1]).to.deep.include({ id: 'later', pool: 'counter', leftOutBefore: 5 })
  })
})
