import { expect } from 'chai'
import { runStartupModel } from '../src/startup-model.js'

/**
 * A cluster's start under witness membership in virtual time (seeded): joins by snapshot,
 * records pushed over the links, witnesses renamed as members arrive. What must hold
 * whatever the machine, not how fast it runs.
 */
describe('the startup model (witness membership, joins by snapshot)', function () {
  this.timeout(120_000)

  it('a hundred nodes started within a second agree in about a second, at a cost per node that does not grow with the cluster', async () => {
    const small = await runStartupModel({ nodes: 20, seed: 1 })
    for (const seed of [1, 2]) {
      const r = await runStartupModel({ nodes: 100, seed })
      // every node sees all a hundred alive and holds its lease: a few beats after the last start
      expect(r.agreedMs, `seed ${seed}`).to.not.equal(null)
      expect(r.agreedMs ?? Infinity, `seed ${seed}`).to.be.below(3_000)
      expect(r.falseDowns, `seed ${seed}`).to.equal(0)
      // a killed node is proven dead by a refused redial, which floods in milliseconds
      expect(r.killDownMs ?? Infinity, `seed ${seed}`).to.be.below(500)
      // idle, a node beats its links: about twice K a second, whatever N (the renames of the start dropped the links no longer needed)
      expect(r.idleMessagesPerNodePerSecond, `seed ${seed}`).to.be.below(2 * small.idleMessagesPerNodePerSecond + 10)
    }
  })

  it('with one message in five lost, a join whose pull or answer was lost asks again: agreement comes later, and nothing breaks', async () => {
    const r = await runStartupModel({ nodes: 40, loss: 0.2, seed: 3, bootstraps: 1 })
    expect(r.agreedMs).to.not.equal(null)
    expect(r.falseDowns).to.equal(0)
  })
})
