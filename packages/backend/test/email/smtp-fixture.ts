/**
 * A real SMTP listener for tests (the `smtp-server` package) on a free local port, collecting and
 * parsing (`mailparser`) every message it accepts. Also captures Crossauth log output.
 */
import { createServer } from "node:net";
import { CrossauthLogger } from "@crossauth/common";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A message the fixture accepted. */
export interface ReceivedMail {
  /** Envelope sender (MAIL FROM). */
  envelopeFrom: string;
  /** Envelope recipients (RCPT TO). */
  envelopeTo: string[];
  /** The parsed message. */
  parsed: ParsedMail;
}

/** How the fixture behaves. */
export interface SmtpFixtureOptions {
  /** SMTP reply code to reject a recipient with (e.g. 550 permanent, 450 temporary), or undefined to accept. */
  rejectRecipient?: (address: string) => number | undefined;
  /** Credentials the server requires (AUTH over plain text, as on a local test server). */
  credentials?: { username: string; password: string };
}

/** An error carrying an SMTP reply code, as smtp-server expects from its handlers. */
function smtpReply(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

/** A running SMTP listener. */
export class SmtpFixture {
  /** Messages accepted so far, in order. */
  readonly messages: ReceivedMail[] = [];
  /** Port the listener is bound to. */
  port = 0;
  private readonly server: SMTPServer;

  private constructor(options: SmtpFixtureOptions) {
    const credentials = options.credentials;
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: credentials ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
      authOptional: !credentials,
      allowInsecureAuth: true,
      logger: false,
      onAuth: (auth, _session, callback) => {
        if (credentials && auth.username === credentials.username && auth.password === credentials.password) {
          callback(null, { user: auth.username });
        } else {
          callback(smtpReply(535, "Authentication failed"));
        }
      },
      onRcptTo: (address, _session, callback) => {
        const code = options.rejectRecipient?.(address.address);
        callback(code === undefined ? null : smtpReply(code, "Recipient rejected"));
      },
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            const from = session.envelope.mailFrom;
            this.messages.push({
              envelopeFrom: from ? from.address : "",
              envelopeTo: session.envelope.rcptTo.map((a) => a.address),
              parsed,
            });
            callback();
          })
          .catch((e: Error) => callback(e));
      },
    });
  }

  /** Starts a listener on 127.0.0.1 and a free port. */
  static async start(options: SmtpFixtureOptions = {}): Promise<SmtpFixture> {
    const fixture = new SmtpFixture(options);
    await new Promise<void>((resolve, reject) => {
      fixture.server.once("error", reject);
      fixture.server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = fixture.server.server.address();
    if (address === null || typeof address === "string") throw new Error("SMTP fixture has no TCP port");
    fixture.port = address.port;
    return fixture;
  }

  /** The last message accepted; fails when there is none. */
  last(): ReceivedMail {
    const mail = this.messages[this.messages.length - 1];
    if (!mail) throw new Error("No message received");
    return mail;
  }

  /** Stops the listener. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A local port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("No TCP port");
  return address.port;
}

/** Captures everything Crossauth logs (as JSON lines) until {@link LogCapture.restore}. */
export class LogCapture {
  /** Every record logged, serialised. */
  readonly lines: string[] = [];

  constructor() {
    const push = (output: unknown) => {
      this.lines.push(typeof output === "string" ? output : JSON.stringify(output));
    };
    CrossauthLogger.setLogger({ error: push, warn: push, info: push, debug: push }, true);
  }

  /** All captured output as one string. */
  text(): string {
    return this.lines.join("\n");
  }

  /** Puts the default logger back. */
  restore(): void {
    CrossauthLogger.setLogger(new CrossauthLogger(), true);
  }
}
