import type { Route, RouteContext } from "../routes/route.ts";
import { environmentJson } from "./environment.ts";
import type { Fapi } from "./fapi.ts";
import { fapiPath } from "./paths.ts";

/**
 * `GET /v1/environment` (production keys) and `POST /v1/environment?_method=PATCH` (development
 * keys "touch" it): the same settings either way, with the caller's client piggybacked.
 */
export function environmentRoutes(fapi: Fapi): Route[] {
  const handle = async ({ req, origin }: RouteContext) => {
    const environment = environmentJson(origin ?? fapi.options.issuer);
    const client = fapi.findClient(req);
    return {
      status: 200,
      body: { response: environment, client: client ? await fapi.clientJson(client, origin) : null },
    };
  };
  return [
    { method: "GET", pattern: fapiPath("/environment"), access: "fapi", handle },
    { method: "PATCH", pattern: fapiPath("/environment"), access: "fapi", handle },
  ];
}
