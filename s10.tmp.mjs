import { Cluster } from '@simplepool/testing'
import { readFileSync } from 'node:fs'
const N = Number(process.argv[2] ?? 8)
const c = new Cluster({ startTimeoutMs: 30000 })
for (let i = 0; i < N; i++) await c.addNode()
await c.waitForConvergence({ timeoutMs: 20000 })
const ticks = () => c.nodes.map(n => { const f = readFileSync(`/proc/${n.process.pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]) })
await new Promise(r => setTimeout(r, 2000))
const a = ticks(); const t = Date.now(); await new Promise(r => setTimeout(r, 5000)); const b = ticks(); const el = (Date.now() - t) / 1000
console.log(`${N} nodes idle CPU % per node:`, b.map((x, i) => ((x - a[i]) / 100 / el * 100).toFixed(1)).join(' '))
await c.stop()
