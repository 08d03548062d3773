/**
 * Where card state persists. `save` must be atomic: after a crash the store holds either the
 * previous state or the new one, never a mix (this is what makes power-loss tests meaningful).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RspError } from '@rsp/errors';
import type { CardState } from './model';

export interface CardStore {
  load(eid: string): CardState | undefined;
  /** `json` is `JSON.stringify(state)` when the caller has it already (the card's dispatcher does), so it is not made twice. */
  save(state: CardState, json?: string): void;
}

/**
 * A store that also keeps whole named records beside the card states, written as durably as they are.
 * A fleet keeps its manufacturing record (every card's ECASD key and certificate) in one, so a restart
 * adopts the cards instead of re-making them.
 */
export interface ManufacturingRecordStore {
  readRecord(name: string): Buffer | undefined;
  /** Atomic and durable before it returns: a reader sees the old record or the new one. */
  writeRecord(name: string, bytes: Uint8Array): void;
  /** Where the record lives (a file path), for error messages. */
  recordLocation(name: string): string;
}

/** True when `store` can keep manufacturing records. */
export function isManufacturingRecordStore(store: CardStore): store is CardStore & ManufacturingRecordStore {
  const candidate = store as Partial<ManufacturingRecordStore>;
  return typeof candidate.readRecord === 'function' && typeof candidate.writeRecord === 'function' && typeof candidate.recordLocation === 'function';
}

/** A card file was asked for by something that is not an EID (no path outside the store). */
export class CardStoreInvalidEid extends RspError {
  static override readonly code = 'ERR_CARD_STORE_INVALID_EID';
}

/** A stored card state or record name is unusable: unreadable JSON, or a file holding another card. */
export class CardStoreCorrupt extends RspError {
  static override readonly code = 'ERR_CARD_STORE_CORRUPT';
}

/** Record names are plain file names that cannot collide with `<eid>.json` or leave the directory. */
const RECORD_NAME = /^[a-z][a-z0-9._-]{0,127}$/;

function checkRecordName(name: string): void {
  if (!RECORD_NAME.test(name)) throw new CardStoreCorrupt(`bad record name "${name}"`);
}

/** In-memory store (fleets, unit tests). Keeps serialised JSON, so nothing is shared by reference. */
export class MemoryCardStore implements CardStore, ManufacturingRecordStore {
  private readonly documents = new Map<string, string>();
  private readonly records = new Map<string, Buffer>();

  load(eid: string): CardState | undefined {
    const text = this.documents.get(eid);
    return text === undefined ? undefined : (JSON.parse(text) as CardState);
  }

  save(state: CardState, json?: string): void {
    this.documents.set(state.eid, json ?? JSON.stringify(state));
  }

  readRecord(name: string): Buffer | undefined {
    checkRecordName(name);
    const bytes = this.records.get(name);
    return bytes === undefined ? undefined : Buffer.from(bytes);
  }

  writeRecord(name: string, bytes: Uint8Array): void {
    checkRecordName(name);
    this.records.set(name, Buffer.from(bytes));
  }

  recordLocation(name: string): string {
    return `memory:${name}`;
  }
}

/** One JSON file per card, written to a temporary file, fsynced, then renamed over the old one. */
export class FileCardStore implements CardStore, ManufacturingRecordStore {
  constructor(private readonly directory: string) {}

  path(eid: string): string {
    if (!/^\d{32}$/.test(eid)) throw new CardStoreInvalidEid(`not an EID: ${JSON.stringify(eid).slice(0, 40)}`);
    return join(this.directory, `${eid}.json`);
  }

  load(eid: string): CardState | undefined {
    const file = this.path(eid);
    const text = readIfPresent(file)?.toString('utf8');
    if (text === undefined) return undefined;
    let state: CardState;
    try {
      state = JSON.parse(text) as CardState;
    } catch (cause) {
      throw new CardStoreCorrupt(`card state ${file} is not JSON`, { cause });
    }
    // A file copied or renamed over another card's would hand that card's keys to this EID.
    if (state?.eid !== eid) throw new CardStoreCorrupt(`card state ${file} holds another card`);
    return state;
  }

  save(state: CardState, json?: string): void {
    // No directory fsync here: a lost rename leaves the previous state, which is still a consistent card.
    writeAtomically(this.path(state.eid), json ?? JSON.stringify(state), { syncDirectory: false });
  }

  readRecord(name: string): Buffer | undefined {
    return readIfPresent(this.recordLocation(name));
  }

  writeRecord(name: string, bytes: Uint8Array): void {
    // The directory is synced too: a record whose rename were lost would let a restart re-make its cards.
    writeAtomically(this.recordLocation(name), bytes, { syncDirectory: true });
  }

  recordLocation(name: string): string {
    checkRecordName(name);
    return join(this.directory, name);
  }
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Temporary file (mode 600: states and records hold keys), fsync, rename over the target. */
function writeAtomically(target: string, data: string | Uint8Array, options: { syncDirectory: boolean }): void {
  const directory = dirname(target);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const temporary = `${target}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, target); // atomic on POSIX file systems
  if (options.syncDirectory) {
    const dirFd = openSync(directory, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
