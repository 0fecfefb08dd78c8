/**
 * One call on one engine generation: a client's public function (visibility and type checked,
 * arguments bounded and decoded, log lines labelled and reported), or an http action from
 * `convex/http.ts`. The runtime (engine.ts) holds its gate around each call, so a hot reload
 * never swaps the engine under a running one.
 */
import { makeFunctionReference } from "convex/server";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { AuthFailure, identityKey, type Identity } from "./auth.ts";
import { callStore, newCallContext, type CallContext } from "./context.ts";
import type { Engine } from "./convexTestAdapter.ts";
import { MAX_VALUE_NESTING, nestsDeeperThan } from "./limits.ts";
import {
  failureOf,
  isConvexError,
  newRequestId,
  type Clock,
  type FunctionResult,
  type UdfType,
} from "./protocol.ts";
import { parseJournal } from "./readTracking.ts";
import type { ReadSet } from "./readset.ts";

type HttpRouterLike = {
  lookup(path: string, method: string): readonly [unknown, string, string] | null;
};

type HttpHandler = (ctx: Record<string, unknown>, request: Request) => Promise<Response>;

/** What every call shares: the deployment's environment, counters, log output, the clock. */
export type CallSetting = {
  env: Record<string, string>;
  counters: { mutations: number; actions: number };
  /** Receives each call's log lines (and its failure), labelled `Q(path)`, `M(…)`, `A(…)`. */
  onFunctionLogs?: ((label: string, lines: string[]) => void) | undefined;
  /** A mutation that wrote nothing reports the latest commit's timestamp. */
  clock: Clock;
};

export type CallOptions = {
  /** Set for a subscription query: what it reads is recorded here (readTracking.ts). */
  reads?: ReadSet;
  /** The subscription's pagination journal. */
  journal?: string | null;
  /** A client mutation's replay key (mutationLog.ts), journaled with its commit. */
  replayKey?: string;
};

/** Runs the public function `canonical` ("module:export") for a client. */
export async function callPublicFunction(
  engine: Engine,
  setting: CallSetting,
  kind: UdfType | "any",
  canonical: string,
  argsJson: JSONValue,
  identity: Identity | null,
  options: CallOptions,
): Promise<FunctionResult & { kind?: UdfType }> {
  const resolved = await engine.resolvePublic(canonical, kind);
  if (!resolved.ok) return { ok: false, message: resolved.message, logLines: [], journal: null };
  const ctx = newCallContext(setting.env, options.reads ?? null);
  ctx.journalIn = parseJournal(options.journal);
  if (options.replayKey !== undefined && resolved.kind === "mutation")
    ctx.replay = { key: options.replayKey };
  if (nestsDeeperThan(argsJson)) {
    const message = `TooNestedError: Value is too nested (more than the maximum nesting of ${MAX_VALUE_NESTING} levels)`;
    return { ok: false, message, logLines: [], journal: null };
  }
  let args: Value;
  try {
    args = jsonToConvex(argsJson);
  } catch (error) {
    return failureOf(error, []);
  }
  const acc = engine.accessorFor(identity, identityKey(identity));
  const ref = makeFunctionReference(canonical);
  if (resolved.kind === "mutation") setting.counters.mutations++;
  if (resolved.kind === "action") setting.counters.actions++;
  const label = `${resolved.kind === "query" ? "Q" : resolved.kind === "mutation" ? "M" : "A"}(${canonical})`;
  try {
    const value = await callStore.run(ctx, () => acc[resolved.kind](ref, args));
    if (ctx.logLines.length > 0) setting.onFunctionLogs?.(label, ctx.logLines);
    return {
      ok: true,
      kind: resolved.kind,
      value: convexToJson((value === undefined ? null : value) as Value),
      logLines: ctx.logLines,
      journal: ctx.journalOut ? JSON.stringify(ctx.journalOut) : null,
      ...(resolved.kind === "mutation" ? { ts: ctx.commitTs ?? setting.clock.current } : {}),
    };
  } catch (error) {
    const failure = failureOf(error, ctx.logLines);
    if (!failure.ok) setting.onFunctionLogs?.(label, [...ctx.logLines, `[ERROR] ${failure.message}`]);
    return { ...failure, kind: resolved.kind };
  }
}

/**
 * Runs the http action routed for `path`; its log lines go to `ctx`. An invalid Authorization
 * header does not refuse the request: the action runs, and its `getUserIdentity()` rejects.
 */
export async function callHttpAction(
  engine: Engine,
  ctx: CallContext,
  request: Request,
  path: string,
  auth: Identity | null | AuthFailure,
): Promise<Response> {
  const notFound = () => new Response(`No HttpAction routed for ${path}`, { status: 404 });
  if (!engine.modules.isEntryPoint("http")) return notFound();
  const router = (await engine.modules.import("http"))["default"] as HttpRouterLike | undefined;
  const found = router?.lookup(path, request.method);
  if (!found) return notFound();
  // Same unwrap as convex-test: the registered httpAction is a "don't call directly" wrapper.
  const fn = found[0] as HttpHandler & { _handler?: HttpHandler };
  const handler: HttpHandler = fn._handler ?? fn;
  const identity = auth instanceof AuthFailure ? null : auth;
  const acc = engine.accessorFor(identity, identityKey(identity));
  let response: Response | undefined;
  try {
    await callStore.run(ctx, () =>
      acc.action(async (actionCtx: Record<string, unknown>) => {
        const handlerCtx =
          auth instanceof AuthFailure
            ? { ...actionCtx, auth: { getUserIdentity: () => Promise.reject(new Error(auth.message)) } }
            : actionCtx;
        response = await handler(handlerCtx, request);
        return null;
      }),
    );
  } catch (error) {
    const requestId = newRequestId();
    const message = error instanceof Error ? error.message : String(error);
    const body: Record<string, unknown> = {
      code: `[Request ID: ${requestId}] Server Error: Uncaught ${error instanceof Error ? error.name : "Error"}: ${message}`,
      trace: error instanceof Error ? (error.stack ?? String(error)) : String(error),
    };
    if (isConvexError(error)) body["data"] = convexToJson(error.data === undefined ? null : error.data);
    return new Response(JSON.stringify(body), {
      status: 500,
      headers: { "content-type": "application/json" },
    });
  }
  if (!(response instanceof Response)) {
    return new Response("HTTP action did not return a Response", { status: 500 });
  }
  return response;
}
