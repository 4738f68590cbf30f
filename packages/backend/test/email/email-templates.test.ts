/** EmailTemplates: default templates, escaping, custom views directory and custom render function. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ErrorCode } from "@crossauth/common";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_VIEWS_DIR, EmailTemplates } from "../../src/email/index.js";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { LogCapture } from "./smtp-fixture.js";

const TEXT = "email/emailauthenticationtextbody.njk";
const HTML = "email/emailauthenticationhtmlbody.njk";
const packageDir = fileURLToPath(new URL("../../", import.meta.url));
const data = {
  username: "<script>alert(1)</script>",
  email: "a@example.com",
  otp: "012345",
  expiryMinutes: 5,
};

let customViews: string;
let logs: LogCapture;

beforeAll(() => {
  customViews = mkdtempSync(join(tmpdir(), "crossauth-views-"));
  mkdirSync(join(customViews, "email"));
  writeFileSync(
    join(customViews, "email", "emailauthenticationtextbody.njk"),
    "Custom text {{ otp }} for {{ username }}",
  );
});
afterAll(() => {
  rmSync(customViews, { recursive: true, force: true });
});
beforeEach(() => {
  logs = new LogCapture();
});
afterEach(() => {
  logs.restore();
  delete process.env.CROSSAUTH_VIEWS;
});

describe("default views directory", () => {
  it("is packages/backend/views and holds the default email templates", () => {
    expect(DEFAULT_VIEWS_DIR.replace(/[\\/]$/, "")).toBe(join(packageDir, "views"));
    expect(existsSync(join(DEFAULT_VIEWS_DIR, TEXT))).toBe(true);
    expect(existsSync(join(DEFAULT_VIEWS_DIR, HTML))).toBe(true);
  });

  it("resolves to the same directory from the built module in dist/email/", () => {
    const built = pathToFileURL(join(packageDir, "dist", "email", "email-templates.js"));
    expect(fileURLToPath(new URL("../../views", built)).replace(/[\\/]$/, "")).toBe(
      join(packageDir, "views"),
    );
  });
});

describe("Nunjucks rendering", () => {
  it("renders the default text template without escaping", async () => {
    const text = await new EmailTemplates().renderText(TEXT, data);
    expect(text).toBe(
      "Hello <script>alert(1)</script>,\n\nYour login code is: 012345\n\n" +
        "It is valid for 5 minutes. If you did not try to log in, you can ignore this email.\n",
    );
  });

  it("renders the default HTML template with autoescaping", async () => {
    const html = await new EmailTemplates().renderHtml(HTML, data);
    expect(html).toContain("<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;,</p>");
    expect(html).not.toContain("<script>");
    expect(html).toContain("<strong>012345</strong>");
    expect(html).toContain("It is valid for 5 minutes.");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  });

  it("says 'minute' for a one-minute validity", async () => {
    const text = await new EmailTemplates().renderText(TEXT, { ...data, expiryMinutes: 1 });
    expect(text).toContain("It is valid for 1 minute. ");
  });

  it("uses a views directory first and falls back to the defaults", async () => {
    const templates = new EmailTemplates({ views: customViews });
    expect(await templates.renderText(TEXT, data)).toBe("Custom text 012345 for <script>alert(1)</script>");
    expect(await templates.renderHtml(HTML, data)).toContain("<strong>012345</strong>");
  });

  it("reads the views directory from CROSSAUTH_VIEWS", async () => {
    process.env.CROSSAUTH_VIEWS = customViews;
    const templates = new EmailTemplates();
    expect(templates.views).toBe(customViews);
    expect(await templates.renderText(TEXT, data)).toBe("Custom text 012345 for <script>alert(1)</script>");
  });

  it("reports a missing template as Configuration without logging the data", async () => {
    const e = await expectCrossauthRejection(
      new EmailTemplates().renderText("email/missing.njk", data),
      ErrorCode.Configuration,
    );
    expect(e.message).toBe("Email template email/missing.njk not found");
    expect(logs.text()).not.toContain("012345");
  });

  it("refuses templates outside the views directories", async () => {
    await expectCrossauthRejection(
      new EmailTemplates().renderText("../package.json", data),
      ErrorCode.Configuration,
    );
  });

  it("reports a template that fails to render as Configuration", async () => {
    const dir = mkdtempSync(join(tmpdir(), "crossauth-bad-views-"));
    try {
      writeFileSync(join(dir, "bad.njk"), "{% if %}");
      const e = await expectCrossauthRejection(
        new EmailTemplates({ views: dir }).renderHtml("bad.njk", data),
        ErrorCode.Configuration,
      );
      expect(e.message).toBe("Cannot render email template bad.njk");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("custom render function", () => {
  it("replaces Nunjucks for both bodies, receiving the template name and data", async () => {
    const calls: [string, Record<string, unknown>][] = [];
    const templates = new EmailTemplates({
      views: customViews,
      render: (template, d) => {
        calls.push([template, d]);
        return `${template}:${String(d.otp)}`;
      },
    });
    expect(await templates.renderText(TEXT, data)).toBe(`${TEXT}:012345`);
    expect(await templates.renderHtml(HTML, data)).toBe(`${HTML}:012345`);
    expect(calls).toEqual([
      [TEXT, data],
      [HTML, data],
    ]);
  });

  it("may be asynchronous", async () => {
    const templates = new EmailTemplates({ render: async (template) => `async ${template}` });
    expect(await templates.renderText("x", {})).toBe("async x");
  });

  it("turns a throwing or non-string render into Configuration", async () => {
    const throwing = new EmailTemplates({
      render: () => {
        throw new Error("boom 012345");
      },
    });
    await expectCrossauthRejection(throwing.renderText("x", data), ErrorCode.Configuration);
    expect(logs.text()).not.toContain("012345");
    const nonString = new EmailTemplates({ render: () => 42 as unknown as string });
    const e = await expectCrossauthRejection(nonString.renderHtml("y", data), ErrorCode.Configuration);
    expect(e.message).toBe("Rendering y did not produce a string");
  });

  it("must be a function", () => {
    expectCrossauthError(
      () => new EmailTemplates({ render: "template" as unknown as () => string }),
      ErrorCode.Configuration,
    );
  });
});
