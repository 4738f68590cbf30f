/**
 * The body policy of Crossauth endpoints over HTTP: content types (415), malformed bodies (400),
 * oversized bodies (413), fields of the wrong type (400 FormEntry) — answered with the error shape,
 * nothing changed.
 */
import { describe, expect, it } from "vitest";
import { TEST_PASSWORD } from "../../backend/test/session/flow-context.js";
import { buildApp, Client, errorShape, json, SECURITY_HEADER_VALUES, useAppSuite } from "./app-fixture.js";

const s = useAppSuite({ allowedFactor2: ["dummy"] });

describe("body policy", () => {
  async function postLogin(payload: string, contentType?: string, extra: Record<string, string> = {}) {
    const client = new Client(s.t.app);
    await client.get("api/getcsrftoken");
    return s.t.app.inject({
      method: "POST",
      url: "/api/login",
      headers: {
        cookie: client.jar.header(),
        "x-crossauth-csrf": client.csrfToken as string,
        ...(contentType ? { "content-type": contentType } : {}),
        ...extra,
      },
      payload,
    });
  }

  it("answers 415 with the error shape for text/plain, multipart and a body without a content type", async () => {
    const message = "Unsupported content type: send application/json or application/x-www-form-urlencoded";
    for (const [payload, type] of [
      ["username=alice", "text/plain"],
      [
        '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n--x--',
        "multipart/form-data; boundary=x",
      ],
      ["username=alice", undefined],
    ] as const) {
      const response = await postLogin(payload, type);
      expect(response.statusCode).toBe(415);
      expect(json(response)).toEqual(errorShape(43, "BadRequest", message));
      expect(response.headers).toMatchObject(SECURITY_HEADER_VALUES);
    }
  });

  it("answers 400 for malformed JSON, a JSON value that is not an object, and a __proto__ key", async () => {
    const cases: [string, string][] = [
      ['{"username": "alice",', "The JSON body is malformed"],
      ['["alice"]', "The JSON body must be an object"],
      ["42", "The JSON body must be an object"],
      ['{"__proto__": {"admin": true}}', "The JSON body has a forbidden key"],
    ];
    for (const [payload, message] of cases) {
      const response = await postLogin(payload, "application/json");
      expect(response.statusCode).toBe(400);
      expect(json(response)).toEqual(errorShape(43, "BadRequest", message));
    }
  });

  it("answers 400 for malformed form bodies", async () => {
    for (const payload of ["username=%zz", "username=%E0%A4%A", "__proto__=x"]) {
      const response = await postLogin(payload, "application/x-www-form-urlencoded");
      expect(response.statusCode).toBe(400);
      expect(json(response).errorCodeName).toBe("BadRequest");
    }
  });

  it("answers 413 for a body over 64 KiB, announced or not", async () => {
    const big = JSON.stringify({ username: "a".repeat(64 * 1024) });
    const announced = await postLogin(big, "application/json");
    expect(announced.statusCode).toBe(413);
    expect(json(announced)).toEqual(errorShape(43, "BadRequest", "The request body is too large"));
    const form = await postLogin(`username=${"a".repeat(70_000)}`, "application/x-www-form-urlencoded");
    expect(form.statusCode).toBe(413);
  });

  it("honours the bodyLimit option", async () => {
    const small = await buildApp({ bodyLimit: 100 });
    try {
      const response = await small.app.inject({
        method: "POST",
        url: "/api/login",
        headers: { "content-type": "application/json" },
        payload: JSON.stringify({ username: "a".repeat(200) }),
      });
      expect(response.statusCode).toBe(413);
    } finally {
      await small.close();
    }
  });

  it("refuses fields of the wrong type with 400 FormEntry and changes nothing", async () => {
    await s.t.h.createUser({ username: "alice" });
    const array = await postLogin(
      `username=alice&username=bob&password=${TEST_PASSWORD}`,
      "application/x-www-form-urlencoded",
    );
    expect(array.statusCode).toBe(400);
    expect(json(array)).toEqual(errorShape(42, "FormEntry", "username must be text"));
    const number = await postLogin(
      JSON.stringify({ username: 42, password: TEST_PASSWORD }),
      "application/json",
    );
    expect(number.statusCode).toBe(400);
    expect(json(number).errorCodeName).toBe("FormEntry");
    const object = await postLogin(
      JSON.stringify({ username: "alice", password: { $ne: "" } }),
      "application/json",
    );
    expect(object.statusCode).toBe(400);
    expect(json(object).errorCodeName).toBe("FormEntry");
    expect(await s.sessionCount()).toBe(0);
    expect(array.cookies.map((c) => c.name)).not.toContain("SESSIONID");
  });

  it("accepts a JSON content type with a charset and an empty JSON body", async () => {
    const client = await s.loggedIn("alice");
    const response = await client.post(
      "api/userforsessionkey",
      {},
      {
        "content-type": "application/json; charset=utf-8",
      },
    );
    expect(json(response)).toMatchObject({ ok: true, user: { username: "alice" } });
    const empty = await s.t.app.inject({
      method: "POST",
      url: "/api/userforsessionkey",
      headers: {
        cookie: client.jar.header(),
        "x-crossauth-csrf": client.csrfToken as string,
        "content-type": "application/json",
      },
      payload: "",
    });
    expect(empty.statusCode).toBe(200);
  });
});
