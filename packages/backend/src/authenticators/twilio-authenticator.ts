/**
 * `TwilioAuthenticator`: SMS codes sent through Twilio's REST API.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";
import { ParamType, setParameter } from "../config/set-parameter.js";
import { SmsAuthenticator, type SmsAuthenticatorOptions } from "./sms-authenticator.js";

/** Options of {@link TwilioAuthenticator}, besides those of {@link SmsAuthenticatorOptions}. */
export interface TwilioAuthenticatorOptions extends SmsAuthenticatorOptions {
  /** Twilio account SID (`CROSSAUTH_TWILIO_ACCOUNT_SID`); required. */
  twilioAccountSid?: string;
  /** Twilio auth token (`CROSSAUTH_TWILIO_AUTH_TOKEN`); required. */
  twilioAuthToken?: string;
  /** Base URL of the API; default `https://api.twilio.com` (`CROSSAUTH_TWILIO_API_BASE`). */
  twilioApiBase?: string;
  /** Milliseconds to wait for Twilio; default 30000 (`CROSSAUTH_TWILIO_TIMEOUT`). */
  twilioTimeout?: number;
}

/** Longest part of Twilio's error message that is passed on. */
const MAX_MESSAGE_LENGTH = 200;

/**
 * Sends SMS codes with Twilio's Messages API: `POST {apiBase}/2010-04-01/Accounts/{AccountSid}/Messages.json`
 * with form fields `To`, `From` and `Body`, authenticated with HTTP Basic `AccountSid:AuthToken`.
 * The sender is `smsAuthenticatorFrom` (a Twilio number or sender id).
 */
export class TwilioAuthenticator extends SmsAuthenticator {
  /** Base URL of the API (no trailing slash). */
  twilioApiBase = "https://api.twilio.com";
  /** Milliseconds to wait for a response. */
  twilioTimeout = 30_000;
  private twilioAccountSid = "";
  private twilioAuthToken = "";

  /**
   * @param options - see {@link TwilioAuthenticatorOptions}
   * @throws CrossauthError `Configuration` when the account SID, auth token or sender is missing,
   *   or an option has the wrong type
   */
  constructor(options: TwilioAuthenticatorOptions = {}) {
    super(options);
    const opts = options as Record<string, unknown>;
    setParameter("twilioAccountSid", ParamType.String, this, opts, "TWILIO_ACCOUNT_SID", true);
    setParameter("twilioAuthToken", ParamType.String, this, opts, "TWILIO_AUTH_TOKEN", true);
    setParameter("twilioApiBase", ParamType.String, this, opts, "TWILIO_API_BASE");
    setParameter("twilioTimeout", ParamType.Integer, this, opts, "TWILIO_TIMEOUT");
    if (!this.twilioAccountSid || !this.twilioAuthToken) {
      throw new CrossauthError(ErrorCode.Configuration, "twilioAccountSid and twilioAuthToken are required");
    }
    if (!this.smsAuthenticatorFrom) {
      throw new CrossauthError(ErrorCode.Configuration, "smsAuthenticatorFrom is required");
    }
    this.twilioApiBase = this.twilioApiBase.replace(/\/+$/, "");
  }

  /**
   * Sends a message through Twilio.
   * @param to - the recipient, E.164
   * @param body - the message text
   * @returns Twilio's message SID
   * @throws CrossauthError `Connection` when Twilio cannot be reached or does not answer in time;
   *   `FetchError` with Twilio's status and message when it refuses the request or its answer has no SID
   */
  async sendSms(to: string, body: string): Promise<string> {
    const url = `${this.twilioApiBase}/2010-04-01/Accounts/${encodeURIComponent(this.twilioAccountSid)}/Messages.json`;
    const credentials = Buffer.from(`${this.twilioAccountSid}:${this.twilioAuthToken}`, "utf8").toString(
      "base64",
    );
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: {
          Authorization: `Basic ${credentials}`,
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
        },
        body: new URLSearchParams({ To: to, From: this.smsAuthenticatorFrom, Body: body }).toString(),
        signal: AbortSignal.timeout(this.twilioTimeout),
      });
      text = await response.text();
    } catch {
      CrossauthLogger.logger.error(j({ msg: "Cannot reach Twilio", url: this.twilioApiBase }));
      throw new CrossauthError(ErrorCode.Connection, "Cannot reach Twilio");
    }
    const json = parseJson(text);
    if (!response.ok) {
      const message = typeof json.message === "string" ? json.message.slice(0, MAX_MESSAGE_LENGTH) : "";
      CrossauthLogger.logger.error(
        j({ msg: "Twilio refused the message", status: response.status, twilioCode: json.code }),
      );
      throw new CrossauthError(
        ErrorCode.FetchError,
        `Twilio error ${response.status}${message ? `: ${message}` : ""}`,
      );
    }
    if (typeof json.sid !== "string" || json.sid === "") {
      throw new CrossauthError(ErrorCode.FetchError, "Twilio's response has no message SID");
    }
    return json.sid;
  }
}

/** Parses a response body as a JSON object; anything else is `{}`. */
function parseJson(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
