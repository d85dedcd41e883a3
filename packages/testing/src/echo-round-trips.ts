import type { StreamHost } from '@simplepool/mesh'

/** A libp2p stream, as the mesh opens one. */
type Stream = Awaited<ReturnType<StreamHost['newStream']>>
import { percentile } from './samples.js'

/** The protocol of raw round trips: whatever arrives is sent straight back. */
export const BENCH_ECHO_PROTOCOL = '/simplepool/bench-echo/1.0.0'

/** Sends back whatever arrives on `stream`: the other end of {@link echoRoundTrips}. */
export function echoBack (stream: Stream): void {
  stream.addEventListener('message', (evt) => { stream.send(evt.data) })
}

/**
 * The latency floor under calls: `n` round trips of `bytes` bytes, one at a time, on a
 * bare libp2p stream whose other end echoes (see {@link echoBack}), after `warmup`
 * unmeasured ones; percentiles in ms. Closes the stream.
 */
export async function echoRoundTrips (stream: Stream, n: number, bytes: number, warmup: number): Promise<{ n: number, p50: number, p99: number, p999: number, max: number }> {
  const buf = new Uint8Array(bytes).fill(0x61)
  let got = 0
  let expected = 0
  let wake: (() => void) | undefined
  stream.addEventListener('message', (evt) => {
    got += evt.data.byteLength
    if (got >= expected) wake?.()
  })
  const once = async (): Promise<void> => {
    expected += buf.byteLength
    stream.send(buf)
    // the echo cannot arrive before this turn ends, so arming after send loses nothing
    if (got < expected) await new Promise<void>((resolve) => { wake = resolve })
  }
  const samples = new Float64Array(n)
  try {
    for (let i = 0; i < warmup; i++) await once()
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await once()
      samples[i] = performance.now() - t0
    }
  } finally {
    await stream.close().catch(() => {})
  }
  samples.sort()
  return { n, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), p999: percentile(samples, 0.999), max: samples[n - 1] }
}
