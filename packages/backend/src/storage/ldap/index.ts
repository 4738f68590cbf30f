/** LDAP user storage and the escaping it relies on. @module */
export { escapeDnValue, escapeFilterValue } from "./ldap-escape.js";
export {
  defaultCreateUserDn,
  LDAP_FACTOR1,
  type LdapCreateUserFn,
  type LdapUser,
  LdapUserStorage,
  type LdapUserStorageOptions,
} from "./ldap-user-storage.js";
