/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as admin from "../admin.js";
import type * as billing from "../billing.js";
import type * as clerkWebhooks from "../clerkWebhooks.js";
import type * as crons from "../crons.js";
import type * as http from "../http.js";
import type * as insights from "../insights.js";
import type * as lib_audit from "../lib/audit.js";
import type * as lib_billing from "../lib/billing.js";
import type * as lib_billingEvents from "../lib/billingEvents.js";
import type * as lib_billingReconcile from "../lib/billingReconcile.js";
import type * as lib_billingSync from "../lib/billingSync.js";
import type * as lib_clerk from "../lib/clerk.js";
import type * as lib_clerkEvents from "../lib/clerkEvents.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_functions from "../lib/functions.js";
import type * as lib_lastAdmin from "../lib/lastAdmin.js";
import type * as lib_pagination from "../lib/pagination.js";
import type * as lib_permissions from "../lib/permissions.js";
import type * as lib_postStats from "../lib/postStats.js";
import type * as lib_postText from "../lib/postText.js";
import type * as lib_posts from "../lib/posts.js";
import type * as lib_publicFeed from "../lib/publicFeed.js";
import type * as lib_rateLimit from "../lib/rateLimit.js";
import type * as lib_reconcile from "../lib/reconcile.js";
import type * as lib_userSync from "../lib/userSync.js";
import type * as lib_users from "../lib/users.js";
import type * as lib_validators from "../lib/validators.js";
import type * as lib_viewer from "../lib/viewer.js";
import type * as lib_webhookResponses from "../lib/webhookResponses.js";
import type * as posts from "../posts.js";
import type * as reconcile from "../reconcile.js";
import type * as users from "../users.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  admin: typeof admin;
  billing: typeof billing;
  clerkWebhooks: typeof clerkWebhooks;
  crons: typeof crons;
  http: typeof http;
  insights: typeof insights;
  "lib/audit": typeof lib_audit;
  "lib/billing": typeof lib_billing;
  "lib/billingEvents": typeof lib_billingEvents;
  "lib/billingReconcile": typeof lib_billingReconcile;
  "lib/billingSync": typeof lib_billingSync;
  "lib/clerk": typeof lib_clerk;
  "lib/clerkEvents": typeof lib_clerkEvents;
  "lib/errors": typeof lib_errors;
  "lib/functions": typeof lib_functions;
  "lib/lastAdmin": typeof lib_lastAdmin;
  "lib/pagination": typeof lib_pagination;
  "lib/permissions": typeof lib_permissions;
  "lib/postStats": typeof lib_postStats;
  "lib/postText": typeof lib_postText;
  "lib/posts": typeof lib_posts;
  "lib/publicFeed": typeof lib_publicFeed;
  "lib/rateLimit": typeof lib_rateLimit;
  "lib/reconcile": typeof lib_reconcile;
  "lib/userSync": typeof lib_userSync;
  "lib/users": typeof lib_users;
  "lib/validators": typeof lib_validators;
  "lib/viewer": typeof lib_viewer;
  "lib/webhookResponses": typeof lib_webhookResponses;
  posts: typeof posts;
  reconcile: typeof reconcile;
  users: typeof users;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
