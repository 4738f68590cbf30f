/**
 * `EmailTransport`: sends email over SMTP with nodemailer, or prints it to the console in
 * development. The one place SMTP options are read, so every part of the backend that sends email
 * (the email authenticator, the token emailer) shares it.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";
import nodemailer, { type Transporter } from "nodemailer";
import { ParamType, setParameter } from "../config/index.js";

/** How messages leave: `smtp` sends them; `console` prints them to standard output (development only). */
export type EmailTransportKind = "smtp" | "console";

/** SMTP options, each also read from `CROSSAUTH_<NAME>` (e.g. `CROSSAUTH_SMTP_HOST`). */
export interface EmailTransportOptions {
  /** `smtp` (default) or `console`: print each message (From, To, Subject, text body) to standard
   * output instead of sending it, for development without a mail server (`CROSSAUTH_EMAIL_TRANSPORT`).
   * Bodies carry codes and tokens: never use `console` in production. */
  emailTransport?: EmailTransportKind;
  /** Host name of the SMTP server. No default: required when sending. */
  smtpHost?: string;
  /** Port of the SMTP server. Default 25. */
  smtpPort?: number;
  /** User name for SMTP authentication. Default none (no authentication). */
  smtpUsername?: string;
  /** Password for SMTP authentication. Never logged. */
  smtpPassword?: string;
  /** Whether the connection uses TLS from the start (SMTPS, usually port 465). Default false
   * (plain connection, upgraded with STARTTLS when the server offers it). */
  smtpUseTls?: boolean;
  /** Sender (`From`) of every message, e.g. `"Example <noreply@example.com>"`. Required when sending. */
  emailFrom?: string;
}

/** One message to send. Bodies are rendered already (see `EmailTemplates`). */
export interface EmailMessage {
  /** Recipient address. */
  to: string;
  /** Subject line. */
  subject: string;
  /** Plain-text body. */
  text: string;
  /** HTML body. */
  html: string;
}

/** How long to wait for the TCP connection and for the server's greeting, in ms. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Longest silence tolerated on an open SMTP connection, in ms. */
const SOCKET_TIMEOUT_MS = 30_000;

/** Nodemailer error codes meaning the server could not be reached or the conversation broke down. */
const connectionErrorCodes = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ETLS",
  "EREQUIRETLS",
  "EPROXY",
  "EPROTOCOL",
]);

/** The fields of a nodemailer error that say what went wrong (never its message or the mail). */
interface SmtpErrorFields {
  code?: unknown;
  responseCode?: unknown;
  permanent?: unknown;
  originalCode?: unknown;
}

/**
 * Turns a nodemailer failure into a `CrossauthError` with a code saying what went wrong.
 * @param e - what nodemailer threw
 * @param where - `host:port` of the server, for the message
 */
function smtpError(e: unknown, where: string): CrossauthError {
  const fields: SmtpErrorFields = typeof e === "object" && e !== null ? (e as SmtpErrorFields) : {};
  const code = typeof fields.code === "string" ? fields.code : "";
  if (code === "EAUTH" || code === "ENOAUTH") {
    return new CrossauthError(ErrorCode.Configuration, `The SMTP server at ${where} refused the credentials`);
  }
  if (code === "EENVELOPE" && fields.permanent === true) {
    return new CrossauthError(ErrorCode.InvalidEmail, "The mail server rejected the email address");
  }
  if (connectionErrorCodes.has(code)) {
    return new CrossauthError(ErrorCode.Connection, `Cannot reach the SMTP server at ${where}`);
  }
  return new CrossauthError(ErrorCode.Connection, `The SMTP server at ${where} did not accept the message`);
}

/** The readable form of a message printed by the `console` transport. */
function consoleText(from: string | undefined, message: EmailMessage, messageId: string): string {
  const lines = [
    "----- email (console transport: not sent) -----",
    ...(from ? [`From: ${from}`] : []),
    `To: ${message.to}`,
    `Subject: ${message.subject}`,
    `Message-ID: ${messageId}`,
    "",
    message.text,
    "----- end of email -----",
    "",
  ];
  return lines.join("\n");
}

/**
 * Sends email through an SMTP server, or prints it (`emailTransport: "console"`). The nodemailer
 * transport is created on the first send and reused afterwards.
 *
 * Logs recipients and message ids only: bodies (they carry codes and tokens) and the SMTP password
 * are never logged. The `console` transport prints the text body to standard output on purpose.
 */
export class EmailTransport {
  /** `smtp` sends messages; `console` prints them. */
  emailTransport: EmailTransportKind = "smtp";
  /** SMTP server host name; required when sending. */
  smtpHost?: string;
  /** SMTP server port. */
  smtpPort = 25;
  /** SMTP user name, if the server needs authentication. */
  smtpUsername?: string;
  /** Whether the connection uses TLS from the start. */
  smtpUseTls = false;
  /** Sender of every message; required when sending. */
  emailFrom?: string;
  /** Kept out of enumeration so that logging or serialising the transport cannot reveal it. */
  readonly #smtpPassword: string | undefined;
  #transporter: Transporter | undefined;

  /**
   * @param options - see {@link EmailTransportOptions}; options win over `CROSSAUTH_*` variables
   * @throws CrossauthError `Configuration` when an option has the wrong type, `emailTransport` is
   *   neither `smtp` nor `console`, or the port is out of range
   */
  constructor(options: EmailTransportOptions = {}) {
    const opts = options as Record<string, unknown>;
    setParameter("emailTransport", ParamType.String, this, opts, "EMAIL_TRANSPORT");
    if (this.emailTransport !== "smtp" && this.emailTransport !== "console") {
      throw new CrossauthError(ErrorCode.Configuration, "emailTransport must be smtp or console");
    }
    setParameter("smtpHost", ParamType.String, this, opts, "SMTP_HOST");
    setParameter("smtpPort", ParamType.Integer, this, opts, "SMTP_PORT");
    setParameter("smtpUsername", ParamType.String, this, opts, "SMTP_USERNAME");
    setParameter("smtpUseTls", ParamType.Boolean, this, opts, "SMTP_USE_TLS");
    setParameter("emailFrom", ParamType.String, this, opts, "EMAIL_FROM");
    const secret: { smtpPassword?: string } = {};
    setParameter("smtpPassword", ParamType.String, secret, opts, "SMTP_PASSWORD");
    this.#smtpPassword = secret.smtpPassword;
    if (this.smtpPort < 1 || this.smtpPort > 65535) {
      throw new CrossauthError(ErrorCode.Configuration, "smtpPort must be between 1 and 65535");
    }
  }

  /** The nodemailer transport, created on first use. */
  private transporter(): Transporter {
    if (!this.smtpHost)
      throw new CrossauthError(ErrorCode.Configuration, "smtpHost is required to send email");
    if (!this.emailFrom)
      throw new CrossauthError(ErrorCode.Configuration, "emailFrom is required to send email");
    this.#transporter ??= nodemailer.createTransport({
      host: this.smtpHost,
      port: this.smtpPort,
      secure: this.smtpUseTls,
      auth: this.smtpUsername ? { user: this.smtpUsername, pass: this.#smtpPassword ?? "" } : undefined,
      connectionTimeout: CONNECT_TIMEOUT_MS,
      greetingTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
    return this.#transporter;
  }

  /**
   * Sends one message from {@link EmailTransport.emailFrom} (with the `console` transport: prints it).
   * @param message - recipient, subject and rendered bodies
   * @returns the message id assigned to the message
   * @throws CrossauthError `Configuration` when `smtpHost` or `emailFrom` is missing or the server refuses
   *   the SMTP credentials; `InvalidEmail` when the server permanently rejects the recipient;
   *   `Connection` when the server cannot be reached or does not accept the message
   */
  async send(message: EmailMessage): Promise<string> {
    if (this.emailTransport === "console") return this.print(message);
    const transporter = this.transporter();
    const where = `${this.smtpHost}:${this.smtpPort}`;
    try {
      const info = await transporter.sendMail({
        from: this.emailFrom,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
      CrossauthLogger.logger.info(j({ msg: "Sent email", to: message.to, messageId: info.messageId }));
      return info.messageId;
    } catch (e) {
      const error = smtpError(e, where);
      const fields: SmtpErrorFields = typeof e === "object" && e !== null ? (e as SmtpErrorFields) : {};
      CrossauthLogger.logger.error(
        j({
          msg: "Failed to send email",
          to: message.to,
          smtpServer: where,
          smtpErrorCode: fields.code,
          smtpOriginalCode: fields.originalCode,
          smtpResponseCode: fields.responseCode,
          errorCode: error.code,
        }),
      );
      throw error;
    }
  }

  /** The `console` transport: nodemailer's JSON transport assigns the message id; the message is printed. */
  private async print(message: EmailMessage): Promise<string> {
    this.#transporter ??= nodemailer.createTransport({ jsonTransport: true });
    const info = await this.#transporter.sendMail({
      from: this.emailFrom,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    process.stdout.write(consoleText(this.emailFrom, message, info.messageId));
    CrossauthLogger.logger.info(
      j({ msg: "Printed email to the console", to: message.to, messageId: info.messageId }),
    );
    return info.messageId;
  }

  /** Closes the transport's connections, if any were opened. Sending again opens a new one. */
  close(): void {
    this.#transporter?.close();
    this.#transporter = undefined;
  }
}
