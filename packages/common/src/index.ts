/**
 * `@crossauth/common`: error codes, `CrossauthError`, the logger and the data types shared by every
 * Crossauth package. Runs in browsers and Node: no Node-only imports.
 * @packageDocumentation
 */
export { CrossauthError } from "./crossauth-error.js";
export {
  ErrorCode,
  type ErrorCodeName,
  errorCodeHttpStatus,
  errorCodeName,
  isErrorCode,
  parseErrorCode,
} from "./error-code.js";
export { httpStatusName } from "./http-status.js";
export {
  CrossauthLogger,
  type CrossauthLoggerInterface,
  j,
  LogLevel,
  logLevelNames,
  REDACTED,
} from "./logger.js";
export * from "./types.js";
