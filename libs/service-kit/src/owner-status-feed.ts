/**
 * The owner registry as the SM-DP and the SM-SR both see it (docs/owner-registry.md): a consent verifier,
 * and the registry-signed device statuses kept current from the retained MQTT topics on the service's
 * shared connection. Only registry-signed statuses count; a device without one is fetched from the
 * registry, else refused. Each service builds its own owner check on top.
 */
import type { MqttClient } from 'mqtt';
import type { JSONWebKeySet } from 'jose';
import { ConsentVerifier, HttpDeviceStatusSource, VerifiedDeviceStatusCache } from '@rsp/identity';
import { DeviceStatusSubscriber } from '@rsp/mqtt-transport';

export interface OwnerRegistryLink {
  /** The registry URL, `iss` of its consents. */
  issuer: string;
  /** Its JWKS URL or the key set itself; it also verifies the signed device statuses. */
  jwks: string | JSONWebKeySet;
  /** HTTP base URL answering `GET /device-status/{eid}` (default `issuer`); a function is read per request. */
  statusUrl?: string | (() => string | undefined);
}

export interface OwnerStatusFeed {
  consents: ConsentVerifier;
  statuses: VerifiedDeviceStatusCache;
  /** Unsubscribe on shutdown. */
  subscriber: DeviceStatusSubscriber;
}

export async function openOwnerStatusFeed(
  mqtt: MqttClient,
  link: OwnerRegistryLink,
  logger: { warn(message: string): void },
): Promise<OwnerStatusFeed> {
  const { issuer, jwks, statusUrl } = link;
  const statuses = new VerifiedDeviceStatusCache({ issuer, jwks, source: new HttpDeviceStatusSource({ registryUrl: statusUrl ?? issuer }), logger });
  const subscriber = await DeviceStatusSubscriber.attach({ client: mqtt, statuses });
  return { consents: new ConsentVerifier({ issuer, jwks }), statuses, subscriber };
}
