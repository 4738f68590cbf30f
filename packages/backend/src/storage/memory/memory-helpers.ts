/**
 * Helpers shared by the in-memory storages: deep copies, id comparison, field matching, paging.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";

/**
 * A deep copy (Dates, arrays and nested objects copied too), so callers never share storage objects.
 * @param value - what to copy
 * @throws CrossauthError `DataFormat` when the value holds something that cannot be stored (a function...)
 */
export function deepCopy<T>(value: T): T {
  try {
    return structuredClone(value);
  } catch {
    throw new CrossauthError(ErrorCode.DataFormat, "Value cannot be stored in memory");
  }
}

/**
 * A user id as a comparable map key: `null` for none, else its text (`1` and `"1"` are the same user).
 * @param userid - a user id, null or undefined
 */
export function idKey(userid: unknown): string | null {
  return userid === null || userid === undefined ? null : String(userid);
}

/**
 * Whether a stored field equals a wanted value as SQL would compare them: `null` matches null/absent,
 * Dates by time, numbers and strings by their text, anything else strictly.
 * @param stored - the stored field
 * @param wanted - the value to match (not undefined)
 */
export function fieldMatches(stored: unknown, wanted: unknown): boolean {
  if (wanted === null) return stored === null || stored === undefined;
  if (wanted instanceof Date) return stored instanceof Date && stored.getTime() === wanted.getTime();
  const scalar = (v: unknown) => typeof v === "string" || typeof v === "number" || typeof v === "bigint";
  if (scalar(wanted) && scalar(stored)) return String(stored) === String(wanted);
  return stored === wanted;
}

/**
 * Orders text by UTF-16 code units (as `Array.prototype.sort` does), for sort comparators.
 * @param a - first text
 * @param b - second text
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The slice of an ordered list selected by `skip` and `take` (both optional).
 * @param items - the ordered items
 * @param skip - number to skip
 * @param take - maximum number to return
 */
export function page<T>(items: T[], skip?: number, take?: number): T[] {
  const start = skip && skip > 0 ? skip : 0;
  return take === undefined || take === null
    ? items.slice(start)
    : items.slice(start, start + Math.max(take, 0));
}

/**
 * Copies the fields of `changes` that are not `undefined` onto `target`, skipping `ignored` ones.
 * @param target - the object to change
 * @param changes - the new values (`null` stores null)
 * @param ignored - field names never copied (ids, derived columns)
 */
export function assignDefined(
  target: Record<string, unknown>,
  changes: Record<string, unknown>,
  ignored: readonly string[],
): void {
  for (const [field, value] of Object.entries(changes)) {
    if (value !== undefined && !ignored.includes(field)) target[field] = value;
  }
}
