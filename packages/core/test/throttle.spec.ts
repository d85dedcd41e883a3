import { expect } from 'chai'
import { ManualClock, Throttle, ThrottledLog } from '../src/index.js'

describe('Throttle', () => {
  it('lets a key pass once per interval, saying how many it held back since', () => {
    const clock = new ManualClock()
    const t = new Throttle(clock, 1_000)
    expect(t.pass('a')).to.equal(0)
    expect([t.pass('a'), t.pass('a'), t.pass('b')]).to.deep.equal([-1, -1, 0])
    clock.advance(1_000)
    expect(t.pass('a')).to.equal(2)
  })
})

describe('ThrottledLog', () => {
  it('logs a peer once a second at most, the next line saying how many were left out; other peers apart', () => {
    const clock = new ManualClock()
    const lines: string[] = []
    const reports = new ThrottledLog(clock, { debug: () => {}, info: () => {}, warn: () => {}, error: (m: string) => { lines.push(m) } })
    for (let i = 0; i < 100; i++) reports.report('p1', 'bad frame from p1')
    reports.report('p2', 'bad frame from p2')
    clock.advance(999)
    reports.report('p1', 'bad frame from p1')
    expect(lines).to.deep.equal(['bad frame from p1', 'bad frame from p2'])
    clock.advance(1)
    reports.report('p1', 'bad frame from p1')
    expect(lines.at(-1)).to.equal('bad frame from p1 (and 100 more since the last report)')
  })

  it('remembers a bounded number of peers, whatever ids a flood makes up', () => {
    const clock = new ManualClock()
    let n = 0
    const reports = new ThrottledLog(clock, { debug: () => {}, info: () => {}, warn: () => {}, error: () => { n++ } })
    for (let i = 0; i < 5_000; i++) reports.report(`p${i}`, 'x')
    expect(n).to.equal(5_000)
    expect((reports as unknown as { throttle: { last: Map<string, unknown> } }).throttle.last.size).to.be.at.most(1_024)
  })
})
