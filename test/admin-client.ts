import { expect } from 'chai'
import { createNode, definePool } from 'simplepool'
import type { NodeInit, SimplePoolNode } from 'simplepool'

/** The admin tests' pool: counters that count, answer, and fail on 'boom'. */
export const counters = definePool<{ n: number }, 'inc' | 'get' | 'boom', number>({
  name: 'counter',
  init: () => ({ n: 0 }),
  handle: (s, msg) => {
    if (msg === 'boom') throw new RangeError('boom')
    return msg === 'inc' ? ++s.n : s.n
  }
})

/** Two nodes in this process running `counters`, b joined through a, once both see each other up. */
export async function twoNodes (a: Partial<NodeInit>, b: Partial<NodeInit>): Promise<[SimplePoolNode, SimplePoolNode]> {
  const first = await createNode({ pools: [counters], ...a })
  const second = await createNode({ pools: [counters], bootstrap: first.addresses, ...b })
  const until = Date.now() + 10_000
  while (first.members().filter(m => m.status === 'up').length < 2 && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 50))
  return [first, second]
}

/** One server-sent event: its id (absent for some), name and parsed data. */
export interface Sse { id: string, event: string, data: any }

/** Reads server-sent events from `path` on 127.0.0.1:`port` until `until` says enough (or 10 s pass); then closes. */
export async function readEvents (port: number, path: string, until: (seen: Sse[]) => boolean, lastEventId?: string): Promise<Sse[]> {
  const abort = new AbortController()
  const timer = setTimeout(() => { abort.abort() }, 10_000)
  const seen: Sse[] = []
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}, signal: abort.signal })
    expect(res.headers.get('content-type')).to.equal('text/event-stream')
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    while (!until(seen)) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true })
      let cut: number
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut)
        buffer = buffer.slice(cut + 2)
        const fields = Object.fromEntries(block.split('\n').filter(l => !l.startsWith(':') && l.includes(': ')).map(l => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]))
        if (fields.event !== undefined) seen.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) })
      }
    }
    return seen
  } finally {
    clearTimeout(timer)
    abort.abort()
  }
}

/** What the admin API answered: status, content type, and the body (parsed when JSON). */
export interface Answer { status: number, type: string | null, body: any }

/** One request to a node's admin API on 127.0.0.1:`port`; `body` goes as JSON unless `type` says otherwise. */
export async function ask (port: number, method: string, path: string, init: { token?: string, body?: string, type?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json'
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body: init.body })
  const type = res.headers.get('content-type')
  const text = await res.text()
  return { status: res.status, type, body: type?.startsWith('application/json') === true ? JSON.parse(text) : text }
}
