/**
 * Shared state of one conformance run: the fixture, reset before every test.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
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

/** Asserts a promise rejects with a CrossauthError of a code (alias used by the suite). */
export { expectCrossauthRejection as expectCode } from "../../helpers/expect-crossauth-error.js";

/** Strings full of SQL and LIKE metacharacters. */
export const nastyStrings = [
  `o'brien`,
  `say "hi"; DROP TABLE "User"; --`,
  `100%_done\\`,
  `back\\slash\\'quote`,
  `semi;colon/*comment*/`,
];
