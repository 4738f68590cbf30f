/**
 * The storage conformance suite: one set of tests, run against every backend.
 */
import { describe } from "vitest";
import { describeWithService } from "../../helpers/services.js";
import { authorizationStorageTests, clientStorageTests } from "./clients.js";
import { useFixture } from "./context.js";
import type { FixtureFactory } from "./fixture.js";
import { keyStorageTests } from "./keys.js";
import { userStorageTests } from "./users.js";

export type { FixtureFactory, StorageFixture } from "./fixture.js";

/** Options of {@link describeStorageConformance}. */
export interface ConformanceOptions {
  /** Only the key-storage tests (backends with no user storage, e.g. Redis). */
  keysOnly?: boolean;
  /** For service-backed storages: the service's name and whether it is reachable. */
  service?: { name: string; available: boolean };
}

/**
 * Registers the conformance suite for one backend.
 * @param name - backend name, e.g. `"sqlite (file)"`
 * @param factory - creates the backend's fixture
 * @param options - see {@link ConformanceOptions}
 */
export function describeStorageConformance(
  name: string,
  factory: FixtureFactory,
  options: ConformanceOptions = {},
): void {
  const body = () => {
    const ctx = useFixture(factory);
    keyStorageTests(ctx);
    if (!options.keysOnly) {
      userStorageTests(ctx);
      clientStorageTests(ctx);
      authorizationStorageTests(ctx);
    }
  };
  const title = `storage conformance: ${name}`;
  if (options.service) describeWithService(options.service.name, options.service.available, title, body);
  else describe(title, body);
}
