import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDotEnv } from "@crossauth/backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "crossauth-dotenv-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function envFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, "utf8");
  return path;
}

describe("loadDotEnv", () => {
  it("reads plain, quoted and commented lines into the given env object", () => {
    const path = envFile(
      "basic.env",
      [
        "# a comment line",
        "CROSSAUTH_PLAIN=plain value",
        'CROSSAUTH_DOUBLE="double # not a comment"',
        "CROSSAUTH_SINGLE='single quoted'",
        "CROSSAUTH_INLINE=value # trailing comment",
        "",
        "   # an indented comment",
        'CROSSAUTH_JSON={"a":1}',
        "CROSSAUTH_EMPTY=",
      ].join("\n"),
    );
    const env: Record<string, string | undefined> = {};
    const set = loadDotEnv(path, env);
    expect(env).toEqual({
      CROSSAUTH_PLAIN: "plain value",
      CROSSAUTH_DOUBLE: "double # not a comment",
      CROSSAUTH_SINGLE: "single quoted",
      CROSSAUTH_INLINE: "value",
      CROSSAUTH_JSON: '{"a":1}',
      CROSSAUTH_EMPTY: "",
    });
    expect([...set].sort()).toEqual([
      "CROSSAUTH_DOUBLE",
      "CROSSAUTH_EMPTY",
      "CROSSAUTH_INLINE",
      "CROSSAUTH_JSON",
      "CROSSAUTH_PLAIN",
      "CROSSAUTH_SINGLE",
    ]);
  });

  it("a stray line never swallows the next variable", () => {
    const path = envFile(
      "stray.env",
      [
        "CROSSAUTH_A=1",
        "\t# a tab-indented comment",
        "CROSSAUTH_B=2",
        "not an assignment",
        "CROSSAUTH_C=3",
        "=no name",
        "CROSSAUTH_D=4",
      ].join("\n"),
    );
    const env: Record<string, string | undefined> = {};
    loadDotEnv(path, env);
    expect(env).toEqual({ CROSSAUTH_A: "1", CROSSAUTH_B: "2", CROSSAUTH_C: "3", CROSSAUTH_D: "4" });
  });

  it("keeps multi-line double-quoted values, even lines in them that look like comments", () => {
    const path = envFile("multiline.env", 'CROSSAUTH_KEY="line 1\n# line 2\nline 3"\nCROSSAUTH_AFTER=yes\n');
    const env: Record<string, string | undefined> = {};
    loadDotEnv(path, env);
    expect(env).toEqual({ CROSSAUTH_KEY: "line 1\n# line 2\nline 3", CROSSAUTH_AFTER: "yes" });
  });

  it("reads CRLF line endings and export prefixes", () => {
    const path = envFile("crlf.env", "# comment\r\nexport CROSSAUTH_A=1\r\nCROSSAUTH_B='two'\r\n");
    const env: Record<string, string | undefined> = {};
    loadDotEnv(path, env);
    expect(env).toEqual({ CROSSAUTH_A: "1", CROSSAUTH_B: "two" });
  });

  it("does not overwrite a variable already set, and does not report it", () => {
    const path = envFile("existing.env", "CROSSAUTH_A=from file\nCROSSAUTH_B=from file\n");
    const env: Record<string, string | undefined> = { CROSSAUTH_A: "already set", OTHER: "kept" };
    expect(loadDotEnv(path, env)).toEqual(["CROSSAUTH_B"]);
    expect(env).toEqual({ CROSSAUTH_A: "already set", CROSSAUTH_B: "from file", OTHER: "kept" });
  });

  it("does not overwrite a variable set to the empty string", () => {
    const path = envFile("empty-existing.env", "CROSSAUTH_A=from file\n");
    const env: Record<string, string | undefined> = { CROSSAUTH_A: "" };
    expect(loadDotEnv(path, env)).toEqual([]);
    expect(env.CROSSAUTH_A).toBe("");
  });

  it("returns [] for a missing file and leaves env alone", () => {
    const env: Record<string, string | undefined> = { X: "1" };
    expect(loadDotEnv(join(dir, "does-not-exist.env"), env)).toEqual([]);
    expect(env).toEqual({ X: "1" });
  });

  it("returns [] for an empty file", () => {
    const env: Record<string, string | undefined> = {};
    expect(loadDotEnv(envFile("empty.env", ""), env)).toEqual([]);
    expect(env).toEqual({});
  });
});
