// The pools of the example: chat rooms that keep their members and last messages, saved
// in a file store when they go idle, stop, or their node stops. Use it with
// `simplepool start --pools examples/two-processes/pools.mjs` as well as from app.mjs.
import { definePool } from 'simplepool'
import { FileStore } from './file-store.mjs'

const store = new FileStore(process.env.ROOMS_DIR ?? 'rooms-data')

export const rooms = definePool({
  name: 'chat-room',
  init: () => ({ members: [], said: [] }),
  load: async (id) => await store.load('chat-room', id),
  save: async (id, state, ctx) => { await store.save('chat-room', id, state, ctx.epoch) },
  handle: (state, msg) => {
    switch (msg.type) {
      case 'join':
        if (!state.members.includes(msg.user)) state.members.push(msg.user)
        return state.members.length
      case 'say':
        state.said.push(`${msg.user}: ${msg.text}`)
        if (state.said.length > 50) state.said.shift()
        return state.said.length
      case 'get':
        return state
      default:
        throw new TypeError(`chat-room: no message type ${String(msg.type)}`)
    }
  },
  idleTimeoutMs: 60_000
})

export default [rooms]
