// A SimplePool app in two processes. The first starts a cluster:
//
//   node examples/two-processes/app.mjs --listen /ip4/127.0.0.1/tcp/4001
//
// The second joins it through the first, talks to 20 rooms (which the ring spreads over
// both processes), prints where each lives, and stops, handing its rooms to the first:
//
//   node examples/two-processes/app.mjs --bootstrap /ip4/127.0.0.1/tcp/4001 --talk
//
// Stop the first with Ctrl-C: it saves its rooms (ROOMS_DIR, default ./rooms-data).
import { parseArgs } from 'node:util'
import { createNode } from 'simplepool'
import { rooms } from './pools.mjs'

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '/ip4/127.0.0.1/tcp/0' },
    bootstrap: { type: 'string', multiple: true, default: [] },
    talk: { type: 'boolean', default: false }
  }
})

const node = await createNode({ pools: [rooms], listen: [values.listen], bootstrap: values.bootstrap })
console.log(`node ${node.peerId} up at ${node.addresses.join(' ')}`)

if (values.talk) {
  const ids = Array.from({ length: 20 }, (_, i) => `room-${i}`)
  for (const id of ids) {
    const room = node.ref('chat-room', id)
    await room.call({ type: 'join', user: `user-${process.pid}` })
    await room.call({ type: 'say', user: `user-${process.pid}`, text: 'hello' })
  }
  const here = await Promise.all(ids.map(async id => (await node.where('chat-room', id))?.node === node.peerId))
  console.log(`talked to ${ids.length} rooms: ${here.filter(Boolean).length} live in this process, ${here.filter(h => !h).length} in the other`)
  // a graceful stop hands this process's rooms to the other, with their state
  await node.stop()
  console.log('stopped: this process\'s rooms went to the other')
} else {
  const stop = async () => {
    await node.stop()
    console.log('stopped: the rooms were saved')
  }
  process.once('SIGINT', () => { void stop() })
  process.once('SIGTERM', () => { void stop() })
}
