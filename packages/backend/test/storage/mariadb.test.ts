/**
 * The storage conformance suite on MySQL/MariaDB (a fresh database per run).
 */
import { describeStorageConformance } from "./conformance/index.js";
import { sqlFixture, testDbKinds } from "./sql/sql-test-setup.js";

const { service } = testDbKinds.find((k) => k.kind === "mysql")!;
describeStorageConformance("mariadb", () => sqlFixture("mysql"), { service });
