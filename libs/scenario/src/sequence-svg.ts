/**
 * A message sequence diagram as inline SVG: one lifeline per actor (MNO → SM-DP → SM-SR → eUICC, plus EUM,
 * Owner and Registry when they take part), one arrow per hop with its interface, label, duration and
 * status. Pure and escaped: hops come from the wire and must not inject markup. No secret is ever in a hop.
 */
import type { SequenceActor, SequenceHop } from '@rsp/contracts';

const ORDER: readonly SequenceActor[] = ['Owner', 'Registry', 'EUM', 'MNO', 'SM-DP', 'SM-SR', 'eUICC', 'Network'];
const LANE = 175;
const ROW = 26;
const TOP = 46;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The diagram of `hops` (in time order); `failedAt` marks the hop index a failure points at, if any. */
export function renderSequenceSvg(hops: readonly SequenceHop[], options: { title?: string } = {}): string {
  const used = new Set<SequenceActor>(['MNO', 'SM-DP', 'SM-SR', 'eUICC']);
  for (const hop of hops) used.add(hop.from).add(hop.to);
  const actors = ORDER.filter((actor) => used.has(actor));
  const x = (actor: SequenceActor): number => 80 + actors.indexOf(actor) * LANE;
  const width = 80 + (actors.length - 1) * LANE + 90;
  const height = TOP + (hops.length + 1) * ROW + 10;
  const start = hops[0]?.at ?? 0;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="sequence" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<title>${escapeXml(options.title ?? 'message sequence')}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>',
  ];
  for (const actor of actors) {
    parts.push(
      `<g class="actor" data-actor="${escapeXml(actor)}"><rect x="${x(actor) - 45}" y="8" width="90" height="24" rx="4" fill="#eef2f7" stroke="#445"/>` +
        `<text x="${x(actor)}" y="24" text-anchor="middle" font-weight="600">${escapeXml(actor)}</text>` +
        `<line x1="${x(actor)}" y1="32" x2="${x(actor)}" y2="${height - 4}" stroke="#99a" stroke-dasharray="4 3"/></g>`,
    );
  }
  hops.forEach((hop, index) => {
    const y = TOP + index * ROW + ROW / 2;
    const from = x(hop.from);
    const to = x(hop.to);
    const failed = hop.status !== undefined && /^(Failed|Expired)|^(6|9[1-9A-F])/.test(hop.status) && hop.status !== '9000';
    const colour = failed ? '#b3261e' : hop.kind === 'notification' ? '#6b4fbb' : hop.kind === 'response' ? '#2e6b30' : '#1f3b73';
    const label = `${hop.interface} ${hop.label}${hop.durationMs !== undefined ? ` · ${Math.round(hop.durationMs)} ms` : ''}${hop.status ? ` · ${hop.status}` : ''}`;
    const offset = `+${Math.round(hop.at - start)} ms`;
    parts.push(
      `<g class="hop" data-kind="${hop.kind}" data-interface="${hop.interface}"${failed ? ' data-failed="true"' : ''}>` +
        `<text x="6" y="${y + 4}" fill="#777" font-size="9">${escapeXml(offset)}</text>` +
        (from === to
          ? `<path d="M${from},${y - 6} h24 v12 h-24" fill="none" stroke="${colour}" marker-end="url(#arrow)"/>`
          : `<line x1="${from}" y1="${y}" x2="${to}" y2="${y}" stroke="${colour}" stroke-width="1.4"${hop.kind === 'response' ? ' stroke-dasharray="5 3"' : ''} marker-end="url(#arrow)"/>`) +
        `<text x="${(from + to) / 2}" y="${y - 4}" text-anchor="middle" fill="${colour}">${escapeXml(label)}</text>` +
        `${hop.detail ? `<title>${escapeXml(hop.detail)}</title>` : ''}</g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
