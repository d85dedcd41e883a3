import '@simplepool/core/polyfill'
import { Mesh } from '@simplepool/mesh'
const m = new Mesh({ bootstrap: [process.env.BOOT], targets: { test: 100 } })
await m.start()
setTimeout(() => { console.log('members', m.snapshot().members.length); process.exit(0) }, 10000)
