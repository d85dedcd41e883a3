import { expect } from 'chai'
import { BOOTSTRAP_RETRY_MAX_MS, BOOTSTRAP_RETRY_MS, ManualClock, seededRandom } from '@simplepool/core'
import type { Random } from '@simplepool/core'
import { Bootstrap } from '../src/bootstrap.js'

const quiet = { error () {}, warn () {}, info () {}, debug () {} }

/** A bootstrap whose dials fail until `answer` is set, on a manual clock; it records when each dial ran. */
function setup (random: Random = seededRandom(7)): { clock: ManualClock, boot: Bootstrap, dials: number[], reports: string[], state: { reached: boolean, running: boolean, answer: boolean } } {
  const clock = new ManualClock()
  const dials: number[] = []
  const reports: string[] = []
  const state = { reached: false, running: true, answer: false }
  const boot = new Bootstrap({
    clock,
    random,
    logger: quiet,
    dial: async () => {
      dials.push(clock.monotonic())
      if (!state.answer) throw Object.assign(new Error('refused'), { name: 'DialRefusedError' })
    },
    reached: () => state.reached,
    running: () => state.running,
    report: (err) => { reports.push(err.name) }
  })
  return { clock, boot, dials, reports, state }
}

/** Lets the dial's promise chain run, then moves the clock on. */
async function advance (clock: ManualClock, ms: number): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
  clock.advance(ms)
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

describe('Bootstrap', () => {
  it('retries with a wait that doubles up to its cap, each drawn between half and all of it', () => {
    const { boot } = setup(seededRandom(1))
    for (let attempt = 0; attempt < 12; attempt++) {
      const full = Math.min(BOOTSTRAP_RETRY_MAX_MS, BOOTSTRAP_RETRY_MS * 2 ** attempt)
      for (let k = 0; k < 50; k++) {
        const d = boot.delay(attempt)
        expect(d, `attempt ${attempt}`).to.be.at.least(full / 2).and.at.most(full)
      }
    }
    // the jitter spreads nodes that failed together: fifty draws of one attempt are not one value
    expect(new Set(Array.from({ length: 50 }, () => boot.delay(3))).size).to.be.greaterThan(10)
  })

  it('dials again while no member is reached, reports each kind of failure once, and stops once one is', async () => {
    const { clock, boot, dials, reports, state } = setup(seededRandom(2))
    void boot.dial(['/ip4/127.0.0.1/tcp/1'])
    await advance(clock, 0)
    expect(dials).to.have.length(1)
    // small steps: a retry is scheduled once its dial's promise settled, a step after it ran
    while (dials.length < 5 && clock.monotonic() < 60_000) await advance(clock, 10)
    expect(dials).to.have.length(5)
    // each gap is a wait drawn for its attempt: between half and all of the doubled base
    const gaps = dials.slice(1).map((t, i) => t - dials[i])
    gaps.forEach((gap, k) => {
      const full = Math.min(BOOTSTRAP_RETRY_MAX_MS, BOOTSTRAP_RETRY_MS * 2 ** k)
      expect(gap, `gap ${k}`).to.be.at.least(full / 2).and.at.most(full + 10)
    })
    expect(reports).to.deep.equal(['DialRefusedError'])
    state.reached = true
    await advance(clock, BOOTSTRAP_RETRY_MAX_MS)
    await advance(clock, BOOTSTRAP_RETRY_MAX_MS)
    expect(dials).to.have.length(5)
    expect(clock.pendingTimers).to.equal(0)
  })

  it('waits for the delay it drew, not less', async () => {
    const { clock, boot, dials } = setup({ next: () => 0.999 })
    void boot.dial(['/ip4/127.0.0.1/tcp/1'])
    await advance(clock, 0)
    const wait = boot.delay(0)
    await advance(clock, wait - 1)
    expect(dials).to.have.length(1)
    await advance(clock, 1)
    expect(dials).to.have.length(2)
  })

  it('schedules nothing when stopped while a round of dials is under way', async () => {
    const { clock, boot, dials } = setup()
    const round = boot.dial(['/ip4/127.0.0.1/tcp/1'])
    // the dial fails on a later turn; the stop comes first
    boot.stop()
    await round
    expect(clock.pendingTimers).to.equal(0)
    await advance(clock, BOOTSTRAP_RETRY_MAX_MS)
    expect(dials).to.have.length(1)
  })

  it('dials again when every dial went through but no member was heard (what they opened closed first)', async () => {
    const { clock, boot, dials, state } = setup()
    state.answer = true
    void boot.dial(['/ip4/127.0.0.1/tcp/1'])
    while (dials.length < 2 && clock.monotonic() < 10_000) await advance(clock, 10)
    expect(dials).to.have.length(2)
    state.reached = true
    await advance(clock, BOOTSTRAP_RETRY_MAX_MS)
    await advance(clock, BOOTSTRAP_RETRY_MAX_MS)
    expect(dials).to.have.length(2)
  })

  it('schedules nothing after stop, nor once the mesh stopped', async () => {
    const { clock, boot, dials, state } = setup()
    void boot.dial(['/ip4/127.0.0.1/tcp/1'])
    await advance(clock, 0)
    boot.stop()
    expect(clock.pendingTimers).to.equal(0)
    await advance(clock, BOOTSTRAP_RETRY_MAX_MS)
    expect(dials).to.have.length(1)
    state.running = false
    void boot.dial(['/ip4/127.0.0.1/tcp/1'])
    await advance(clock, BOOTSTRAP_RETRY_MAX_MS)
    expect(clock.pendingTimers).to.equal(0)
  })
})
