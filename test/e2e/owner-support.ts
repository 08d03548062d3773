/**
 * End-to-end helpers for the owner registry: an owner signed in at the dev IdP (ID token in hand), a
 * maker and an MNO calling the registry with their API keys.
 */
export interface RegistryAnswer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

async function call(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<RegistryAnswer> {
  const response = await fetch(url, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: RegistryAnswer['body'] = {};
  try {
    parsed = text ? (JSON.parse(text) as RegistryAnswer['body']) : {};
  } catch {
    parsed = { raw: text };
  }
  return { status: response.status, body: parsed };
}

/** An owner (or anyone holding an ID token) calling the registry. */
export class OwnerClient {
  constructor(
    private readonly registryUrl: string,
    public token: string,
  ) {}

  get(path: string): Promise<RegistryAnswer> {
    return call(`${this.registryUrl}${path}`, 'GET', { authorization: `Bearer ${this.token}` });
  }

  post(path: string, body: unknown = {}): Promise<RegistryAnswer> {
    return call(`${this.registryUrl}${path}`, 'POST', { authorization: `Bearer ${this.token}` }, body);
  }

  put(path: string, body: unknown): Promise<RegistryAnswer> {
    return call(`${this.registryUrl}${path}`, 'PUT', { authorization: `Bearer ${this.token}` }, body);
  }

  delete(path: string): Promise<RegistryAnswer> {
    return call(`${this.registryUrl}${path}`, 'DELETE', { authorization: `Bearer ${this.token}` });
  }
}

/** A maker or an MNO calling the registry with its API key. */
export function apiClient(registryUrl: string, apiKey: string) {
  return {
    post: (path: string, body: unknown) => call(`${registryUrl}${path}`, 'POST', { 'x-api-key': apiKey }, body),
    get: (path: string) => call(`${registryUrl}${path}`, 'GET', { 'x-api-key': apiKey }),
  };
}
