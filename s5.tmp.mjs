import { Cluster } from '@simplepool/testing'
import { execSync } from 'node:child_process'
const c = new Cluster({ startTimeoutMs: 30000 })
for (let i = 0; i < 6; i++) await c.addNode()
execSync(`BOOT=${c.nodes[0].addresses[0]} node --cpu-prof --cpu-prof-dir=/tmp/prof prof.tmp.mjs`, { stdio: 'inherit' })
await c.stop()
