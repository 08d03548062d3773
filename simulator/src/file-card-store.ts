/**
 * Card states as JSON files, one per EID, so `npm start`'s demo cards keep their profiles across restarts
 * in step with the SM-SR's registry (both under the data directory). Writes go to a temporary file first
 * and are renamed into place, so a crash never leaves half a card. The files hold what a card's
 * non-volatile memory holds (keys included): the data directory is the simulated hardware.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CardState, CardStore } from '@rsp/card';

export class FileCardStore implements CardStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  load(eid: string): CardState | undefined {
    const file = this.file(eid);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CardState) : undefined;
  }

  save(state: CardState): void {
    const file = this.file(state.eid);
    writeFileSync(`${file}.tmp`, JSON.stringify(state), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  private file(eid: string): string {
    if (!/^\d{32}$/.test(eid)) throw new Error(`not an EID: ${eid}`);
    return join(this.dir, `${eid}.json`);
  }
}
