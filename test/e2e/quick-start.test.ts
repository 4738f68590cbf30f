/**
 * The README's quick start is what the tests run: `npm ci && npm start`, where the root `start`
 * script builds and then runs `node apps/server/dist/main.js` — and the server started that way,
 * with no configuration but a port and a data directory, serves the home page.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ensureServerBuilt,
  freePort,
  neutralEnv,
  type RunningServer,
  repoRoot,
  rootScripts,
  SERVER_ENTRY,
  startServerProcess,
} from "./server.js";

/** The start script the README documents: build, then run the built reference server. */
const START_SCRIPT = `npm run build && node ${SERVER_ENTRY}`;

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
let server: RunningServer | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("the README's quick start", () => {
  it("documents `npm ci && npm start`, and `npm start` builds then runs the built server", () => {
    expect(readme).toContain("| Install and run the reference server | `npm ci && npm start` |");
    expect(readme).toContain(
      "`npm ci && npm start` builds the packages and starts `apps/server` on **http://localhost:3000**",
    );
    const scripts = rootScripts();
    expect(scripts.start).toBe(START_SCRIPT);
    expect(scripts.build).toBe("tsc -b packages/common packages/backend packages/fastify apps/server");
  });

  it("the server started as `npm start` starts it serves the home page, then stops cleanly", async () => {
    await ensureServerBuilt();
    // Run the start script's last command exactly, from the root as npm does.
    const command = (rootScripts().start ?? "").split("&&").at(-1)?.trim().split(/\s+/) ?? [];
    expect(command).toEqual(["node", SERVER_ENTRY]);
    dataDir = mkdtempSync(join(tmpdir(), "crossauth-quickstart-"));
    const port = await freePort();
    // Nothing configured but the port and (to keep the working tree clean) the data directory.
    const env = { ...neutralEnv(), PORT: String(port), CROSSAUTH_DATA_DIR: dataDir };
    server = await startServerProcess({ script: command[1] as string, cwd: repoRoot, env, port });
    expect(server.stdout()).toContain("Emails are printed here (no SMTP server set).");
    expect(server.stdout()).toContain(`Database: sqlite://${join(dataDir, "crossauth.db")}`);

    const home = await fetch(`${server.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await home.text();
    expect(html).toContain("<h1>Welcome</h1>");
    expect(html).toContain("You are not logged in. Log in or create an account to continue.");
    expect(html).toContain('<a href="/signup">Create an account</a>');
    expect(html).toContain('<a href="/login">Log in</a>');
    const health = await fetch(`${server.url}/health`);
    expect(await health.json()).toEqual({ ok: true, database: "up" });

    const code = await server.stop();
    expect(code, server.stderr()).toBe(0);
    expect(server.stdout()).toContain('"msg":"Shutting down"');
  });
});
