/**
 * `Crypto`: the reference document's crypto class — every primitive of wire-formats.md as a static
 * member. The same functions are exported individually by this module's siblings.
 * @module
 */
import {
  base64Pad,
  base64ToBase64url,
  base64urlToBase64,
  base64urlToBytes,
  base64urlToStr,
  strToBase64url,
} from "./base64.js";
import { decodePasswordHash, encodePasswordHash, passwordHash, passwordsEqual } from "./password-hash.js";
import { BASE32_ALPHABET, randomBase32, randomSalt, randomValue, uuid } from "./random.js";
import { hash, sha256, sign, signableToken, signSecureToken, unsign, unsignSecureToken } from "./signing.js";
import { symmetricDecrypt, symmetricEncrypt, xor } from "./symmetric.js";

/**
 * Hashing, signing, encryption and randomness in the formats every Crossauth deployment shares.
 * Password hashing is asynchronous; every comparison of secrets is constant-time.
 * Each member is documented at the function it refers to.
 */
export class Crypto {
  /** Alphabet of {@link randomBase32}. */
  static readonly Base32 = BASE32_ALPHABET;
  /** See {@link passwordHash}. */
  static readonly passwordHash = passwordHash;
  /** See {@link passwordsEqual}. */
  static readonly passwordsEqual = passwordsEqual;
  /** See {@link encodePasswordHash}. */
  static readonly encodePasswordHash = encodePasswordHash;
  /** See {@link decodePasswordHash}. */
  static readonly decodePasswordHash = decodePasswordHash;
  /** See {@link randomSalt}. */
  static readonly randomSalt = randomSalt;
  /** See {@link randomValue}. */
  static readonly randomValue = randomValue;
  /** See {@link randomBase32}. */
  static readonly randomBase32 = randomBase32;
  /** See {@link uuid}. */
  static readonly uuid = uuid;
  /** See {@link hash}. */
  static readonly hash = hash;
  /** See {@link sha256}. */
  static readonly sha256 = sha256;
  /** See {@link base64Pad}. */
  static readonly base64Pad = base64Pad;
  /** See {@link base64ToBase64url}. */
  static readonly base64ToBase64url = base64ToBase64url;
  /** See {@link base64urlToBase64}. */
  static readonly base64urlToBase64 = base64urlToBase64;
  /** See {@link base64urlToStr}. */
  static readonly base64urlToStr = base64urlToStr;
  /** See {@link strToBase64url}. */
  static readonly strToBase64url = strToBase64url;
  /** See {@link signableToken}. */
  static readonly signableToken = signableToken;
  /** See {@link sign}. */
  static readonly sign = sign;
  /** See {@link unsign}. */
  static readonly unsign = unsign;
  /** See {@link signSecureToken}. */
  static readonly signSecureToken = signSecureToken;
  /** See {@link unsignSecureToken}. */
  static readonly unsignSecureToken = unsignSecureToken;
  /** See {@link xor}. */
  static readonly xor = xor;
  /** See {@link symmetricEncrypt}. */
  static readonly symmetricEncrypt = symmetricEncrypt;
  /** See {@link symmetricDecrypt}. */
  static readonly symmetricDecrypt = symmetricDecrypt;

  /**
   * Standard base64 (padded) of UTF-8 text.
   * @param text - text to encode
   */
  static base64Encode(text: string): string {
    return Buffer.from(text, "utf8").toString("base64");
  }

  /**
   * Decodes base64 or base64url (padded or not) to UTF-8 text.
   * @param encoded - encoded text
   * @throws CrossauthError `DataFormat` when not base64
   */
  static base64Decode(encoded: string): string {
    return base64urlToBytes(encoded).toString("utf8");
  }
}
