/**
 * Rendering the default pages: Nunjucks templates with autoescaping on, overridable by name from an
 * application's own views directory, with the site's messages.
 * @module
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";
import nunjucks from "nunjucks";
import { defaultMessages, type Messages } from "./messages.js";

/** The package's own views directory (`packages/backend/views`), from `src/` or `dist/`. */
export const DEFAULT_PAGE_VIEWS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "views");

/** Options of {@link PageRenderer}. */
export interface PageRendererOptions {
  /** A directory searched before the defaults: a template of the same name overrides the default. */
  views?: string;
  /** Replacement texts (see {@link defaultMessages}). */
  messages?: Partial<Messages>;
  /** Replaces Nunjucks entirely: `(template, data) => html`. */
  render?: (template: string, data: Record<string, unknown>) => string | Promise<string>;
}

/** Renders page templates (`pages/<name>.njk`). */
export class PageRenderer {
  /** The messages every page receives as `m`. */
  readonly messages: Messages;
  private readonly env: nunjucks.Environment;
  private readonly customRender: PageRendererOptions["render"];

  /**
   * @param options - see {@link PageRendererOptions}
   * @throws CrossauthError `Configuration` when `views` does not exist
   */
  constructor(options: PageRendererOptions = {}) {
    if (options.views !== undefined && !existsSync(options.views)) {
      throw new CrossauthError(ErrorCode.Configuration, `Views directory ${options.views} does not exist`);
    }
    const paths = options.views ? [options.views, DEFAULT_PAGE_VIEWS_DIR] : [DEFAULT_PAGE_VIEWS_DIR];
    this.env = new nunjucks.Environment(new nunjucks.FileSystemLoader(paths, { noCache: false }), {
      autoescape: true,
      throwOnUndefined: false,
    });
    this.messages = { ...defaultMessages, ...options.messages };
    this.customRender = options.render;
  }

  /**
   * Renders a page.
   * @param template - name under `pages/`, without extension, e.g. `login`
   * @param data - the page's data; `m` (messages) is added
   * @returns the HTML
   * @throws CrossauthError `Configuration` when the template is missing or fails
   */
  async render(template: string, data: Record<string, unknown>): Promise<string> {
    const full = { ...data, m: this.messages };
    const name = `pages/${template}.njk`;
    if (this.customRender) return this.customRender(name, full);
    try {
      return this.env.render(name, full);
    } catch (err) {
      CrossauthLogger.logger.error(j({ msg: "Page template failed", template: name, err }));
      throw new CrossauthError(ErrorCode.Configuration, `Page template ${name} could not be rendered`);
    }
  }
}
