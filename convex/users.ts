import { v } from "convex/values";
import { provisioningMutation, publicQuery } from "./lib/functions";
import { viewerValidator } from "./lib/validators";
import { publicViewer } from "./lib/viewer";

/** The signed-in viewer with effective role and plan, or null when signed out. */
export const me = publicQuery({
  args: {},
  returns: v.union(viewerValidator, v.null()),
  handler: async (ctx) => (ctx.viewer ? publicViewer(ctx.viewer) : null),
});

/**
 * Makes sure the viewer has a users row, even before Clerk's user.created webhook lands.
 * The row copies only verified token claims and is replaced by webhook data when it arrives.
 */
export const ensure = provisioningMutation({
  args: {},
  returns: viewerValidator,
  handler: async (ctx) => publicViewer(ctx.viewer),
});
