/**
 * Scenario 1, the ceiling: a bare Fastify route answering a small JSON document (the same size as
 * the protected route's answer), without logging, cookies or authentication.
 * @module
 */
import Fastify from "fastify";
import { BASELINE_PATH } from "../paths.js";
import { failStartup, listenForBench } from "./listen.js";

try {
  const app = Fastify({ logger: false });
  app.get(BASELINE_PATH, async () => ({ ok: true, user: { id: 1, username: "user000001" } }));
  await app.ready();
  await listenForBench(app);
} catch (e) {
  await failStartup(e);
}
