/**
 * `EmailTemplates`: renders email bodies with Nunjucks (HTML autoescaped, text not), or with an
 * application-supplied render function.
 * @module
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";
import nunjucks from "nunjucks";
import { ParamType, setParameter } from "../config/index.js";

/** Renders a template to a string; replaces Nunjucks entirely when given. */
export type EmailRenderFunction = (
  template: string,
  data: Record<string, unknown>,
) => string | Promise<string>;

/** Where templates come from. `views` is also read from `CROSSAUTH_VIEWS`. */
export interface EmailTemplateOptions {
  /**
   * Directory of Nunjucks templates. Templates are looked up there first, then in the package's
   * default templates ({@link DEFAULT_VIEWS_DIR}), so a directory may override only some of them.
   */
  views?: string;
  /** If given, renders every template instead of Nunjucks (e.g. another template engine). */
  render?: EmailRenderFunction;
}

/**
 * The package's own `views` directory (default page and email templates). Found relative to this
 * module: `../../views` from both `src/email/` and `dist/email/` is `packages/backend/views`.
 */
export const DEFAULT_VIEWS_DIR: string = fileURLToPath(new URL("../../views", import.meta.url));

/**
 * Renders email bodies. HTML templates are rendered with autoescaping on, so user-controlled values
 * (user names, for instance) cannot inject markup; text templates are rendered as is.
 *
 * Template data may contain codes and tokens: it is never logged.
 */
export class EmailTemplates {
  /** Application template directory, searched before the defaults; undefined for defaults only. */
  views?: string;
  private readonly renderFn: EmailRenderFunction | undefined;
  private htmlEnv: nunjucks.Environment | undefined;
  private textEnv: nunjucks.Environment | undefined;

  /**
   * @param options - see {@link EmailTemplateOptions}
   * @throws CrossauthError `Configuration` when `views` is not a string or `render` is not a function
   */
  constructor(options: EmailTemplateOptions = {}) {
    setParameter("views", ParamType.String, this, options as Record<string, unknown>, "VIEWS");
    if (options.render !== undefined && typeof options.render !== "function") {
      throw new CrossauthError(ErrorCode.Configuration, "Option render must be a function");
    }
    this.renderFn = options.render;
    if (this.views !== undefined && !this.renderFn && !existsSync(this.views)) {
      CrossauthLogger.logger.warn(j({ msg: "Views directory does not exist", views: this.views }));
    }
  }

  /** A Nunjucks environment over the application's and the default templates. */
  private environment(autoescape: boolean): nunjucks.Environment {
    const searchPaths = this.views !== undefined ? [this.views, DEFAULT_VIEWS_DIR] : [DEFAULT_VIEWS_DIR];
    return new nunjucks.Environment(new nunjucks.FileSystemLoader(searchPaths), {
      autoescape,
      throwOnUndefined: false,
    });
  }

  /**
   * Renders an HTML template (autoescaped).
   * @param template - template file name relative to the views directory, e.g. `email/x.njk`
   * @param data - values for the template
   * @returns the rendered HTML
   * @throws CrossauthError `Configuration` when the template is missing or does not render
   */
  async renderHtml(template: string, data: Record<string, unknown>): Promise<string> {
    if (this.renderFn) return this.callRenderFn(template, data);
    this.htmlEnv ??= this.environment(true);
    return this.renderNunjucks(this.htmlEnv, template, data);
  }

  /**
   * Renders a plain-text template (not escaped).
   * @param template - template file name relative to the views directory, e.g. `email/x.njk`
   * @param data - values for the template
   * @returns the rendered text
   * @throws CrossauthError `Configuration` when the template is missing or does not render
   */
  async renderText(template: string, data: Record<string, unknown>): Promise<string> {
    if (this.renderFn) return this.callRenderFn(template, data);
    this.textEnv ??= this.environment(false);
    return this.renderNunjucks(this.textEnv, template, data);
  }

  private async callRenderFn(template: string, data: Record<string, unknown>): Promise<string> {
    let result: unknown;
    try {
      result = await this.renderFn?.(template, data);
    } catch (e) {
      throw this.renderError(template, e);
    }
    if (typeof result !== "string") {
      throw new CrossauthError(ErrorCode.Configuration, `Rendering ${template} did not produce a string`);
    }
    return result;
  }

  private renderNunjucks(env: nunjucks.Environment, template: string, data: Record<string, unknown>): string {
    try {
      return env.render(template, data);
    } catch (e) {
      throw this.renderError(template, e);
    }
  }

  /**
   * Logs a rendering failure and returns the error to throw. Neither the data nor the underlying
   * error's message is logged: either could contain the code being sent.
   */
  private renderError(template: string, e: unknown): CrossauthError {
    const notFound = e instanceof Error && /template not found/i.test(e.message);
    const message = notFound
      ? `Email template ${template} not found`
      : `Cannot render email template ${template}`;
    CrossauthLogger.logger.error(
      j({ msg: message, template, reason: e instanceof Error ? e.name : typeof e }),
    );
    return new CrossauthError(ErrorCode.Configuration, message);
  }
}
