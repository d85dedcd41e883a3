import '@simplepool/core/polyfill'
import { Mesh, isServing } from 'simplepool'
const N = 3
const first = new Mesh({ targets: { t: 1 } }); await first.start()
const meshes = [first]
for (let i = 1; i < N; i++) { const m = new Mesh({ bootstrap: [first.addresses[0]], targets: { t: 1 } }); meshes.push(m); await m.start() }
while (!meshes.every(m => m.snapshot().members.filter(isServing).length === N)) await new Promise(r => setTimeout(r, 100))
const cpu0 = process.cpuUsage(); await new Promise(r => setTimeout(r, 20000)); const cpu = process.cpuUsage(cpu0)
console.log(`cpu ${((cpu.user + cpu.system) / 2e5).toFixed(1)}% of a core for ${N} nodes`)
process.exit(0)
