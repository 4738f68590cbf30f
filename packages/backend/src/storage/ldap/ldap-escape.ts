/**
 * Escaping values placed in LDAP distinguished names (RFC 4514) and search filters (RFC 4515), so a
 * username such as `bob,ou=admins` or `*)(uid=*` stays one literal value.
 * @module
 */

/** Two-digit upper-case hex escape of one character code below 0x100 (`\2A`). */
function hexEscape(char: string): string {
  return `\\${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
}

/** Characters that are escaped with a backslash wherever they appear in a DN attribute value. */
const DN_SPECIAL = new Set(['"', "+", ",", ";", "<", ">", "\\", "="]);

/** C0 controls and DEL: escaped as hex pairs so a DN never carries raw control bytes. */
function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

/**
 * Escapes an attribute value for use in a distinguished name, per RFC 4514 section 2.4:
 * `"` `+` `,` `;` `<` `>` `\` (and `=`, which RFC 4514 allows escaping) get a backslash; a leading
 * space or `#` and a trailing space get a backslash; NUL and other control characters become hex
 * pairs (`\00`, `\0A`). Other characters, including non-ASCII ones, are kept as they are (UTF-8).
 *
 * @param value - the raw value, e.g. a username
 * @returns the escaped value, e.g. `escapeDnValue("Smith, John")` → `"Smith\, John"`
 */
export function escapeDnValue(value: string): string {
  const chars = Array.from(value);
  return chars
    .map((char, index) => {
      if (char === "\0" || isControl(char)) return hexEscape(char);
      if (DN_SPECIAL.has(char)) return `\\${char}`;
      if (index === 0 && (char === " " || char === "#")) return `\\${char}`;
      if (index === chars.length - 1 && char === " ") return `\\${char}`;
      return char;
    })
    .join("");
}

/** Characters RFC 4515 requires to be escaped in a filter assertion value. */
const FILTER_SPECIAL = new Set(["*", "(", ")", "\\", "\0"]);

/**
 * Escapes an assertion value for use in a search filter, per RFC 4515 section 3: `*` → `\2a`,
 * `(` → `\28`, `)` → `\29`, `\` → `\5c`, NUL → `\00`. Other characters, including non-ASCII ones,
 * are kept (UTF-8).
 *
 * @param value - the raw value, e.g. a username
 * @returns the escaped value, e.g. `escapeFilterValue("*)(uid=*")` → `"\2a\29\28uid=\2a"`
 */
export function escapeFilterValue(value: string): string {
  return Array.from(value)
    .map((char) => (FILTER_SPECIAL.has(char) ? hexEscape(char).toLowerCase() : char))
    .join("");
}
