/**
 * One hop of a message sequence: who sent what to whom, on which interface, when, and how it ended.
 *
 * The one shape shared by the scenario runner's reports, the services' transaction resources and the
 * operator console, so that a diagram drawn from any of them reads the same (MNO → SM-DP → SM-SR → eUICC
 * and back, SGP.02 §2.2 figure 1 roles). A hop never carries a secret: `detail` holds function names,
 * statuses, APDU headers and status words, never keys, Ki/OPc, tokens or consents.
 */
export type SequenceActor = 'MNO' | 'SM-DP' | 'SM-SR' | 'eUICC' | 'EUM' | 'Owner' | 'Registry' | 'Network';

/** The SGP.02 interface (§2.3) a hop travels on; `Owner` and `Network` are this project's own. */
export type SequenceInterface = 'ES1' | 'ES2' | 'ES3' | 'ES4' | 'ES5' | 'ES8' | 'Owner' | 'Network';

export interface SequenceHop {
  readonly from: SequenceActor;
  readonly to: SequenceActor;
  readonly interface: SequenceInterface;
  /** The function name (`DownloadProfile`), notification name or APDU summary (`INSTALL [for perso]`). */
  readonly label: string;
  readonly kind: 'request' | 'response' | 'notification';
  /** When the hop was sent, in ms since the epoch. */
  readonly at: number;
  /** For a request: ms until its answer arrived. */
  readonly durationMs?: number;
  /** The outcome: a functionExecutionStatus with its codes (`Failed 8.1.1/3.8`) or a status word (`9000`). */
  readonly status?: string;
  /** What ties the hop to its call: the functionCallIdentifier or transaction id. */
  readonly correlationId?: string;
  /** Shown on demand (the exact message or APDU that differed, for instance); never a secret. */
  readonly detail?: string;
}
