/**
 * The bench's warm-up curve: V8's JIT shows in it (docs/performance.md, round eight: at 600 provisionings
 * TurboFan was still compiling), so every warm-up round is kept and printed, pooled into a dozen steps.
 */
export interface WarmRound {
  provisionings: number;
  seconds: number;
  /** The services' CPU per provisioning in the round. */
  servicesMs: number;
}

/** The warm-up's curve in at most 12 steps (rounds pooled): rate and the services' CPU per provisioning. */
export function warmupCurve(rounds: readonly WarmRound[]): string {
  const per = Math.max(1, Math.ceil(rounds.length / 12));
  const steps: string[] = [];
  for (let at = 0; at < rounds.length; at += per) {
    const pooled = rounds.slice(at, at + per);
    const provisionings = pooled.reduce((sum, r) => sum + r.provisionings, 0);
    const seconds = pooled.reduce((sum, r) => sum + r.seconds, 0);
    const cpuMs = pooled.reduce((sum, r) => sum + r.servicesMs * r.provisionings, 0) / provisionings;
    steps.push(`${(provisionings / seconds).toFixed(0)}/s ${cpuMs.toFixed(1)} ms`);
  }
  return `${per === 1 ? 'each round' : `${per} rounds at a time`} (rate, services' CPU per provisioning): ${steps.join(' → ')}`;
}
