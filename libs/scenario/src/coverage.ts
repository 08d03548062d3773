/**
 * The coverage table of a case library (docs/scenarios.md): function × nominal / error, from each
 * scenario's `covers`, generated so the document always says what the library really holds.
 */
import type { Scenario } from './schema';

export function coverageTable(scenarios: ReadonlyArray<{ file: string; scenario: Scenario }>): string {
  const rows = new Map<string, { nominal: number; error: number; clauses: Set<string> }>();
  for (const { scenario } of scenarios) {
    for (const cover of scenario.covers) {
      const row = rows.get(cover.function) ?? { nominal: 0, error: 0, clauses: new Set<string>() };
      row[cover.outcome] += 1;
      row.clauses.add(cover.clause);
      rows.set(cover.function, row);
    }
  }
  const lines = ['| function | nominal | error | clauses |', '|---|---:|---:|---|'];
  for (const [fn, row] of [...rows.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`| ${fn} | ${row.nominal} | ${row.error} | ${[...row.clauses].sort().join('; ')} |`);
  }
  lines.push(`| **${scenarios.length} scenarios** | | | |`);
  return lines.join('\n');
}
