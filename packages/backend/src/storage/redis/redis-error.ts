/**
 * Maps errors from ioredis to {@link CrossauthError}.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";

/** Server replies that mean Redis is temporarily unable to serve, rather than a bad command. */
const unavailableReply = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|OOM|NOREPLICAS)\b/;

/**
 * Converts anything thrown while talking to Redis into a CrossauthError: CrossauthErrors pass through;
 * connection failures (refused, closed, retries exhausted) and "server unavailable" replies become
 * `Connection`; other server replies (e.g. WRONGTYPE) become `UnknownError`. The driver's message is
 * logged, not passed on.
 */
export function redisError(e: unknown): CrossauthError {
  if (e instanceof CrossauthError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const isReply = e instanceof Error && e.name === "ReplyError";
  const code = isReply && !unavailableReply.test(message) ? ErrorCode.UnknownError : ErrorCode.Connection;
  CrossauthLogger.logger.error(
    j({ msg: "Redis key storage error", errorName: (e as Error)?.name, cause: message }),
  );
  const error = new CrossauthError(
    code,
    code === ErrorCode.Connection ? "Redis is unavailable" : "Redis error",
  );
  error.cause = e;
  return error;
}
