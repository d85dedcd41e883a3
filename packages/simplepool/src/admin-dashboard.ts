/**
 * The dashboard's files: one static page (packages/simplepool/dashboard, no build step)
 * and uPlot, its chart library, from its npm package. Only these names are served, read
 * once and kept: nothing a client asks for reaches the file system by its own path.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { ServerResponse } from 'node:http'
import type { AdminHttp } from './admin-http.js'
import { HttpError } from './admin-http.js'

/**
 * The package's own directory, found by resolving its name rather than from this file's
 * place: the file may be bundled elsewhere (as the test harness bundles its nodes).
 */
function packageDir (): string {
  return dirname(createRequire(import.meta.url).resolve('simplepool/package.json'))
}

/** Served name → where it is and what it is. */
function files (): Record<string, { path: () => string, type: string }> {
  const page = (name: string): string => join(packageDir(), 'dashboard', name)
  // uPlot's package main is in its dist directory, beside the files the page loads
  const uplot = (): string => dirname(createRequire(join(packageDir(), 'package.json')).resolve('uplot'))
  return {
    'index.html': { path: () => page('index.html'), type: 'text/html; charset=utf-8' },
    'app.js': { path: () => page('app.js'), type: 'text/javascript; charset=utf-8' },
    'app.css': { path: () => page('app.css'), type: 'text/css; charset=utf-8' },
    'uPlot.iife.min.js': { path: () => join(uplot(), 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
    'uPlot.min.css': { path: () => join(uplot(), 'uPlot.min.css'), type: 'text/css; charset=utf-8' }
  }
}

export function addDashboardRoutes (http: AdminHttp): void {
  const known = files()
  const cache = new Map<string, string>()
  const serve = async (name: string): Promise<{ text: string, contentType: string }> => {
    const f = known[name]
    if (f === undefined) throw new HttpError(404, 'NotFound', `no dashboard file ${name}`)
    let text = cache.get(name)
    if (text === undefined) {
      text = await readFile(f.path(), 'utf8')
      cache.set(name, text)
    }
    return { text, contentType: f.type }
  }
  const redirect = (res: ServerResponse): void => {
    res.writeHead(302, { location: '/dashboard/' })
    res.end()
  }
  http.get('/', async () => ({ stream: redirect }))
  // the page's own files are relative to it: without the slash they would miss
  http.get('/dashboard', async ({ path }) => path.endsWith('/') ? await serve('index.html') : { stream: redirect })
  http.get('/dashboard/:file', async ({ params }) => await serve(params.file))
}
