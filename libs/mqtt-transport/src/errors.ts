import { RspError } from '@rsp/errors';

/** Errors raised by the service-request transport (`@rsp/mqtt-transport`), each with a stable code. */
export namespace TransportError {
  /** A request or reply payload that is not a valid v1 envelope (bad JSON, missing or mistyped field). */
  export class InvalidEnvelope extends RspError {
    static override readonly code = 'ERR_TRANSPORT_INVALID_ENVELOPE';
  }
  /** An envelope whose `v` is not a version this code speaks. */
  export class UnsupportedVersion extends RspError {
    static override readonly code = 'ERR_TRANSPORT_UNSUPPORTED_VERSION';
  }
  /** A message pattern that cannot be an MQTT topic level sequence (empty, wildcard, `$` or odd characters). */
  export class InvalidPattern extends RspError {
    static override readonly code = 'ERR_TRANSPORT_INVALID_PATTERN';
  }
  /** Bad transport options (URL, prefix, group name, timeouts). */
  export class InvalidOptions extends RspError {
    static override readonly code = 'ERR_TRANSPORT_INVALID_OPTIONS';
  }
  /** No reply within the requester's per-request timeout. */
  export class Timeout extends RspError {
    static override readonly code = 'ERR_TRANSPORT_TIMEOUT';
  }
  /** The request's `deadline` had passed when the server received it; the handler was not run. */
  export class Expired extends RspError {
    static override readonly code = 'ERR_TRANSPORT_EXPIRED';
  }
  /** The server holds no handler for the request's pattern. */
  export class NoHandler extends RspError {
    static override readonly code = 'ERR_TRANSPORT_NO_HANDLER';
  }
  /** The handler failed with something that is not an RspError (the detail stays in the server log). */
  export class HandlerFailed extends RspError {
    static override readonly code = 'ERR_TRANSPORT_HANDLER_FAILED';
  }
  /**
   * A service was asked to connect without a broker identity (TLS client certificate): it refuses, since
   * a broker that lets it in anonymously lets anyone in (docs/security.md).
   */
  export class CredentialsMissing extends RspError {
    static override readonly code = 'ERR_MQTT_CREDENTIALS_MISSING';
  }
  /** The broker refused a subscription or the connection failed. */
  export class Broker extends RspError {
    static override readonly code = 'ERR_TRANSPORT_BROKER';
  }
  /** The requester or server was closed while the request was pending, or used after close. */
  export class Closed extends RspError {
    static override readonly code = 'ERR_TRANSPORT_CLOSED';
  }

  /**
   * A typed error the remote handler answered with (`ok: false`). Its instance `code` is the remote code
   * (e.g. `ERR_PKI_SIGNATURE_INVALID`), so callers branch on `code` exactly as for a local error; the
   * static code only names the family.
   */
  export class Remote extends RspError {
    static override readonly code = 'ERR_TRANSPORT_REMOTE';
    /** Structured, JSON-safe details the server chose to send (never a stack trace). */
    readonly details: unknown;
    constructor(code: string, message: string, details?: unknown) {
      super(message);
      Object.defineProperty(this, 'code', { value: code, enumerable: true });
      this.details = details;
    }
  }
}

/** Transport error classes the client rebuilds locally when a reply carries their code. */
export const TRANSPORT_ERROR_CLASSES: ReadonlyMap<string, new (message: string) => RspError> = new Map(
  [
    TransportError.InvalidEnvelope,
    TransportError.UnsupportedVersion,
    TransportError.InvalidPattern,
    TransportError.Expired,
    TransportError.NoHandler,
    TransportError.HandlerFailed,
  ].map((cls) => [cls.code, cls]),
);
