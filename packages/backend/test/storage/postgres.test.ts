/**
 * The storage conformance suite on PostgreSQL (a fresh schema per run).
 */
import { describeStorageConformance } from "./conformance/index.js";
import { sqlFixture, testDbKinds } from "./sql/sql-test-setup.js";

const { service } = testDbKinds.find((k) => k.kind === "postgres")!;
describeStorageConformance("postgres", () => sqlFixture("postgres"), { service });
