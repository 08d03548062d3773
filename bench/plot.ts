/** A small dependency-free SVG: throughput (left axis) and p99 latency (right axis) against concurrency (log scale). */
export function latencyPlotSvg(rows: ReadonlyArray<{ concurrency: number; rate: number; p99: number }>, title: string): string {
  const width = 640;
  const height = 360;
  const margin = { left: 60, right: 60, top: 40, bottom: 50 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const maxC = Math.max(...rows.map((row) => row.concurrency));
  const maxRate = Math.max(1, ...rows.map((row) => row.rate)) * 1.1;
  const maxP99 = Math.max(1, ...rows.map((row) => row.p99)) * 1.1;
  const x = (c: number) => margin.left + (Math.log10(c) / Math.log10(Math.max(2, maxC))) * plotW;
  const yRate = (r: number) => margin.top + plotH - (r / maxRate) * plotH;
  const yP99 = (ms: number) => margin.top + plotH - (ms / maxP99) * plotH;
  const line = (points: Array<[number, number]>) => points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
  const escape = (text: string) => text.replace(/[<>&]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[ch] as string);
  const ticks = rows
    .map((row) => `<text x="${x(row.concurrency).toFixed(1)}" y="${height - margin.bottom + 18}" text-anchor="middle" font-size="11">${row.concurrency}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escape(title)}</text>
<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="#333"/>
<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="#1f77b4"/>
<line x1="${margin.left + plotW}" y1="${margin.top}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="#d62728"/>
${ticks}
<text x="${width / 2}" y="${height - 12}" text-anchor="middle" font-size="12">requests in flight (log scale)</text>
<text x="16" y="${margin.top + plotH / 2}" text-anchor="middle" font-size="12" fill="#1f77b4" transform="rotate(-90 16 ${margin.top + plotH / 2})">provisionings/s (max ${(maxRate / 1.1).toFixed(1)})</text>
<text x="${width - 14}" y="${margin.top + plotH / 2}" text-anchor="middle" font-size="12" fill="#d62728" transform="rotate(90 ${width - 14} ${margin.top + plotH / 2})">p99 ms (max ${(maxP99 / 1.1).toFixed(0)})</text>
<path d="${line(rows.map((row) => [x(row.concurrency), yRate(row.rate)]))}" fill="none" stroke="#1f77b4" stroke-width="2"/>
<path d="${line(rows.map((row) => [x(row.concurrency), yP99(row.p99)]))}" fill="none" stroke="#d62728" stroke-width="2" stroke-dasharray="5,3"/>
</svg>
`;
}
