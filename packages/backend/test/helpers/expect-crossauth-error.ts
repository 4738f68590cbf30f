/** Assertions that a call fails with a `CrossauthError` of a given code. */
import { CrossauthError, type ErrorCode } from "@crossauth/common";
import { expect } from "vitest";

/** Runs `fn` and returns what it threw; fails the test when it returns normally. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("Expected the call to throw, but it returned");
}

/** Asserts that `fn` throws a `CrossauthError` with `code`, and returns it. */
export function expectCrossauthError(fn: () => unknown, code: ErrorCode): CrossauthError {
  const e = thrownBy(fn);
  expect(e).toBeInstanceOf(CrossauthError);
  expect((e as CrossauthError).codeName).toBe(new CrossauthError(code).codeName);
  return e as CrossauthError;
}

/** Asserts that `promise` rejects with a `CrossauthError` with `code`, and returns it. */
export async function expectCrossauthRejection(
  promise: Promise<unknown>,
  code: ErrorCode,
): Promise<CrossauthError> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CrossauthError);
  expect((error as CrossauthError).codeName).toBe(new CrossauthError(code).codeName);
  return error as CrossauthError;
}
