/**
 * Every endpoint definition Crossauth ships: the arrays exported by the `handlers/*-endpoints`
 * modules, in one list. The endpoint table serves those that are enabled.
 * @module
 */
import type { EndpointDefinition } from "./endpoint.js";
import { accountEndpoints } from "./handlers/account-endpoints.js";
import { adminUserEndpoints } from "./handlers/admin-user-endpoints.js";
import { adminClientEndpoints, clientEndpoints } from "./handlers/client-endpoints.js";
import { emailVerificationEndpoints } from "./handlers/email-verification-endpoints.js";
import { factor2Endpoints } from "./handlers/factor2-endpoints.js";
import { loginEndpoints } from "./handlers/login-endpoints.js";
import { passwordResetEndpoints } from "./handlers/password-reset-endpoints.js";
import { signupEndpoints } from "./handlers/signup-endpoints.js";

/** Every shipped endpoint definition. */
export const defaultEndpointDefinitions: readonly EndpointDefinition[] = Object.freeze([
  ...loginEndpoints,
  ...signupEndpoints,
  ...factor2Endpoints,
  ...accountEndpoints,
  ...emailVerificationEndpoints,
  ...passwordResetEndpoints,
  ...adminUserEndpoints,
  ...clientEndpoints,
  ...adminClientEndpoints,
]);
