/**
 * Line charts as standalone SVG, for the Markdown report: no dependency, readable in any
 * browser and on GitHub.
 */

/** One line of a chart: points [x, y]. */
export interface Line {
  name: string
  points: Array<[number, number]>
}

/** A chart: lines over a shared x axis, with optional vertical marks (events). */
export interface Chart {
  title: string
  x: string
  y: string
  lines: Line[]
  marks?: Array<{ x: number, label: string }>
}

const W = 720
const H = 300
const PAD = { left: 70, right: 20, top: 34, bottom: 44 }
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf']

/** A round step for about `n` ticks over `span`. */
function step (span: number, n: number): number {
  const raw = span / n
  const mag = 10 ** Math.floor(Math.log10(raw))
  const f = raw / mag
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function label (v: number): string {
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(1)}M`
  if (Math.abs(v) >= 1e3) return `${+(v / 1e3).toFixed(1)}k`
  return `${+v.toFixed(2)}`
}

/** Renders `chart` as an SVG document. */
export function lineChart (chart: Chart): string {
  const pts = chart.lines.flatMap(l => l.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  const xMin = Math.min(0, ...pts.map(p => p[0]))
  const xMax = Math.max(1, ...pts.map(p => p[0]), ...(chart.marks ?? []).map(m => m.x))
  const yMax = Math.max(1e-9, ...pts.map(p => p[1])) * 1.1
  const sx = (x: number): number => PAD.left + (x - xMin) / (xMax - xMin) * (W - PAD.left - PAD.right)
  const sy = (y: number): number => H - PAD.bottom - y / yMax * (H - PAD.top - PAD.bottom)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(chart.title)}</text>`
  ]
  const ys = step(yMax, 5)
  for (let y = 0; y <= yMax; y += ys) {
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(y)}" y2="${sy(y)}" stroke="#eee"/>`)
    out.push(`<text x="${PAD.left - 6}" y="${sy(y) + 4}" text-anchor="end">${label(y)}</text>`)
  }
  const xs = step(xMax - xMin, 8)
  for (let x = Math.ceil(xMin / xs) * xs; x <= xMax; x += xs) {
    out.push(`<text x="${sx(x)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${label(x)}</text>`)
  }
  out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(0)}" y2="${sy(0)}" stroke="#999"/>`)
  out.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#999"/>`)
  out.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${esc(chart.x)}</text>`)
  out.push(`<text x="14" y="${H / 2}" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">${esc(chart.y)}</text>`)
  for (const m of chart.marks ?? []) {
    out.push(`<line x1="${sx(m.x)}" x2="${sx(m.x)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#888" stroke-dasharray="4 3"/>`)
    out.push(`<text x="${sx(m.x) + 3}" y="${PAD.top + 10}">${esc(m.label)}</text>`)
  }
  chart.lines.forEach((l, i) => {
    const color = COLORS[i % COLORS.length]
    const d = l.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')
    if (d.length > 0) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${d}"/>`)
    out.push(`<rect x="${PAD.left + 10 + i * 130}" y="${PAD.top - 8}" width="10" height="3" fill="${color}"/>`)
    out.push(`<text x="${PAD.left + 24 + i * 130}" y="${PAD.top - 4}">${esc(l.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
