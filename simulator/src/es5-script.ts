/** The ES5 script codec moved to `@rsp/card` (the SM-SR builds the same scripts); re-exported for the simulator. */
export {
  ES5_TAG,
  SCRIPT_CHAINING,
  Es5ScriptMalformedError,
  decodeCommandScript,
  decodeResponseScript,
  encodeCommandScript,
  encodeResponseScript,
  executeScript,
  runScript,
  statusWordOf,
  type ApduExecutor,
  type CommandScript,
  type ResponseScript,
} from '@rsp/card';
