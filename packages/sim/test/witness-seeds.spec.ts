import { expect } from 'chai'
import { runScenario } from '../src/scenario/scenario.js'
import type { ScenarioResult } from '../src/scenario/scenario.js'

/**
 * Seeds that found a bug with the nodes on witness membership (`npm run sim -- --witness`),
 * each kept as it found it: the run must stay clean. `npm run sim -- --seed S --witness
 * [--partitions] [--replicas 1] --trace` replays one.
 */
const WITNESS_REGRESSIONS: Array<{ seed: number, found: string, partitions?: boolean, replicas?: 1 }> = [
  { seed: 1, found: 'graceful-keeps-memory: a node that joined after a member was killed never heard the news that held it down (it flooded before the join), kept it on its ring, and its calls failed there; then a timer to forget members held down, set by a sum that rounded up, came round at one instant for ever' },
  { seed: 4, found: 'graceful-keeps-memory (not traced; clean since joiners are told the news, as seed 1)' },
  { seed: 5, found: 'bounded-memory: a node still had workers to hand over at the end (not traced; clean since joiners are told the news, as seed 1)' },
  { seed: 1006, partitions: true, found: 'the run never ended: a rename waiting for members to stop arriving was set by a difference that rounded down, and came round at one instant for ever' },
  { seed: 1008, partitions: true, found: 'bounded-memory: a node whose witness doubted a proposed epoch of it while cut off, and alone decided its group of two, could neither lease nor be held down once the cut healed (it now renews its generation after 10 s without a lease); and nodes cut off while a member was held down never learnt it (news of suspect and down members now goes with the roster\'s digests)' },
  { seed: 1017, partitions: true, found: 'bounded-memory: as seed 1008' },
  { seed: 1022, partitions: true, found: 'bounded-memory: as seed 1008' },
  { seed: 1024, partitions: true, found: 'bounded-memory: as seed 1008' },
  { seed: 1033, partitions: true, found: 'bounded-memory: as seed 1008' },
  { seed: 1035, partitions: true, found: 'bounded-memory: as seed 1008' },
  { seed: 7202, replicas: 1, found: 'replicas-on-successors: a worker mid-turn (a slow turn, held longer by a fence) as a node joined was passed over by the ring\'s walk, and its turn put nothing (it changed nothing), so the joiner never got its replica; a worker mid-turn now follows the ring at the first sweep after (clean since; the fix also moved the run)' },
  { seed: 3095, replicas: 1, found: 'graceful-keeps-memory: a node left while another named it as one of a witness group of two; that one could never leave the epoch (the leaver promised nothing any more), lost its lease for good, and renewed its generation, dropping what it held (a node that leaves now waits until no member names it)' }
]

function report (r: ScenarioResult): string {
  return `${r.violation?.invariant ?? ''}: ${r.violation?.detail ?? ''}\n${r.tail.join('\n')}`
}

describe('the simulator with the nodes on witness membership, over a fixed set of seeds', function () {
  this.timeout(120_000)

  for (const { seed, found, partitions = false, replicas } of WITNESS_REGRESSIONS) {
    it(`seed ${seed}${partitions ? ', partitions drawn,' : ''}${replicas !== undefined ? ` with ${replicas} replica,` : ''} stays clean (it found: ${found})`, async () => {
      const r = await runScenario({ seed, nodes: 5, seconds: 60, membership: 'witness', exclude: partitions ? [] : ['partition', 'split'], ...(replicas !== undefined ? { replicas } : {}) })
      expect(r.violation, report(r)).to.equal(undefined)
    })
  }

  // Seeds that still show a bug with witness membership, skipped with what each shows.
  it.skip('skipped because it shows a bug not fixed yet: seed 1056 with witness membership, partitions drawn, per-sender-order (counter/68, message 6 from n3 ran after 7): of the kind of the per-sender-order seeds with partitions skipped in seeds.spec.ts (the known gap the README lists). Not diagnosed further')
  it.skip('skipped because it shows a bug not fixed yet: seed 6026 with witness membership, partitions drawn, graceful-keeps-memory (counter/80 holds 7, acknowledged 26): a node that joined claimed the worker only from the owners its own placements named; the node holding it, up but its owner no longer (its handoff had gone unanswered in a cut), was not asked, and the joiner started it afresh. Asking every member fixed it, but then one member that never answers (fenced) stalls every claim of the cluster: 100 nodes on real hosts did not finish their calls. The gap is the gossip membership\'s too in principle (a joiner has no placement naming such a holder; counts ask only members that serve the pool no more)')
  it.skip('skipped because it shows a bug not fixed yet: seed 54028 with witness membership, partitions drawn, per-sender-order (ledger/45, message 8 from n2 ran after 9): found by a sweep of seeds 54000-54059; it fails the same way at the commit before the changes it was found with, so it is of the open order kind above. Not diagnosed further')
  it.skip('skipped because it shows a bug not fixed yet: seed 22041 with witness membership, no partitions drawn, per-sender-order (counter/26, message 1 from n2 ran after 2): found by a sweep of seeds 22000-22149; it fails the same way at the commit before the changes it was found with, so it is of the open order kind above. Not diagnosed further')
  it.skip('skipped because it shows a bug not fixed yet: seeds 75043 and 75199 with witness membership, no partitions drawn, per-sender-order (counter/19, message 14 from n4 ran after 15; ticker/31, message 1 from n3 ran after 2): found by a sweep of seeds 75000-75199; both fail the same way at the commit before the changes they were found with, so they are of the open order kind above. Not diagnosed further')
  it.skip('skipped because it shows a bug not fixed yet: seed 84110 with witness membership, partitions drawn, graceful-keeps-memory (counter/5 holds 17, acknowledged 24, never on a node killed or marked down): found by a sweep of seeds 84000-84149; it fails the same way at the commit before the changes it was found with, so it is of the kind of seed 6026 above. Not diagnosed further')
  it.skip('skipped because it shows a bug not fixed yet: seeds 3080 and 12038 with witness membership and --replicas 1, per-sender-order (ledger/19, message 1 from n2 ran after 2; ledger/81, message 1 from n2 ran after 3): the first node, paused 3-6 s as the cluster formed, was held down by nobody (it had named no witness yet: it started alone), and at its resume ran the sender\'s last queued call before the earlier ones. Its fence asked the membership, which answered at once (its lease, of a group of one, held), so the fence lasted one turn; what the fence held and what came in that turn are not in order yet')
})
