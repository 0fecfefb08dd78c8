/**
 * The authorization choke point. Every public Convex function is built from one of these
 * builders (lint forbids raw `query`/`mutation`/`action` elsewhere), so the viewer is
 * resolved once, from the verified token plus the synced users row, before any handler runs.
 */
import { customAction, customCtx, customMutation, customQuery } from "convex-helpers/server/customFunctions";
import { action, mutation, query } from "../_generated/server";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { Plan } from "./permissions";
import { consumeWriteToken } from "./rateLimit";
import {
  loadViewer,
  requireAdmin,
  requirePlan,
  requireProvisionedViewer,
  requireViewer,
  type Viewer,
} from "./viewer";

/** Anyone, signed in or not: `ctx.viewer` is null when signed out. */
export const publicQuery = customQuery(
  query,
  customCtx(async (ctx) => ({ viewer: await loadViewer(ctx) })),
);

export const authedQuery = customQuery(
  query,
  customCtx(async (ctx) => ({ viewer: await requireViewer(ctx) })),
);

export const adminQuery = customQuery(
  query,
  customCtx(async (ctx) => ({ viewer: requireAdmin(await requireViewer(ctx)) })),
);

export const planQuery = (required: Plan) =>
  customQuery(
    query,
    customCtx(async (ctx) => ({ viewer: requirePlan(await requireViewer(ctx), required) })),
  );

/** Signed in; provisions the users row if the webhook has not landed yet; no rate limit. */
export const provisioningMutation = customMutation(
  mutation,
  customCtx(async (ctx) => ({ viewer: await requireProvisionedViewer(ctx) })),
);

/** Signed in, rate limited, and whatever `check` adds: the shape of every write builder. */
const writeMutation = (check: (viewer: Viewer) => Viewer = (viewer) => viewer) =>
  customMutation(
    mutation,
    customCtx(async (ctx) => {
      const viewer = check(await requireProvisionedViewer(ctx));
      await consumeWriteToken(ctx, viewer.clerkId);
      return { viewer };
    }),
  );

/** Signed in and rate limited: the builder for every write. */
export const authedMutation = writeMutation();

export const planMutation = (required: Plan) => writeMutation((viewer) => requirePlan(viewer, required));

/**
 * Admin actions cannot read the database, so authorization (freshest source, tombstone, admin
 * role, a write token claimed) runs in one internal mutation before the handler, and the claim
 * is released after it, whatever happened: the token is charged only when the change is
 * recorded, so a refused or failed action leaves no trace, and concurrent actions cannot all
 * spend the same token.
 */
const authorizedAdminAction = customAction(
  action,
  customCtx(
    async (ctx): Promise<{ viewer: Viewer; claim: Id<"writeClaims"> }> =>
      await ctx.runMutation(internal.admin.authorizeAdmin, {}),
  ),
);

export const adminAction: typeof authorizedAdminAction = (definition) => {
  if (typeof definition === "function") throw new Error("adminAction takes { args, returns, handler }");
  return authorizedAdminAction({
    ...definition,
    // The same handler, with the claim released when it ends (a wrapper of its own type).
    handler: (async (ctx, ...args) => {
      try {
        return await definition.handler(ctx, ...args);
      } finally {
        await ctx.runMutation(internal.admin.releaseAdminClaim, { claim: ctx.claim });
      }
    }) as typeof definition.handler,
  });
};
