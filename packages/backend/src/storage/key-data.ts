/**
 * The JSON `data` field of keys: decoding, encoding and dotted-path edits shared by every key storage.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";

/**
 * Parses a key's `data` field. Empty or absent data is `{}`.
 * @param data - the stored JSON text
 * @throws CrossauthError `DataFormat` when it is not a JSON object
 */
export function decodeKeyData(data: string | null | undefined): Record<string, unknown> {
  if (data === null || data === undefined || data === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new CrossauthError(ErrorCode.DataFormat, "Key data is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new CrossauthError(ErrorCode.DataFormat, "Key data is not a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/**
 * Encodes a key's `data` object as JSON text (`"{}"` when absent).
 * @param data - the object
 */
export function encodeKeyData(data: Record<string, unknown> | null | undefined): string {
  return JSON.stringify(data ?? {});
}

function splitPath(dataName: string): string[] {
  const parts = typeof dataName === "string" ? dataName.split(".") : [];
  if (parts.length === 0 || parts.some((p) => p === "")) {
    throw new CrossauthError(ErrorCode.BadRequest, "Invalid key data field name");
  }
  for (const p of parts) {
    if (p === "__proto__" || p === "constructor" || p === "prototype") {
      throw new CrossauthError(ErrorCode.BadRequest, "Invalid key data field name");
    }
  }
  return parts;
}

/** Walks to the object holding the last path element; every parent must exist and be an object. */
function parentOf(data: Record<string, unknown>, parts: string[]): Record<string, unknown> {
  let node: Record<string, unknown> = data;
  for (const part of parts.slice(0, -1)) {
    const next = Object.hasOwn(node, part) ? node[part] : undefined;
    if (next === null || typeof next !== "object" || Array.isArray(next)) {
      throw new CrossauthError(ErrorCode.BadRequest, `Key data has no object at ${part}`);
    }
    node = next as Record<string, unknown>;
  }
  return node;
}

/**
 * Sets `value` at a dotted path (`part1.part2`) in a data object, in place. An `undefined` value
 * deletes the field.
 * @param data - the decoded data
 * @param dataName - dotted path
 * @param value - JSON-serialisable value
 * @throws CrossauthError `BadRequest` when a parent is missing or not an object, or the path is invalid
 */
export function setKeyDataField(data: Record<string, unknown>, dataName: string, value: unknown): void {
  const parts = splitPath(dataName);
  const parent = parentOf(data, parts);
  const last = parts[parts.length - 1] as string;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
}

/**
 * Deletes the field at a dotted path in a data object, in place. A missing last field is not an error.
 * @param data - the decoded data
 * @param dataName - dotted path
 * @throws CrossauthError `BadRequest` when a parent is missing or not an object, or the path is invalid
 */
export function deleteKeyDataField(data: Record<string, unknown>, dataName: string): void {
  setKeyDataField(data, dataName, undefined);
}
