/**
 * The storage conformance suite on SQLite: a file database in a temp dir, and `:memory:`.
 */
import { describeStorageConformance } from "./conformance/index.js";
import { sqlFixture } from "./sql/sql-test-setup.js";

describeStorageConformance("sqlite (file)", () => sqlFixture("sqlite-file"));
describeStorageConformance("sqlite (:memory:)", () => sqlFixture("sqlite-memory"));
