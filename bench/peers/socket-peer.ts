/**
 * The floor under the remote scenario: a bare `net.Socket` on 127.0.0.1 writing the very
 * frames SimplePool's transport writes (a 4-byte length, then the cbor body), with no
 * encryption, no multiplexing, no decoding and no workers. One process listens, another
 * connects; the parent drives both over IPC (see peer-process.ts).
 *
 * Requests: `listen` → port; `connect { port }`; `arm { frames, decode }`, then `flood {
 * frame, frames }` on the other side and `awaitFrames` here; `fixedRate { frame, rate,
 * seconds }` and `sequential { frame, n }` against a listener armed with no frames, which
 * echoes every byte back.
 * With `decode`, the listener also cuts each frame out and decodes its envelopes with the
 * transport's own codec: the floor for anything that reads its messages.
 */
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { fixedRate, percentile } from '@simplepool/testing'
import { FrameDecoder, decodeFrameBody } from '@simplepool/transport'
import { servePeer } from './peer-process.js'

/**
 * Counts whole frames in a byte stream, reading only their length prefixes: what any
 * receiver must do at least, whatever it does with the bodies.
 */
function frameCounter (onFrames: (n: number) => void): (chunk: Buffer) => void {
  const header = Buffer.alloc(4)
  let have = 0
  let rest = 0
  return (chunk) => {
    let i = 0
    let n = 0
    while (i < chunk.length) {
      if (rest > 0) {
        const take = Math.min(rest, chunk.length - i)
        rest -= take
        i += take
        if (rest === 0) n++
        continue
      }
      const take = Math.min(4 - have, chunk.length - i)
      chunk.copy(header, have, i, i + take)
      have += take
      i += take
      if (have === 4) {
        have = 0
        rest = header.readUInt32BE(0)
        if (rest === 0) n++
      }
    }
    if (n > 0) onFrames(n)
  }
}

let server: Server | undefined
let client: Socket | undefined
const sink = { seen: 0, target: 0, firstAt: 0, lastAt: 0, decode: false, envelopes: 0, done: undefined as (() => void) | undefined }

function onServerSocket (socket: Socket): void {
  socket.setNoDelay(true)
  const seen = (n: number): void => {
    if (sink.seen === 0) sink.firstAt = performance.now()
    sink.seen += n
    if (sink.seen >= sink.target && sink.target > 0 && sink.lastAt === 0) {
      sink.lastAt = performance.now()
      sink.done?.()
    }
  }
  const count = frameCounter(seen)
  const frames = new FrameDecoder(64 * 1024 * 1024)
  const decoded = (body: Uint8Array): void => {
    sink.envelopes += decodeFrameBody(body).length
    seen(1)
  }
  socket.on('data', (chunk: Buffer) => {
    if (sink.target > 0 && sink.decode) frames.push(chunk, decoded)
    else if (sink.target > 0) count(chunk)
    // echo mode: every byte goes straight back, so a call's reply is its own frame
    else socket.write(chunk)
  })
  socket.on('error', () => {})
}

async function waitDrain (socket: Socket): Promise<void> {
  await new Promise<void>(resolve => { socket.once('drain', resolve) })
}

servePeer({
  listen: async () => {
    server = createServer(onServerSocket)
    await new Promise<void>((resolve, reject) => {
      server?.once('error', reject)
      server?.listen(0, '127.0.0.1', resolve)
    })
    const addr = server.address()
    if (addr === null || typeof addr === 'string') throw new Error('no port')
    return addr.port
  },

  connect: async (a) => {
    const socket = connect({ port: a.port as number, host: '127.0.0.1' })
    socket.setNoDelay(true)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    client = socket
    return true
  },

  /** Counts the next `frames` frames that arrive, decoding them with `decode` (0 frames: echo instead). */
  arm: (a) => {
    Object.assign(sink, { seen: 0, target: a.frames as number, firstAt: 0, lastAt: 0, decode: a.decode === true, envelopes: 0, done: undefined })
    return true
  },

  awaitFrames: async (a) => {
    const complete = sink.lastAt > 0 || await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { resolve(false) }, (a.timeoutMs as number | undefined) ?? 60_000)
      sink.done = () => { clearTimeout(timer); resolve(true) }
    })
    return { complete, frames: sink.seen, envelopes: sink.envelopes, ms: complete ? sink.lastAt - sink.firstAt : NaN }
  },

  /** Writes one prebuilt frame (base64) `frames` times as fast as the socket drains. */
  flood: async (a) => {
    const socket = client
    if (socket === undefined) throw new Error('flood before connect')
    const frame = Buffer.from(a.frame as string, 'base64')
    const frames = a.frames as number
    const started = performance.now()
    for (let i = 0; i < frames; i++) {
      if (!socket.write(frame)) await waitDrain(socket)
    }
    return { ms: performance.now() - started }
  },

  /**
   * `n` calls one at a time: one frame each, the next sent once the listener's echo of the
   * last is back; the latency of each as the sender saw it (ms, sorted percentiles).
   */
  sequential: async (a) => {
    const socket = client
    if (socket === undefined) throw new Error('sequential before connect')
    const frame = Buffer.from(a.frame as string, 'base64')
    const n = a.n as number
    let wake: (() => void) | undefined
    const onData = frameCounter(() => { wake?.() })
    socket.on('data', onData)
    const samples = new Float64Array(n)
    try {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now()
        await new Promise<void>((resolve) => {
          wake = resolve
          socket.write(frame)
        })
        samples[i] = performance.now() - t0
      }
    } finally {
      socket.off('data', onData)
    }
    samples.sort()
    return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), p999: percentile(samples, 0.999) }
  },

  /**
   * Sends one frame per call at a fixed rate; the listener echoes it, and replies come
   * back in order on the one connection, so each answers the oldest call outstanding.
   */
  fixedRate: async (a) => {
    const socket = client
    if (socket === undefined) throw new Error('fixedRate before connect')
    const frame = Buffer.from(a.frame as string, 'base64')
    const waiting: Array<() => void> = []
    let head = 0
    const onData = frameCounter((n) => {
      for (let k = 0; k < n; k++) waiting[head++]()
    })
    socket.on('data', onData)
    try {
      return await fixedRate(() => new Promise<void>((resolve) => {
        waiting.push(resolve)
        socket.write(frame)
      }), { rate: a.rate as number, seconds: a.seconds as number })
    } finally {
      socket.off('data', onData)
    }
  }
})
