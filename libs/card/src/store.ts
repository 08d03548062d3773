/**
 * Where card state persists. `save` must be atomic: after a crash the store holds either the
 * previous state or the new one, never a mix (this is what makes power-loss tests meaningful).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CardState } from './model';

export interface CardStore {
  load(eid: string): CardState | undefined;
  save(state: CardState): void;
}

/** In-memory store (fleets, unit tests). Keeps serialised JSON, so nothing is shared by reference. */
export class MemoryCardStore implements CardStore {
  private readonly documents = new Map<string, string>();

  load(eid: string): CardState | undefined {
    const text = this.documents.get(eid);
    return text === undefined ? undefined : (JSON.parse(text) as CardState);
  }

  save(state: CardState): void {
    this.documents.set(state.eid, JSON.stringify(state));
  }
}

/** One JSON file per card, written to a temporary file, fsynced, then renamed over the old one. */
export class FileCardStore implements CardStore {
  constructor(private readonly directory: string) {}

  path(eid: string): string {
    if (!/^\d{32}$/.test(eid)) throw new Error(`not an EID: ${eid}`);
    return join(this.directory, `${eid}.json`);
  }

  load(eid: string): CardState | undefined {
    try {
      return JSON.parse(readFileSync(this.path(eid), 'utf8')) as CardState;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  save(state: CardState): void {
    const target = this.path(state.eid);
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    const temporary = `${target}.${process.pid}.tmp`;
    const fd = openSync(temporary, 'w', 0o600); // the state holds keys: owner-only
    try {
      writeSync(fd, JSON.stringify(state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, target); // atomic on POSIX file systems
  }
}
