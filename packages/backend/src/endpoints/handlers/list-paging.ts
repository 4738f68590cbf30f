/**
 * Paging of the admin and client lists (`selectuser`, `selectclient`): reading `skip` and `take`
 * from the query, and the links to the previous and next pages.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import type { EndpointRequest } from "../endpoint.js";
import { pathWithQuery } from "./session-endpoint-support.js";

/** Rows per page when the query gives no `take`. */
export const DEFAULT_PAGE_SIZE = 20;
/** Most rows a page may ask for. */
export const MAX_PAGE_SIZE = 100;
/** Largest `skip` accepted. */
const MAX_SKIP = 1_000_000_000;

/** Which rows a list page shows. */
export interface Paging {
  /** Rows skipped. */
  skip: number;
  /** Rows shown at most. */
  take: number;
}

/** A whole number from the query, or the default when absent. */
function wholeNumber(
  query: Record<string, string>,
  name: string,
  fallback: number,
  min: number,
  max: number,
) {
  const text = Object.hasOwn(query, name) ? query[name] : undefined;
  if (text === undefined || text === "") return fallback;
  const value = /^[0-9]{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new CrossauthError(ErrorCode.FormEntry, `${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/**
 * The `skip` (default 0) and `take` (default {@link DEFAULT_PAGE_SIZE}, at most
 * {@link MAX_PAGE_SIZE}) of a list request.
 * @throws CrossauthError `FormEntry` for values that are not whole numbers in range
 */
export function readPaging(request: EndpointRequest): Paging {
  return {
    skip: wholeNumber(request.query, "skip", 0, 0, MAX_SKIP),
    take: wholeNumber(request.query, "take", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
  };
}

/**
 * One page of rows from a lister asked for one row more than the page holds, to know whether a
 * next page exists.
 * @param list - `(skip, take) => rows`
 */
export async function pageOfRows<T>(
  paging: Paging,
  list: (skip: number, take: number) => Promise<T[]>,
): Promise<{ rows: T[]; hasMore: boolean }> {
  const rows = await list(paging.skip, paging.take + 1);
  return { rows: rows.slice(0, paging.take), hasMore: rows.length > paging.take };
}

/**
 * The links of a list's previous and next pages (absent when there is none).
 * @param path - the list page's path
 * @param query - other query parameters to keep (undefined ones are left out)
 * @param hasMore - whether rows follow this page
 */
export function pagingLinks(
  path: string,
  query: Record<string, string | undefined>,
  paging: Paging,
  hasMore: boolean,
): { previousUrl?: string; nextUrl?: string } {
  const take = paging.take === DEFAULT_PAGE_SIZE ? undefined : String(paging.take);
  const at = (skip: number) =>
    pathWithQuery(path, { ...query, skip: skip > 0 ? String(skip) : undefined, take });
  return {
    ...(paging.skip > 0 ? { previousUrl: at(Math.max(0, paging.skip - paging.take)) } : {}),
    ...(hasMore ? { nextUrl: at(paging.skip + paging.take) } : {}),
  };
}
