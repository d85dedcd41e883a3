import { expect } from 'chai'
import { poolStatus } from '../../src/figures/health.js'
import type { PoolHealthFigures } from '../../src/figures/health.js'

const calm: PoolHealthFigures = {
  active: 100,
  target: 1000,
  softLimit: 1250,
  hardLimit: 1500,
  spawnsPerSec: 0,
  msgsPerSec: 100,
  failuresPerMin: 0,
  timeoutsPerMin: 0,
  overloadedPerMin: 0,
  migratedOutPerMin: 0,
  migratedInPerMin: 0,
  spilled: 0,
  p50Ms: 0.01,
  p99Ms: 0.1,
  turnsPerMin: 6000
}

describe('poolStatus', () => {
  it('is online with no errors and load under the soft limit', () => {
    expect(poolStatus(calm)).to.deep.equal({ status: 'online', reasons: [] })
  })

  it('is degraded at the soft limit and critical at the hard limit', () => {
    expect(poolStatus({ ...calm, active: 1250 }).status).to.equal('degraded')
    expect(poolStatus({ ...calm, active: 1500 }).status).to.equal('critical')
  })

  it('is online with target 0 (a drained node, or one that only sends) while it holds no worker, degraded while it still holds some', () => {
    const drained = { ...calm, target: 0, softLimit: 0, hardLimit: 0 }
    expect(poolStatus({ ...drained, active: 0 })).to.deep.equal({ status: 'online', reasons: [] })
    expect(poolStatus({ ...drained, active: 1 })).to.deep.equal({ status: 'degraded', reasons: ['1 active with target 0, to be handed to other nodes'] })
  })

  it('weighs timeouts twice and ignores a few errors among few turns', () => {
    expect(poolStatus({ ...calm, failuresPerMin: 4, turnsPerMin: 10 }).status).to.equal('online')
    expect(poolStatus({ ...calm, failuresPerMin: 60 }).status).to.equal('degraded') // 1% of 6000
    expect(poolStatus({ ...calm, timeoutsPerMin: 30 }).status).to.equal('degraded') // 60 weighted
    expect(poolStatus({ ...calm, failuresPerMin: 600 }).status).to.equal('critical')
  })

  it('is degraded when turns are slow, with the reason named', () => {
    const s = poolStatus({ ...calm, p99Ms: 400 })
    expect(s.status).to.equal('degraded')
    expect(s.reasons[0]).to.match(/p99/)
  })

  it('takes thresholds from the pool', () => {
    expect(poolStatus({ ...calm, p99Ms: 400 }, { degradedP99Ms: 1000 }).status).to.equal('online')
  })
})
