import { RspError } from '@rsp/errors';

/** Errors raised by @rsp/persistence, each with a stable `ERR_PERSISTENCE_*` code. */
export namespace PersistenceError {
  /** RSP_DATABASE_URL is missing, unparsable or names an unsupported driver. */
  export class InvalidUrl extends RspError {
    static override readonly code = 'ERR_PERSISTENCE_INVALID_URL';
  }
  /** The database named by RSP_DATABASE_URL could not be opened or reached. */
  export class Unreachable extends RspError {
    static override readonly code = 'ERR_PERSISTENCE_UNREACHABLE';
  }
  /** A combination of options that must not be used (e.g. synchronize in production). */
  export class InvalidOptions extends RspError {
    static override readonly code = 'ERR_PERSISTENCE_INVALID_OPTIONS';
  }
  /** A row (transaction, outbox message) that was expected to exist does not. */
  export class NotFound extends RspError {
    static override readonly code = 'ERR_PERSISTENCE_NOT_FOUND';
  }
  /** A state machine flow name that was never registered. */
  export class UnknownFlow extends RspError {
    static override readonly code = 'ERR_PERSISTENCE_UNKNOWN_FLOW';
  }
  /** A SecretBox key is missing, of the wrong size or its id is unknown. */
  export class SecretKey extends RspError {
    static override readonly code = 'ERR_PERSISTENCE_SECRET_KEY';
  }
  /** A sealed secret is malformed or fails AES-GCM authentication (tampered, or wrong key). */
  export class SecretOpen extends RspError {
    static override readonly code = 'ERR_PERSISTENCE_SECRET_OPEN';
  }
  /** A step failed with a non-RspError; the code persisted on the transaction row. */
  export class StepFailed extends RspError {
    static override readonly code = 'ERR_PERSISTENCE_STEP_FAILED';
  }
}
