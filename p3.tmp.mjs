import { Cluster } from '@simplepool/testing'
const c = new Cluster()
for (let i = 0; i < 3; i++) await c.addNode()
await new Promise(r => setTimeout(r, 15000))
for (const n of c.nodes) await n.stop()
