import '@simplepool/core/polyfill'
import { expect } from 'chai'
import { Socket, createServer, connect } from 'node:net'
import type { Server } from 'node:net'
import { Mesh } from '../src/index.js'
import { coalesceWrites } from '../src/coalesced-tcp.js'

/** The chunks of each write the socket makes to the system, in order (a writev of three: 3). */
function spyWrites (client: Socket): number[] {
  const writes: number[] = []
  const socket = client as Socket & { _writev: (...a: unknown[]) => void, _write: (...a: unknown[]) => void }
  const writev = socket._writev.bind(socket)
  const write = socket._write.bind(socket)
  socket._writev = (chunks: unknown[], cb: unknown) => { writes.push((chunks as unknown[]).length); writev(chunks, cb) }
  socket._write = (chunk: unknown, enc: unknown, cb: unknown) => { writes.push(1); write(chunk, enc, cb) }
  return writes
}

describe('coalesced TCP writes', () => {
  let server: Server
  let client: Socket
  let received: Buffer[]
  let arrived: Promise<void>

  beforeEach(async () => {
    received = []
    let done: () => void = () => {}
    arrived = new Promise(resolve => { done = resolve })
    server = createServer((s) => {
      s.on('data', (b: Buffer) => {
        received.push(b)
        if (Buffer.concat(received).length >= 6) done()
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    client = connect({ port, host: '127.0.0.1' })
    await new Promise(resolve => client.once('connect', resolve))
  })

  afterEach(async () => {
    client.destroy()
    await new Promise(resolve => server.close(resolve))
  })

  it('holds the sends of one turn in the socket and writes them together, in order, before the next', async () => {
    const writes = spyWrites(client)
    const conn = {
      socket: client,
      sendData (data: Uint8Array[]) {
        for (const b of data) client.write(b)
        return { sentBytes: 0, canSendMore: true }
      }
    }
    coalesceWrites(conn)
    conn.sendData([Buffer.from('ab'), Buffer.from('c')])
    conn.sendData([Buffer.from('def')])
    expect(client.writableCorked).to.equal(1)
    expect(writes).to.deep.equal([])
    await new Promise(resolve => process.nextTick(resolve))
    expect(client.writableCorked).to.equal(0)
    // three socket.write calls, one writev
    expect(writes).to.deep.equal([3])
    await arrived
    expect(Buffer.concat(received).toString()).to.equal('abcdef')
  })

  it('sends what it holds at once past half the high-water mark, so the socket never refuses bytes it has not tried', async () => {
    const writes = spyWrites(client)
    const results: unknown[] = []
    const conn = {
      socket: client,
      sendData (data: Uint8Array[]) {
        let canSendMore = true
        for (const b of data) canSendMore = client.write(b)
        results.push(canSendMore)
        return { sentBytes: 0, canSendMore }
      }
    }
    coalesceWrites(conn)
    const half = client.writableHighWaterMark / 2
    conn.sendData([Buffer.alloc(half - 1, 0x61)])
    conn.sendData([Buffer.alloc(half - 1, 0x62)])
    expect(writes).to.deep.equal([])
    // the two held chunks reach half the mark: the third send writes them first, and is
    // itself accepted (held, it would have taken the socket past its mark: a refusal)
    conn.sendData([Buffer.alloc(half - 1, 0x63)])
    expect(writes).to.deep.equal([2])
    expect(results).to.deep.equal([true, true, true])
    await new Promise(resolve => process.nextTick(resolve))
    expect(client.writableCorked).to.equal(0)
  })

  it('leaves a connection without a socket or a sendData as it is', () => {
    const conn = { sendData: () => 1 }
    coalesceWrites(conn)
    expect(conn.sendData()).to.equal(1)
    const other = { socket: client }
    coalesceWrites(other)
    expect(other).to.deep.equal({ socket: client })
  })

  it('is what the mesh uses: the sends of its libp2p connections are corked', async () => {
    const a = new Mesh({ listen: ['/ip4/127.0.0.1/tcp/0'], targets: { t: 1 } })
    const b = new Mesh({ listen: ['/ip4/127.0.0.1/tcp/0'], targets: { t: 1 } })
    const cork = Socket.prototype.cork
    let corks = 0
    try {
      await a.start()
      await b.start()
      let got = 0
      await b.libp2p.handle('/simplepool-test/cork/1', (stream) => {
        stream.addEventListener('message', (evt) => { got += evt.data.byteLength })
      })
      const stream = await a.libp2p.dialProtocol(b.libp2p.getMultiaddrs()[0], '/simplepool-test/cork/1')
      Socket.prototype.cork = function (this: Socket) {
        corks++
        cork.call(this)
      }
      for (let i = 0; i < 3; i++) stream.send(Buffer.alloc(100, i))
      for (let i = 0; i < 200 && got < 300; i++) await new Promise(resolve => setTimeout(resolve, 5))
      expect(got).to.equal(300)
      expect(corks).to.be.greaterThan(0)
    } finally {
      Socket.prototype.cork = cork
      await a.stop()
      await b.stop()
    }
  })
})
