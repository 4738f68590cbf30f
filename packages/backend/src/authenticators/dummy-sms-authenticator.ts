/**
 * `DummySmsAuthenticator`: an SMS factor that keeps messages in memory instead of sending them.
 * @module
 */
import { randomValue } from "../crypto/random.js";
import { SmsAuthenticator } from "./sms-authenticator.js";

/** A message the {@link DummySmsAuthenticator} "sent". */
export interface DummySmsMessage {
  /** The recipient. */
  to: string;
  /** The sender (`smsAuthenticatorFrom`). */
  from: string;
  /** The message text. */
  body: string;
  /** The random message id returned. */
  id: string;
}

/**
 * Mocks sending SMS codes, for tests and demos: the last message and the last code are kept in
 * memory ({@link lastMessage}, {@link lastCode}). Takes the options of `SmsAuthenticator`.
 * Never use it in production.
 */
export class DummySmsAuthenticator extends SmsAuthenticator {
  /** The last message "sent", or undefined before the first one. */
  lastMessage: DummySmsMessage | undefined;
  private code: string | undefined;

  /** The code in the last message, or undefined before the first one. */
  get lastCode(): string | undefined {
    return this.code;
  }

  /**
   * Records the message instead of sending it.
   * @param to - the recipient
   * @param body - the message text
   * @returns a random message id
   */
  async sendSms(to: string, body: string): Promise<string> {
    const id = `DUMMY${randomValue(16)}`;
    this.lastMessage = { to, from: this.smsAuthenticatorFrom, body, id };
    return id;
  }

  /** Remembers the code, then renders and "sends" the message. */
  protected override async sendOtp(to: string, otp: string, username: string): Promise<string> {
    this.code = otp;
    return super.sendOtp(to, otp, username);
  }
}
