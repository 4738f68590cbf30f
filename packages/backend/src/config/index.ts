/** Configuration: options, then `CROSSAUTH_*` environment variables, then defaults. @module */
export { loadDotEnv } from "./dot-env.js";
export { attrName, ENV_PREFIX, getOption, hasOption, ParamType, setParameter } from "./set-parameter.js";
