/**
 * Which real services (Mosquitto, PostgreSQL) the tests may use.
 *
 * - RSP_TEST_MQTT_URL / RSP_TEST_DATABASE_URL set: use them; a failure to connect fails the test.
 * - In CI (CI=true) both variables are required: a real-service test is never skipped there.
 * - Outside CI with a variable unset: probe the machine's default port; if nothing listens, the suite
 *   is skipped with a warning naming the variable, so a laptop without Mosquitto still runs the rest.
 */
import { connect } from 'node:net';

export interface RealService {
  readonly name: string;
  readonly envVar: string;
  readonly url: string | undefined;
  /** Why the service is unavailable, when it is. */
  readonly skipReason?: string;
}

const DEFAULTS = {
  mqtt: { name: 'Mosquitto', envVar: 'RSP_TEST_MQTT_URL', url: 'mqtt://127.0.0.1:1883' },
  database: { name: 'PostgreSQL', envVar: 'RSP_TEST_DATABASE_URL', url: 'postgres://postgres@127.0.0.1:5432/test' },
} as const;

export const isCi = (): boolean => ['true', '1'].includes((process.env.CI ?? '').toLowerCase());

export async function realService(kind: keyof typeof DEFAULTS): Promise<RealService> {
  const { name, envVar, url: fallback } = DEFAULTS[kind];
  const configured = process.env[envVar];
  if (configured) return { name, envVar, url: configured };
  if (isCi()) {
    throw new Error(`${envVar} must be set in CI: the ${name} tests are never skipped there (see .ci/run)`);
  }
  const { hostname, port } = new URL(fallback);
  if (await reachable(hostname, Number(port))) return { name, envVar, url: fallback };
  const skipReason = `${name} not reachable at ${fallback} and ${envVar} unset: skipping its tests (never in CI)`;
  console.warn(skipReason);
  return { name, envVar, url: undefined, skipReason };
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}
