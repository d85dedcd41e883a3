import { expect } from 'chai'
import { mergeRuns, repeated } from '../bench/report.js'

describe('bench report', () => {
  it('a repeated figure is the median of its runs, with min, max and every run', () => {
    const f = repeated('x', [3.14159, 1, 2.5], 'ms', 2, '< 5')
    expect(f).to.deep.equal({ name: 'x', value: 2.5, unit: 'ms', goal: '< 5', runs: [3.14, 1, 2.5], min: 1, max: 3.14 })
  })

  it('merges the figures of repeated scenario runs by name, runs inside runs included', () => {
    const merged = mergeRuns([
      [{ name: 'a', value: 10, unit: 'ops/s' }, repeated('b', [1, 2, 3], 'ms')],
      [{ name: 'a', value: 30, unit: 'ops/s' }, repeated('b', [4, 5, 6], 'ms')],
      [{ name: 'a', value: 20, unit: 'ops/s' }, { name: 'c', value: 7, unit: 'x' }]
    ])
    expect(merged.map(f => f.name)).to.deep.equal(['a', 'b', 'c'])
    expect(merged[0]).to.include({ value: 20, min: 10, max: 30 })
    expect(merged[0].runs).to.deep.equal([10, 30, 20])
    expect(merged[1]).to.include({ value: 4, min: 1, max: 6 })
    expect(merged[2]).to.include({ value: 7, min: 7, max: 7 })
  })

  it('a run that could not be measured (NaN) stays in runs but out of the median, min and max', () => {
    const merged = mergeRuns([[{ name: 'a', value: NaN, unit: 'ms' }], [{ name: 'a', value: 5, unit: 'ms' }]])
    expect(merged[0]).to.include({ value: 5, min: 5, max: 5 })
    expect(merged[0].runs).to.deep.equal([NaN, 5])
  })
})
