/**
 * The demo's two pools, shipped in the package (`simplepool/demo-pools`) so the published
 * command line can run the demo (`simplepool demo`, and `npm run demo` from a clone). Every node process loads
 * this module by path (`simplepool start --pools <dist/demo-pools.js>`, or the test
 * harness's `poolsModule`) and takes its `pools`, so every node runs the same behaviour.
 *
 * - `chat-room`: members join, say things, and read the last few messages. A `say` with
 *   empty text throws `EmptyMessageError`: the caller gets that error by name, wherever
 *   it is, and the room keeps its state. The demo sends a few on purpose.
 * - `iot-device`: each device's reading drifts on its own tick, with no message from
 *   anyone. When it crosses its threshold, the tick casts an alarm into its site's chat
 *   room, which usually lives on another node: workers talk to workers through `ctx.ref`.
 */
// Applications import `definePool` from 'simplepool', which re-exports it. The runtime
// alone loads about a second faster than the umbrella with the whole libp2p stack, and
// the demos' drivers import this module for its traffic mix.
import { definePool } from '@simplepool/runtime'

/** Devices belong to this many sites; site k posts its alarms into chat room `room-k`. */
export const SITES = 100

/** Room messages kept per room, and members remembered: state stays small at 100k workers. */
const KEEP_MESSAGES = 10
const KEEP_MEMBERS = 50

/** Thrown for a `say` without text. Only `name` and `message` cross the wire, so the name is the contract. */
export class EmptyMessageError extends Error {
  override name = 'EmptyMessageError'
}

interface Room {
  members: string[]
  messages: Array<{ user: string, text: string }>
  said: number
  alarms: number
}

export type RoomMsg =
  | { type: 'join', user: string }
  | { type: 'say', user: string, text: string }
  | { type: 'alarm', device: string, reading: number }
  | { type: 'get' }

export const rooms = definePool<Room, RoomMsg, unknown>({
  name: 'chat-room',
  init: () => ({ members: [], messages: [], said: 0, alarms: 0 }),
  handle: (room, msg, ctx) => {
    switch (msg.type) {
      case 'join':
        if (!room.members.includes(msg.user)) {
          room.members.push(msg.user)
          if (room.members.length > KEEP_MEMBERS) room.members.shift()
        }
        return room.members.length
      case 'say':
        if (msg.text.trim() === '') throw new EmptyMessageError(`${ctx.id}: ${msg.user} said nothing`)
        post(room, msg.user, msg.text)
        return ++room.said
      case 'alarm':
        room.alarms++
        post(room, msg.device, `reading ${msg.reading.toFixed(1)} is over its threshold`)
        return undefined
      case 'get':
        return { members: room.members.length, said: room.said, alarms: room.alarms, last: room.messages.slice(-3) }
    }
  }
})

function post (room: Room, user: string, text: string): void {
  room.messages.push({ user, text })
  if (room.messages.length > KEEP_MESSAGES) room.messages.shift()
}

interface Device {
  site: number
  reading: number
  threshold: number
  /** Over the threshold since the last alarm: one alarm per crossing, not one per tick. */
  alarmed: boolean
  ticks: number
  alarms: number
}

export type DeviceMsg =
  | { type: 'read' }
  | { type: 'setThreshold', value: number }

export const devices = definePool<Device, DeviceMsg, unknown>({
  name: 'iot-device',
  // 50,000 devices every 5 s is 10,000 ticks a second over the cluster: cheap, and every
  // device ticks a few times during the demo (the first tick falls anywhere in one period)
  tickMs: 5_000,
  init: (id) => {
    const reading = 21 + 4 * Math.random()
    return { site: Number(id.slice(id.lastIndexOf('-') + 1)) % SITES, reading, threshold: 25, alarmed: false, ticks: 0, alarms: 0 }
  },
  tick: (d, ctx) => {
    d.ticks++
    d.reading += Math.random() - 0.5
    if (d.reading <= d.threshold - 1) d.alarmed = false
    if (d.reading <= d.threshold || d.alarmed) return
    d.alarmed = true
    d.alarms++
    try {
      ctx.ref<RoomMsg>('chat-room', `room-${d.site}`).cast({ type: 'alarm', device: ctx.id, reading: d.reading })
    } catch {
      // a cast refused at once (a full queue, a node stopping) loses one alarm; the device
      // keeps ticking rather than count a failed tick for it
    }
  },
  handle: (d, msg) => {
    if (msg.type === 'setThreshold') {
      d.threshold = msg.value
      return undefined
    }
    return { reading: d.reading, ticks: d.ticks, alarms: d.alarms }
  }
})

/** What the harness runs on every node. */
export const pools = [rooms, devices]

/** One kind of message the load generator sends, and how often (by weight). */
export interface TrafficEntry {
  pool: string
  /** Ids are `prefix` + 0..n-1. */
  prefix: string
  n: number
  /** One of these, picked at random per message. */
  msgs: unknown[]
  weight: number
  /** Fire and forget instead of a call. */
  cast?: boolean
}

const users = ['ada', 'grace', 'linus', 'barbara', 'ken']
const says: RoomMsg[] = users.flatMap(user => ['hi all', 'anyone here?', 'brb', 'shipping it'].map(text => ({ type: 'say' as const, user, text })))

/**
 * The load generator's mix over `roomCount` rooms and `deviceCount` devices: mostly chat
 * and dashboard reads, some one-way messages, and one `say` in about 2,000 with empty
 * text, so failures show without making any node unhealthy (that takes 1% of turns).
 */
export function trafficMix (roomCount: number, deviceCount: number): TrafficEntry[] {
  const room = { pool: 'chat-room', prefix: 'room-', n: roomCount }
  const device = { pool: 'iot-device', prefix: 'dev-', n: deviceCount }
  return [
    { ...room, weight: 40, msgs: says },
    { ...room, weight: 5, cast: true, msgs: users.map(user => ({ type: 'join', user })) },
    { ...room, weight: 10, msgs: [{ type: 'get' }] },
    { ...room, weight: 0.05, msgs: [{ type: 'say', user: 'mallory', text: '' }] },
    { ...device, weight: 30, msgs: [{ type: 'read' }] },
    { ...device, weight: 15, cast: true, msgs: [24.5, 25, 25.5].map(value => ({ type: 'setThreshold', value })) }
  ].filter(e => e.n > 0)
}
