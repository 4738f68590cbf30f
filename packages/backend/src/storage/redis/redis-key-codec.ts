/**
 * How {@link RedisKeyStorage} stores a key's fields in a Redis hash: every field is JSON text, so
 * numbers, strings and null come back as given. `created`, `expires` and `lastactive` are epoch
 * milliseconds; a `Date` in any other field is stored as `D<epoch ms>` (never valid JSON, so unambiguous).
 * @module
 */
import { CrossauthError, ErrorCode, type Key } from "@crossauth/common";

/** Fields stored as epoch milliseconds and returned as `Date`. */
const dateFields: ReadonlySet<string> = new Set(["created", "expires", "lastactive"]);

/**
 * Encodes one field of a key as the text stored in its hash.
 * @param name - field name
 * @param value - any JSON-serialisable value or `Date`
 * @throws CrossauthError `BadRequest` for an invalid Date or a value JSON can't represent
 */
export function encodeKeyField(name: string, value: unknown): string {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new CrossauthError(ErrorCode.BadRequest, `Invalid date in key field ${name}`);
    return dateFields.has(name) ? String(ms) : `D${ms}`;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) throw new CrossauthError(ErrorCode.BadRequest, `Key field ${name} can't be stored`);
  return text;
}

/**
 * Encodes the defined fields of a key as a flat `[field, text, field, text...]` list for HSET.
 * @throws CrossauthError `BadRequest` as {@link encodeKeyField}
 */
export function encodeKeyFields(fields: Record<string, unknown>): string[] {
  return Object.entries(fields).flatMap(([name, value]) =>
    value === undefined ? [] : [name, encodeKeyField(name, value)],
  );
}

/**
 * Decodes one stored field; `null` (absent field) decodes to `null`.
 * @throws CrossauthError `DataFormat` when the stored text is not what {@link encodeKeyField} writes
 */
export function decodeKeyField(name: string, text: string | null): unknown {
  if (text === null) return null;
  if (text.startsWith("D")) return new Date(Number(text.slice(1)));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CrossauthError(ErrorCode.DataFormat, `Stored key field ${name} is not valid`);
  }
  return dateFields.has(name) && (typeof value === "number" || typeof value === "string")
    ? new Date(value)
    : value;
}

/**
 * Decodes a key hash (as returned by HGETALL) into a {@link Key}.
 * @throws CrossauthError `DataFormat` as {@link decodeKeyField}
 */
export function decodeKeyHash(hash: Record<string, string>): Key {
  const fields: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(hash)) fields[name] = decodeKeyField(name, text);
  return {
    ...fields,
    value: String(fields.value),
    userid: (fields.userid ?? null) as Key["userid"],
    created: fields.created as Date,
    expires: (fields.expires ?? null) as Date | null,
    lastactive: (fields.lastactive ?? null) as Date | null,
    data: typeof fields.data === "string" ? fields.data : "",
  };
}
