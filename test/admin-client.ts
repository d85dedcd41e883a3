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
