/**
 * `setParameter`: reads one configuration value from constructor options, else from a
 * `CROSSAUTH_*` environment variable, else leaves the default in place.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";

/** How a configuration value is parsed. Numbers match the reference document. */
export const ParamType = Object.freeze({
  String: 1,
  Number: 2,
  Integer: 3,
  Boolean: 4,
  Json: 5,
  JsonArray: 6,
} as const);
/** A {@link ParamType} number. */
export type ParamType = (typeof ParamType)[keyof typeof ParamType];

/** Prefix of every Crossauth environment variable. */
export const ENV_PREFIX = "CROSSAUTH_";

const INTEGER = /^[+-]?[0-9]+$/;

/**
 * Looks up a (possibly dotted) option name: `inner.param` reads `options.inner.param`.
 * @param param - option name
 * @param options - the options object
 * @returns the value, or `undefined` when any step is missing
 */
export function getOption(param: string, options: Record<string, unknown> | undefined): unknown {
  let node: unknown = options;
  for (const part of param.split(".")) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * Whether an option is present (set and not null).
 * @param param - option name, possibly dotted
 * @param options - the options object
 */
export function hasOption(param: string, options: Record<string, unknown> | undefined): boolean {
  const value = getOption(param, options);
  return value !== undefined && value !== null;
}

/**
 * The instance attribute a parameter is stored in: dots become `_` (`inner.param` → `inner_param`).
 * @param param - option name
 */
export function attrName(param: string): string {
  return param.replace(/\./g, "_");
}

function configError(message: string): CrossauthError {
  return new CrossauthError(ErrorCode.Configuration, message);
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw configError(`${source} is not valid JSON`);
  }
}

/** Checks and converts an option value given in code. */
function fromOption(value: unknown, type: ParamType, param: string): unknown {
  switch (type) {
    case ParamType.String:
      if (typeof value !== "string") throw configError(`Option ${param} must be a string`);
      return value;
    case ParamType.Number:
      if (typeof value !== "number" || !Number.isFinite(value))
        throw configError(`Option ${param} must be a number`);
      return value;
    case ParamType.Integer:
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw configError(`Option ${param} must be an integer`);
      }
      return value;
    case ParamType.Boolean:
      if (typeof value !== "boolean") throw configError(`Option ${param} must be a boolean`);
      return value;
    case ParamType.Json: {
      const parsed = typeof value === "string" ? parseJson(value, `Option ${param}`) : value;
      if (parsed === null || typeof parsed !== "object")
        throw configError(`Option ${param} must be a JSON object`);
      return parsed;
    }
    case ParamType.JsonArray: {
      const parsed = typeof value === "string" ? parseJson(value, `Option ${param}`) : value;
      if (!Array.isArray(parsed)) throw configError(`Option ${param} must be a JSON array`);
      return parsed;
    }
  }
  throw configError(`Unknown parameter type for ${param}`);
}

/** Converts an environment variable's text. `"null"` is null for every type. */
function fromEnv(text: string, type: ParamType, variable: string): unknown {
  if (text === "null") return null;
  switch (type) {
    case ParamType.String:
      return text;
    case ParamType.Number: {
      const n = text.trim() === "" ? Number.NaN : Number(text);
      if (!Number.isFinite(n)) throw configError(`${variable} must be a number`);
      return n;
    }
    case ParamType.Integer:
      if (!INTEGER.test(text.trim())) throw configError(`${variable} must be an integer`);
      return Number.parseInt(text, 10);
    case ParamType.Boolean: {
      const t = text.trim().toLowerCase();
      return t === "1" || t === "true";
    }
    case ParamType.Json: {
      const parsed = parseJson(text, variable);
      if (parsed === null || typeof parsed !== "object")
        throw configError(`${variable} must be a JSON object`);
      return parsed;
    }
    case ParamType.JsonArray: {
      const parsed = parseJson(text, variable);
      if (!Array.isArray(parsed)) throw configError(`${variable} must be a JSON array`);
      return parsed;
    }
  }
  throw configError(`Unknown parameter type for ${variable}`);
}

/**
 * Sets `instance[attrName(param)]` from, in order of precedence: the option `param` when present and
 * not null; else the environment variable `CROSSAUTH_<envName>` when `envName` is given and the
 * variable is set; else leaves the attribute (its default) unchanged.
 *
 * Environment text is parsed by type: `"null"` → null; Boolean is true for `1`/`true` in any case and
 * false otherwise; Integer rejects fractions; Json/JsonArray are parsed. Options given in code must
 * already have the right type (Json/JsonArray options may also be JSON text).
 *
 * @param param - option name; dotted names (`inner.param`) walk nested options into `inner_param`
 * @param type - how to parse the value
 * @param instance - object whose attribute is set
 * @param options - the options passed by the application
 * @param envName - variable name without the `CROSSAUTH_` prefix, e.g. `SESSION_IDLE_TIMEOUT`
 * @param required - when true, absence from both options and environment is an error
 * @throws CrossauthError `Configuration` when required and absent ("<param> is required"), when an
 *   option has the wrong type, or when an environment value does not parse (naming the variable)
 */
export function setParameter(
  param: string,
  type: ParamType,
  instance: object,
  options: Record<string, unknown> | undefined,
  envName?: string,
  required = false,
): void {
  const target = instance as Record<string, unknown>;
  const key = attrName(param);
  const option = getOption(param, options);
  if (option !== undefined && option !== null) {
    target[key] = fromOption(option, type, param);
    return;
  }
  if (envName) {
    const variable = ENV_PREFIX + envName;
    const text = process.env[variable];
    if (text !== undefined) {
      target[key] = fromEnv(text, type, variable);
      return;
    }
  }
  if (required) throw configError(`${param} is required`);
}
