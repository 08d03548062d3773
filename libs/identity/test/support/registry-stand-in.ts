/**
 * The owner registry as the SM-DP / SM-SR see it, for their tests: the device statuses it holds (each
 * change bumps the version), signed with its consent key (the tests publish them retained) and answered
 * at `GET /device-status/{eid}` ("not registered", version 0, for an EID it does not know). `down`
 * makes the HTTP side answer 503, as an unreachable registry would.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeviceStatus, VersionedDeviceStatus } from '../../src';
import { REGISTRY_ISSUER, registryKey, signStatus, type RegistryKey } from './registry-keys';

export interface RegistryStandIn {
  issuer: string;
  key: RegistryKey;
  /** HTTP base URL (the services' `statusUrl`). */
  url: string;
  /** While true, `GET /device-status/{eid}` answers 503. */
  down: boolean;
  /** EIDs asked for over HTTP, in order. */
  requests: string[];
  /** The registry's current status of `eid`, after applying `change` with the next version. */
  change(eid: string, change?: Partial<DeviceStatus>): VersionedDeviceStatus;
  signed(status: VersionedDeviceStatus, key?: RegistryKey): Promise<string>;
  close(): Promise<void>;
}

export async function startRegistryStandIn(): Promise<RegistryStandIn> {
  const key = await registryKey(`consent-${randomUUID()}`);
  const statuses = new Map<string, VersionedDeviceStatus>();
  const stand: RegistryStandIn = {
    issuer: REGISTRY_ISSUER,
    key,
    url: '',
    down: false,
    requests: [],
    change(eid, change = {}) {
      const held = statuses.get(eid);
      const next: VersionedDeviceStatus = {
        ...(held ?? { eid, owned: false, status: 'Active', consentEpoch: 0, revokedConsents: [] }),
        ...change,
        eid,
        updatedAt: new Date().toISOString(),
        version: (held?.version ?? 0) + 1,
      };
      statuses.set(eid, next);
      return next;
    },
    signed: (status, signer = key) => signStatus(status, signer),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((request, response) => {
    const eid = /^\/device-status\/(\d{32})$/.exec(request.url ?? '')?.[1];
    if (!eid) return void response.writeHead(404).end();
    stand.requests.push(eid);
    if (stand.down) return void response.writeHead(503).end();
    const status = statuses.get(eid) ?? { eid, owned: false, status: 'Active', consentEpoch: 0, revokedConsents: [], updatedAt: new Date(0).toISOString(), version: 0 };
    void stand.signed(status).then((token) => response.writeHead(200, { 'content-type': 'application/jwt' }).end(token));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stand.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stand;
}
