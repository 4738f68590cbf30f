import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      "@crossauth/common": src("common"),
      "@crossauth/backend": src("backend"),
      "@crossauth/fastify": src("fastify"),
    },
  },
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "apps/*/test/**/*.test.ts",
      "test/e2e/**/*.test.ts",
      "bench/test/**/*.test.ts",
    ],
    testTimeout: 30_000,
  },
});
