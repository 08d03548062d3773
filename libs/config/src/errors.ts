import { RspError } from '@rsp/errors';

/** One refused setting: its name (an environment variable, with a JSON path inside it when it holds JSON) and what it must be. */
export interface SettingIssue {
  setting: string;
  expected: string;
}

/**
 * Errors raised while reading the configuration at start, each with a stable `ERR_CONFIG_*` code. Every
 * message names the setting (and the file, for files) and says what is expected; none echoes a value, so a
 * secret that landed in the wrong variable never reaches a log line.
 */
export namespace ConfigError {
  /** One or more settings are malformed: each is named with what it must be. */
  export class InvalidSetting extends RspError {
    static override readonly code = 'ERR_CONFIG_INVALID_SETTING';
    readonly issues: readonly SettingIssue[];
    /** The first refused setting. */
    readonly setting: string;

    constructor(issues: readonly SettingIssue[]) {
      super(issues.map((issue) => `${issue.setting}: ${issue.expected}`).join('; '));
      this.issues = issues;
      this.setting = issues[0]?.setting ?? '';
    }
  }

  /** A key or secret that production must be given: RSP_ENV=production generates none. */
  export class MissingSetting extends RspError {
    static override readonly code = 'ERR_CONFIG_MISSING_SETTING';
    readonly setting: string;

    constructor(setting: string, expected: string) {
      super(`${setting} is required in production (RSP_ENV=production): ${expected}`);
      this.setting = setting;
    }
  }

  /**
   * A key, secret or certificate file cannot be read or does not hold what its setting expects. A
   * development file in this state is never replaced by a new key: that would silently orphan
   * everything sealed or signed with the old one.
   */
  export class KeyFile extends RspError {
    static override readonly code = 'ERR_CONFIG_KEY_FILE';
    readonly setting: string;
    readonly file: string;

    constructor(setting: string, file: string, problem: string, options?: { cause?: unknown }) {
      super(`${setting}: ${file} ${problem}`, options);
      this.setting = setting;
      this.file = file;
    }
  }
}
