/**
 * The peer a Node user would reach for first: a moleculer broker (0.14, the last line that
 * runs on Node 20) with its TCP transporter, in a process of its own. Discovery is the
 * static list of both brokers on 127.0.0.1 (UDP discovery off: no multicast or broadcast);
 * everything else is moleculer's default (JSON serializer, no metrics, no tracing).
 *
 * Requests: `start { nodeID, port, urls, serve }` (`serve`: this broker offers the
 * `bench.inc` action, a count per id, as a worker would keep one), `requests { n,
 * inFlight, ids }`, `fixedRate { rate, seconds, ids }`, `stop`.
 */
import moleculer from 'moleculer'
import type { ServiceBroker as Broker } from 'moleculer'
import { Samples, fixedRate, percentile } from '@simplepool/testing'
import { servePeer } from './peer-process.js'

let broker: Broker | undefined

function brokerOf (): Broker {
  if (broker === undefined) throw new Error('start first')
  return broker
}

servePeer({
  start: async (a) => {
    broker = new moleculer.ServiceBroker({
      nodeID: a.nodeID as string,
      transporter: { type: 'TCP', options: { udpDiscovery: false, port: a.port as number, urls: a.urls as string[] } },
      logger: false
    })
    if (a.serve === true) {
      const counts = new Map<string, number>()
      broker.createService({
        name: 'bench',
        actions: {
          inc: (ctx: { params: { id: string } }) => {
            const n = (counts.get(ctx.params.id) ?? 0) + 1
            counts.set(ctx.params.id, n)
            return n
          }
        }
      })
    }
    await broker.start()
    if (a.serve !== true) await broker.waitForServices('bench', 30_000)
    return true
  },

  /** `n` requests, `inFlight` always outstanding, round robin over `ids` ids; rate and latency as the caller saw them. */
  requests: async (a) => {
    const b = brokerOf()
    const n = a.n as number
    const ids = a.ids as number
    const samples = new Samples()
    let issued = 0
    let failed = 0
    const loop = async (): Promise<void> => {
      while (issued < n) {
        const id = `r-${issued++ % ids}`
        const t0 = performance.now()
        try {
          await b.call('bench.inc', { id })
          samples.push(performance.now() - t0)
        } catch {
          failed++
        }
      }
    }
    const started = performance.now()
    await Promise.all(Array.from({ length: Math.min(a.inFlight as number, n) }, loop))
    const ms = performance.now() - started
    const sorted = samples.sorted()
    return { perSecond: n / (ms / 1000), failed, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) }
  },

  fixedRate: async (a) => {
    const b = brokerOf()
    const ids = a.ids as number
    return await fixedRate((i) => b.call('bench.inc', { id: `r-${i % ids}` }), { rate: a.rate as number, seconds: a.seconds as number })
  },

  stop: async () => {
    await broker?.stop()
    return true
  }
})
