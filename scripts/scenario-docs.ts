/**
 * `npm run scenarios:docs`: writes what is generated from the scenario kit — the JSON Schema of a scenario
 * file (scenarios/scenario.schema.json, for editors) and docs/scenarios.md's coverage table of the case
 * library. test/e2e/scenarios.spec.ts fails when either is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { coverageTable, scenarioJsonSchema } from '@rsp/scenario';
import { loadScenarios } from './scenario-runner';

export const SCHEMA_FILE = 'scenarios/scenario.schema.json';
export const DOC_FILE = 'docs/scenarios.md';
const START = '<!-- coverage:start (npm run scenarios:docs) -->';
const END = '<!-- coverage:end -->';

export function renderedSchema(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}

/** docs/scenarios.md with its coverage block regenerated from scenarios/sgp02. */
export function docWithCoverage(doc: string): string {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${DOC_FILE} lost its coverage markers`);
  return `${doc.slice(0, start + START.length)}\n${coverageTable(loadScenarios('scenarios/sgp02'))}\n${doc.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(SCHEMA_FILE, renderedSchema());
  writeFileSync(DOC_FILE, docWithCoverage(readFileSync(DOC_FILE, 'utf8')));
  console.log(`wrote ${SCHEMA_FILE} and the coverage table of ${DOC_FILE}`);
}
