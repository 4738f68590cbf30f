/**
 * The single verification key configured in options (`jwtSecretKey(File)` or `jwtPublicKey(File)`),
 * for resource servers that share a key with their authorization server instead of using a JWKS.
 * @module
 */
import { readFile } from "node:fs/promises";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { isHmacAlgorithm, isJwsAlgorithm } from "./algorithms.js";
import { importPublicKeyPem, importSecretKey, type VerificationKey } from "./verification-key.js";

/** Where the configured key comes from. At most one of the four is set. */
export interface StaticKeySource {
  /** JWS algorithm the key signs with (e.g. `RS256`, `HS256`); pins the key to it when set. */
  jwtKeyType?: string | undefined;
  /** HMAC secret. */
  jwtSecretKey?: string | undefined;
  /** File holding the HMAC secret. */
  jwtSecretKeyFile?: string | undefined;
  /** PEM public key. */
  jwtPublicKey?: string | undefined;
  /** File holding the PEM public key. */
  jwtPublicKeyFile?: string | undefined;
}

function configError(message: string): CrossauthError {
  return new CrossauthError(ErrorCode.Configuration, message);
}

/**
 * Checks a key source without reading files: at most one key, and `jwtKeyType` an algorithm of the
 * right kind (HS* for a secret, any other for a public key).
 * @param source - the configured options
 * @returns whether a static key is configured
 * @throws CrossauthError `Configuration` for several keys, an unknown `jwtKeyType`, or one that does
 *   not fit the kind of key given
 */
export function checkStaticKeySource(source: StaticKeySource): boolean {
  const given = [source.jwtSecretKey, source.jwtSecretKeyFile, source.jwtPublicKey, source.jwtPublicKeyFile];
  const count = given.filter((v) => v !== undefined && v !== "").length;
  if (count > 1) {
    throw configError("Give only one of jwtSecretKey, jwtSecretKeyFile, jwtPublicKey and jwtPublicKeyFile");
  }
  if (count === 0) return false;
  const { jwtKeyType } = source;
  if (jwtKeyType !== undefined && jwtKeyType !== "") {
    if (!isJwsAlgorithm(jwtKeyType))
      throw configError(`jwtKeyType ${jwtKeyType} is not a supported algorithm`);
    const secret = Boolean(source.jwtSecretKey || source.jwtSecretKeyFile);
    if (secret !== isHmacAlgorithm(jwtKeyType)) {
      throw configError(
        secret
          ? `jwtKeyType ${jwtKeyType} needs a public key, not a secret`
          : `jwtKeyType ${jwtKeyType} needs a secret key, not a public key`,
      );
    }
  }
  return true;
}

async function readKeyFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    throw configError(`${what} file could not be read`);
  }
}

/**
 * Loads the configured key, reading its file if needed. A secret read from a file loses its trailing
 * line breaks (editors and `echo` add one).
 * @param source - the configured options
 * @returns the key, or `undefined` when none is configured
 * @throws CrossauthError `Configuration` for a bad configuration, an unreadable file, an invalid PEM
 *   or a secret under 32 bytes; `UnsupportedAlgorithm` when `jwtKeyType` does not fit the key
 */
export async function loadStaticKey(source: StaticKeySource): Promise<VerificationKey | undefined> {
  if (!checkStaticKeySource(source)) return undefined;
  const pinned = source.jwtKeyType || undefined;
  if (source.jwtSecretKey) return importSecretKey(source.jwtSecretKey, pinned);
  if (source.jwtSecretKeyFile) {
    const secret = (await readKeyFile(source.jwtSecretKeyFile, "JWT secret key")).replace(/[\r\n]+$/, "");
    return importSecretKey(secret, pinned);
  }
  const pem = source.jwtPublicKey || (await readKeyFile(source.jwtPublicKeyFile ?? "", "JWT public key"));
  return importPublicKeyPem(pem, pinned);
}
