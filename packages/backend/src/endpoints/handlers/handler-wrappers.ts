/**
 * Handler shapes the admin and client endpoints share: a JSON answer from an action, a page about
 * one thing named in the path (a user, a client), and admin pages with the admin navigation.
 * @module
 */
import type { EndpointDefinition, EndpointRequest, EndpointResult, EndpointServices } from "../endpoint.js";
import { apiError, apiOk, page, pageError } from "../endpoint-helpers.js";

/** An endpoint handler. */
type Handler = EndpointDefinition["handler"];

/**
 * An API handler: `{ok: true, ...data}` from `answer`, or the error shape of what it threw.
 * @param answer - the action, returning the answer's fields
 */
export function apiAnswer(
  answer: (request: EndpointRequest, services: EndpointServices) => Promise<Record<string, unknown>>,
): Handler {
  return async (request, services) => {
    try {
      return apiOk(await answer(request, services));
    } catch (e) {
      return apiError(e);
    }
  };
}

/**
 * A page handler about one thing named in the path: `find` loads it (when that fails, `missing`
 * answers, e.g. with the error page); then `show` answers. When `show` fails, `failed` answers
 * (e.g. the form again with the error); without `failed` the error propagates.
 */
export function pageAbout<T>(
  find: (request: EndpointRequest, services: EndpointServices) => Promise<T>,
  missing: (request: EndpointRequest, services: EndpointServices, error: unknown) => EndpointResult,
  show: (request: EndpointRequest, services: EndpointServices, found: T) => Promise<EndpointResult>,
  failed?: (request: EndpointRequest, services: EndpointServices, found: T, error: unknown) => EndpointResult,
): Handler {
  return async (request, services) => {
    let found: T;
    try {
      found = await find(request, services);
    } catch (e) {
      return missing(request, services, e);
    }
    try {
      return await show(request, services, found);
    } catch (e) {
      if (!failed) throw e;
      return failed(request, services, found, e);
    }
  };
}

/** Data every admin page gets: whether to link to the client list. */
function adminData(services: EndpointServices): Record<string, unknown> {
  return { clientsEnabled: services.options.enableOAuthClientManagement && !!services.clientManager };
}

/** An admin page (see `page`), with the admin navigation's data. */
export function adminPage(
  request: EndpointRequest,
  services: EndpointServices,
  template: string,
  titleKey: string,
  data: Record<string, unknown> = {},
): EndpointResult {
  return page(request, services, template, titleKey, { ...adminData(services), ...data });
}

/** An admin page showing an error (see `pageError`), with the admin navigation's data. */
export function adminPageError(
  request: EndpointRequest,
  services: EndpointServices,
  template: string,
  titleKey: string,
  error: unknown,
  data: Record<string, unknown> = {},
): EndpointResult {
  return pageError(request, services, template, titleKey, error, { ...adminData(services), ...data });
}
