import { attrName, ENV_PREFIX, getOption, hasOption, ParamType, setParameter } from "@crossauth/backend";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { afterEach, describe, expect, it } from "vitest";
import { expectCrossauthError } from "../helpers/expect-crossauth-error.js";

/** Environment variables set by the current test (full names), deleted after it. */
const setVariables: string[] = [];
let counter = 0;

/** Sets a fresh, unique `CROSSAUTH_*` variable and returns its name without the prefix. */
function env(value: string, stem = "TEST"): string {
  counter += 1;
  const name = `${stem}_${process.pid}_${counter}`;
  process.env[ENV_PREFIX + name] = value;
  setVariables.push(ENV_PREFIX + name);
  return name;
}

/** A unique variable name that is not set. */
function unsetEnv(): string {
  counter += 1;
  return `TEST_UNSET_${process.pid}_${counter}`;
}

afterEach(() => {
  for (const name of setVariables.splice(0)) delete process.env[name];
});

interface Case {
  type: ParamType;
  option: unknown;
  envText: string;
  envValue: unknown;
}

const cases: Record<string, Case> = {
  String: { type: ParamType.String, option: "from option", envText: "from env", envValue: "from env" },
  Number: { type: ParamType.Number, option: 2.5, envText: "3.25", envValue: 3.25 },
  Integer: { type: ParamType.Integer, option: 7, envText: "42", envValue: 42 },
  Boolean: { type: ParamType.Boolean, option: false, envText: "true", envValue: true },
  Json: { type: ParamType.Json, option: { a: 1 }, envText: '{"b":[2,3]}', envValue: { b: [2, 3] } },
  JsonArray: {
    type: ParamType.JsonArray,
    option: [1, "x"],
    envText: '["y",{"z":null}]',
    envValue: ["y", { z: null }],
  },
};

describe("ParamType", () => {
  it("has the reference numbers", () => {
    expect(ParamType).toEqual({ String: 1, Number: 2, Integer: 3, Boolean: 4, Json: 5, JsonArray: 6 });
    expect(Object.isFrozen(ParamType)).toBe(true);
    expect(ENV_PREFIX).toBe("CROSSAUTH_");
  });
});

describe.each(Object.entries(cases))(
  "precedence for ParamType.%s",
  (_name, { type, option, envText, envValue }) => {
    it("an option beats the environment", () => {
      const instance: Record<string, unknown> = { param: "default" };
      setParameter("param", type, instance, { param: option }, env(envText));
      expect(instance.param).toEqual(option);
    });

    it("the environment is parsed when there is no option", () => {
      const instance: Record<string, unknown> = { param: "default" };
      setParameter("param", type, instance, {}, env(envText));
      expect(instance.param).toEqual(envValue);
    });

    it("the default is left untouched when neither is set", () => {
      const fallback = { marker: true };
      const instance: Record<string, unknown> = { param: fallback };
      setParameter("param", type, instance, {}, unsetEnv());
      expect(instance.param).toBe(fallback);
      setParameter("param", type, instance, undefined);
      expect(instance.param).toBe(fallback);
    });

    it("an option that is null gives way to the environment", () => {
      const instance: Record<string, unknown> = { param: "default" };
      setParameter("param", type, instance, { param: null }, env(envText));
      expect(instance.param).toEqual(envValue);
    });

    it('the environment text "null" sets null', () => {
      const instance: Record<string, unknown> = { param: "default" };
      setParameter("param", type, instance, {}, env("null"));
      expect(instance.param).toBeNull();
    });

    it("the environment is ignored without an envName", () => {
      const instance: Record<string, unknown> = { param: "default" };
      env(envText);
      setParameter("param", type, instance, {});
      expect(instance.param).toBe("default");
    });
  },
);

describe("Boolean environment values", () => {
  it.each(["1", "true", "TRUE", "True"])("%j → true", (text) => {
    const instance: Record<string, unknown> = { flag: false };
    setParameter("flag", ParamType.Boolean, instance, {}, env(text));
    expect(instance.flag).toBe(true);
  });

  it.each(["0", "false", "yes"])("%j → false", (text) => {
    const instance: Record<string, unknown> = { flag: true };
    setParameter("flag", ParamType.Boolean, instance, {}, env(text));
    expect(instance.flag).toBe(false);
  });
});

describe("Integer environment values", () => {
  it.each([
    ["42", 42],
    ["-7", -7],
  ])("%j → %i", (text, value) => {
    const instance: Record<string, unknown> = {};
    setParameter("count", ParamType.Integer, instance, {}, env(text));
    expect(instance.count).toBe(value);
  });

  it.each(["1.5", "abc", "", "1e3", "12abc"])("%j → Configuration", (text) => {
    const name = env(text);
    const e = expectCrossauthError(
      () => setParameter("count", ParamType.Integer, {}, {}, name),
      ErrorCode.Configuration,
    );
    expect(e.message).toContain(ENV_PREFIX + name);
  });
});

describe("Number environment values", () => {
  it('"1.5" → 1.5', () => {
    const instance: Record<string, unknown> = {};
    setParameter("ratio", ParamType.Number, instance, {}, env("1.5"));
    expect(instance.ratio).toBe(1.5);
  });

  it.each(["abc", "", "Infinity"])("%j → Configuration", (text) => {
    const name = env(text);
    expectCrossauthError(
      () => setParameter("ratio", ParamType.Number, {}, {}, name),
      ErrorCode.Configuration,
    );
  });
});

describe("Json and JsonArray environment values", () => {
  it("bad JSON → Configuration naming the variable", () => {
    const name = env("{not json", "TEST_JSON");
    const e = expectCrossauthError(
      () => setParameter("settings", ParamType.Json, {}, {}, name),
      ErrorCode.Configuration,
    );
    expect(e.message).toContain(`CROSSAUTH_${name}`);
    expect(e.message).toContain("CROSSAUTH_TEST_JSON");
  });

  it('JsonArray "{}" → Configuration', () => {
    const name = env("{}");
    expectCrossauthError(
      () => setParameter("list", ParamType.JsonArray, {}, {}, name),
      ErrorCode.Configuration,
    );
  });

  it("Json that is not an object → Configuration", () => {
    const name = env("42");
    expectCrossauthError(
      () => setParameter("settings", ParamType.Json, {}, {}, name),
      ErrorCode.Configuration,
    );
  });
});

describe("options given in code", () => {
  it("a Json option object is used as is", () => {
    const value = { nested: { list: [1, 2] } };
    const instance: Record<string, unknown> = {};
    setParameter("settings", ParamType.Json, instance, { settings: value });
    expect(instance.settings).toBe(value);
  });

  it("a Json option given as JSON text is parsed", () => {
    const instance: Record<string, unknown> = {};
    setParameter("settings", ParamType.Json, instance, { settings: '{"a":{"b":true}}' });
    expect(instance.settings).toEqual({ a: { b: true } });
  });

  it("a JsonArray option given as JSON text is parsed", () => {
    const instance: Record<string, unknown> = {};
    setParameter("list", ParamType.JsonArray, instance, { list: "[1,2]" });
    expect(instance.list).toEqual([1, 2]);
  });

  it.each([
    ["a string for Integer", ParamType.Integer, "5"],
    ["1.5 for Integer", ParamType.Integer, 1.5],
    ['"true" for Boolean', ParamType.Boolean, "true"],
    ["1 for Boolean", ParamType.Boolean, 1],
    ["a number for String", ParamType.String, 5],
    ["a string for Number", ParamType.Number, "1.5"],
    ["NaN for Number", ParamType.Number, Number.NaN],
    ["bad JSON text for Json", ParamType.Json, "{bad"],
    ["an object for JsonArray", ParamType.JsonArray, { a: 1 }],
  ] as [string, ParamType, unknown][])("%s → Configuration", (_label, type, value) => {
    const instance: Record<string, unknown> = { param: "default" };
    expectCrossauthError(
      () => setParameter("param", type, instance, { param: value }),
      ErrorCode.Configuration,
    );
    expect(instance.param).toBe("default");
  });
});

describe("required parameters", () => {
  it('absent → Configuration with message "<param> is required"', () => {
    const e = expectCrossauthError(
      () => setParameter("siteUrl", ParamType.String, {}, {}, unsetEnv(), true),
      ErrorCode.Configuration,
    );
    expect(e.message).toBe("siteUrl is required");
    expect(e).toBeInstanceOf(CrossauthError);
  });

  it("a null option does not satisfy it", () => {
    const e = expectCrossauthError(
      () => setParameter("siteUrl", ParamType.String, {}, { siteUrl: null }, undefined, true),
      ErrorCode.Configuration,
    );
    expect(e.message).toBe("siteUrl is required");
  });

  it("satisfied by the environment", () => {
    const instance: Record<string, unknown> = {};
    setParameter("siteUrl", ParamType.String, instance, {}, env("https://example.com"), true);
    expect(instance.siteUrl).toBe("https://example.com");
  });

  it("satisfied by an option", () => {
    const instance: Record<string, unknown> = {};
    setParameter("siteUrl", ParamType.String, instance, { siteUrl: "https://a.test" }, undefined, true);
    expect(instance.siteUrl).toBe("https://a.test");
  });
});

describe("nested parameters", () => {
  it("inner.param sets inner_param", () => {
    const instance: Record<string, unknown> = {};
    setParameter("inner.param", ParamType.String, instance, { inner: { param: "x" } }, "INNER_PARAM");
    expect(instance.inner_param).toBe("x");
    expect(instance).not.toHaveProperty("inner");
  });

  it("inner.param falls back to the environment", () => {
    const instance: Record<string, unknown> = {};
    setParameter("inner.param", ParamType.Integer, instance, { inner: {} }, env("12"));
    expect(instance.inner_param).toBe(12);
  });

  it.each([
    ["no parent", {}],
    ["a null parent", { inner: null }],
    ["a string parent", { inner: "text" }],
  ])("%s leaves the default", (_label, options) => {
    const instance: Record<string, unknown> = { inner_param: "default" };
    setParameter("inner.param", ParamType.String, instance, options as Record<string, unknown>, unsetEnv());
    expect(instance.inner_param).toBe("default");
  });

  it("a missing nested parent with required → '<param> is required'", () => {
    const e = expectCrossauthError(
      () => setParameter("inner.param", ParamType.String, {}, {}, undefined, true),
      ErrorCode.Configuration,
    );
    expect(e.message).toBe("inner.param is required");
  });
});

describe("getOption, hasOption, attrName", () => {
  const options = { a: 1, b: null, c: { d: "x", e: { f: false } }, g: undefined };

  it("getOption walks dotted names", () => {
    expect(getOption("a", options)).toBe(1);
    expect(getOption("b", options)).toBeNull();
    expect(getOption("c.d", options)).toBe("x");
    expect(getOption("c.e.f", options)).toBe(false);
    expect(getOption("c.e", options)).toEqual({ f: false });
    expect(getOption("c.x", options)).toBeUndefined();
    expect(getOption("b.x", options)).toBeUndefined();
    expect(getOption("a.x", options)).toBeUndefined();
    expect(getOption("z", options)).toBeUndefined();
    expect(getOption("a", undefined)).toBeUndefined();
  });

  it("getOption ignores inherited properties", () => {
    expect(getOption("toString", {})).toBeUndefined();
    expect(getOption("c.constructor", options)).toBeUndefined();
  });

  it("hasOption is true for set, non-null values (false included)", () => {
    expect(hasOption("a", options)).toBe(true);
    expect(hasOption("c.e.f", options)).toBe(true);
    expect(hasOption("b", options)).toBe(false);
    expect(hasOption("g", options)).toBe(false);
    expect(hasOption("z", options)).toBe(false);
    expect(hasOption("c.x", options)).toBe(false);
    expect(hasOption("a", undefined)).toBe(false);
  });

  it("attrName replaces dots by underscores", () => {
    expect(attrName("param")).toBe("param");
    expect(attrName("inner.param")).toBe("inner_param");
    expect(attrName("a.b.c")).toBe("a_b_c");
  });
});
