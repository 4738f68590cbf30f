/**
 * Shared state of one conformance run: the fixture, reset before every test.
 */
import { CrossauthError, type ErrorCode } from "@crossauth/common";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import type { FixtureFactory, StorageFixture } from "./fixture.js";

/** Holds the fixture of the running suite. */
export interface SuiteContext {
  readonly fixture: StorageFixture;
}

/**
 * Registers beforeAll/beforeEach/afterAll hooks that create, reset and close the fixture.
 * Call inside a describe block.
 */
export function useFixture(factory: FixtureFactory): SuiteContext {
  let fixture: StorageFixture | undefined;
  beforeAll(async () => {
    fixture = await factory();
  }, 120_000);
  beforeEach(async () => {
    await fixture?.reset();
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });
  return {
    get fixture() {
      if (!fixture) throw new Error("fixture not created");
      return fixture;
    },
  };
}

/**
 * Awaits `promise` and asserts it rejects with a CrossauthError of `code`.
 * @returns the error, for further checks
 */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<CrossauthError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a rejection").toBeInstanceOf(CrossauthError);
  const error = caught as CrossauthError;
  expect(error.codeName).toBe(new CrossauthError(code).codeName);
  return error;
}

/** Strings full of SQL and LIKE metacharacters. */
export const nastyStrings = [
  `o'brien`,
  `say "hi"; DROP TABLE "User"; --`,
  `100%_done\\`,
  `back\\slash\\'quote`,
  `semi;colon/*comment*/`,
];
