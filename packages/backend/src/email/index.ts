/** Email: the SMTP transport, the template renderer and the token emailer built on them. @module */
export * from "./email-address.js";
export * from "./email-templates.js";
export * from "./email-transport.js";
export * from "./token-emailer.js";
