/**
 * Every route the control plane registers, in registration order: collected by an onRoute hook installed before
 * the first route, so nothing escapes it. The authorization layer checks each against its policy; the OpenAPI
 * document and the HTTP reference are rendered from it.
 */
import type { FastifyInstance, RouteOptions } from "fastify";

/** A route as registered: one method, the URL pattern (`/api/2.0/slipway/monitors/:name`). */
export interface RegisteredRoute {
  method: string;
  url: string;
}

const catalogs = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Starts collecting `app`'s routes (call before registering any); returns the live list. */
export function collectRoutes(app: FastifyInstance): RegisteredRoute[] {
  const existing = catalogs.get(app);
  if (existing) return existing;
  const routes: RegisteredRoute[] = [];
  catalogs.set(app, routes);
  app.addHook("onRoute", (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? (route.method as string[]) : [route.method];
    for (const method of methods) routes.push({ method, url: route.url });
  });
  return routes;
}

/** The routes registered on `app` since `collectRoutes` (empty when it was never called). */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return catalogs.get(app) ?? [];
}
