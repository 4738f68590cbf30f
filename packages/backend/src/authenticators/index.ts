/** Authenticators: the factors users log in with. @module */
export * from "./authenticator.js";
export * from "./dummy-factor2-authenticator.js";
export * from "./dummy-sms-authenticator.js";
export * from "./email-authenticator.js";
export * from "./ldap-authenticator.js";
export * from "./local-password-authenticator.js";
export * from "./oidc-authenticator.js";
export * from "./one-time-code.js";
export * from "./sms-authenticator.js";
export * from "./totp-authenticator.js";
export * from "./twilio-authenticator.js";
