/**
 * The peer a Node user would reach for first: a moleculer broker (0.14, the last line that
 * runs on Node 20) with its TCP transporter, in a process of its own. Discovery is the
 * static list of both brokers on 127.0.0.1 (UDP discovery off: no multicast or broadcast),
 * and each broker listens on and announces 127.0.0.1 only; everything else is moleculer's
 * default (JSON serializer, no metrics, no tracing).
 *
 * Requests: `start { nodeID, port, urls, serve }` (`serve`: this broker offers the
 * `bench.inc` action, a count per id, as a worker would keep one), `requests { n,
 * inFlight, ids }`, `fixedRate { rate, seconds, ids }`, `stop`.
 */
import { Server } from 'node:net'
import moleculer from 'moleculer'
import type { ServiceBroker as Broker } from 'moleculer'
import { closedLoop, fixedRate, percentile } from '@simplepool/testing'
import { servePeer } from './peer-process.js'

let broker: Broker | undefined

// moleculer 0.14 listens on every interface and has no option for it: in this process a
// server told no host listens on loopback only
const listen = Server.prototype.listen
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const first = args[0]
  if (typeof first === 'object' && first !== null && (first as { host?: string }).host === undefined) args[0] = { ...first, host: '127.0.0.1' }
  return (listen as (...a: unknown[]) => Server).apply(this, args)
} as typeof Server.prototype.listen

function brokerOf (): Broker {
  if (broker === undefined) throw new Error('start first')
  return broker
}

servePeer({
  start: async (a) => {
    broker = new moleculer.ServiceBroker({
      nodeID: a.nodeID as string,
      // useHostname off and a loopback address list: a broker otherwise tells the other
      // its host name and interfaces, and any later connection would go there
      transporter: { type: 'TCP', options: { udpDiscovery: false, useHostname: false, port: a.port as number, urls: a.urls as string[] } },
      logger: false
    })
    const local = (broker.registry as unknown as { nodes: { localNode: { ipList: string[], hostname: string } } }).nodes.localNode
    local.ipList = ['127.0.0.1']
    local.hostname = '127.0.0.1'
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
    const { ms, sorted, errors } = await closedLoop(n, a.inFlight as number, async (i) => await b.call('bench.inc', { id: `r-${i % ids}` }))
    const failed = Object.values(errors).reduce((x, y) => x + y, 0)
    return { perSecond: n / (ms / 1000), failed, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999) }
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
