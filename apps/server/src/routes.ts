/**
 * The reference server's own routes: the home page and the health check.
 * @module
 */
import { SECURITY_HEADERS } from "@crossauth/fastify";
import type { FastifyInstance } from "fastify";
import type { CrossauthServices } from "./services.js";

/**
 * `GET /`: who is logged in with links to their account pages (their OAuth clients when client
 * management is served; for admins, the user administration when admin endpoints are served) and a
 * logout button, or links to log in and sign up. Rendered from `pages/home.njk` by the Crossauth
 * plugin's page renderer (so the same views and messages apply), with the endpoints' security
 * headers; never cached. Register it after `crossauthPlugin`.
 */
export function registerHomePage(app: FastifyInstance, services: CrossauthServices): void {
  const { sessionManager } = services;
  app.get("/", async (request, reply) => {
    const { pages, options } = app.crossauth;
    const admin = request.user !== undefined && options.isAdminFn(request.user);
    const pageUrl = (name: string) =>
      app.crossauth.routes().find((r) => r.method === "GET" && r.definition.name === name)?.fullPath;
    const html = await pages.render("home", {
      title: pages.messages.homeTitle,
      siteName: options.siteName,
      prefix: options.prefix,
      user: request.user,
      csrfToken: request.csrfToken,
      factor2Enabled: sessionManager.allowedFactor2.length > 0,
      passwordResetEnabled: sessionManager.enablePasswordReset,
      adminUrl: admin ? pageUrl("admin/selectuser") : undefined,
      clientsUrl: request.user !== undefined ? pageUrl("selectclient") : undefined,
    });
    return reply.headers(SECURITY_HEADERS).type("text/html; charset=utf-8").send(html);
  });
}

/**
 * `GET /health`: `{ok: true, database: "up"}` when a query on the user table succeeds, else 503
 * `{ok: false, database: "down"}` (the reason is logged, not returned). Probes carry no cookies, so
 * the route is marked to skip the plugin's session and CSRF hook (which would need the database too).
 */
export function registerHealthCheck(app: FastifyInstance, services: CrossauthServices): void {
  app.get("/health", { config: { crossauthEndpoint: true } }, async (request, reply) => {
    try {
      await services.userStorage.getUsers(0, 1);
      return reply.header("cache-control", "no-store").send({ ok: true, database: "up" });
    } catch (e) {
      request.log.error({ err: e }, "Health check: database query failed");
      return reply.code(503).header("cache-control", "no-store").send({ ok: false, database: "down" });
    }
  });
}
