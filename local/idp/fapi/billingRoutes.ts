import { HttpError, notFound, ok } from "../http.ts";
import type { Route } from "../routes/route.ts";
import { billingError } from "../billing/billing.ts";
import { cardById } from "../billing/cards.ts";
import {
  checkoutWire,
  page,
  paymentMethodWire,
  paymentMethodsWire,
  paymentWire,
  planWire,
  statementWire,
  subscriptionWire,
} from "../billing/fapiJson.ts";
import { planById, PLANS } from "../billing/plans.ts";
import type { Fapi } from "./fapi.ts";
import type { DeletedObjectWire } from "./json.ts";
import { fapiPath } from "./paths.ts";
import { field, formInvalid, signedInForm } from "./request.ts";

const ID = "([^/]+)";

/** Stripe is the only gateway clerk-js knows, and it cannot be reached offline. */
function stripeUnavailable(): HttpError {
  return billingError(
    "payment_gateway_unavailable",
    "Adding a card needs Stripe, which this offline stand-in cannot reach. Pay with a saved test card: " +
      "Visa ⋯ 4242 succeeds, Visa ⋯ 0002 is declined.",
  );
}

/** `limit` and `offset` as clerk-js's paginated hooks send them; anything else is a 422, not a 500. */
function pageQuery(url: URL, defaultLimit: number): { limit: number; offset: number } {
  const number = (name: string, fallback: number, min: number, max: number) => {
    const raw = url.searchParams.get(name);
    if (raw === null) return fallback;
    const value = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) {
      throw formInvalid(`${name} must be a whole number from ${min} to ${max}.`, name);
    }
    return value;
  };
  return { limit: number("limit", defaultLimit, 1, 500), offset: number("offset", 0, 0, 1_000_000) };
}

/** Checkout start's fields: a plan id and `month` or `annual`. */
function checkoutFields(form: URLSearchParams) {
  const planId = field(form, "plan_id", { required: true, max: 64 });
  const period = field(form, "plan_period", { required: true, max: 16 });
  if (period !== "month" && period !== "annual") {
    throw new HttpError(
      422,
      "form_param_value_invalid",
      "is invalid",
      "plan_period must be month or annual.",
      {
        param_name: "plan_period",
      },
    );
  }
  return { planId, period } as const;
}

const CONFIRM_FIELDS = ["payment_method_id", "gateway", "payment_token", "use_test_card"];

/**
 * Confirm's fields: a saved card's `payment_method_id`, or nothing (nothing due). The Stripe ones
 * (`gateway`, `payment_token`, `use_test_card`: a card typed into Stripe Elements) cannot work
 * offline. Errors carry no `param_name`: the drawer shows field-less errors in its alert.
 */
function confirmFields(form: URLSearchParams): string | undefined {
  for (const name of CONFIRM_FIELDS) {
    if (form.getAll(name).length > 1)
      throw billingError("form_param_format_invalid", `${name} was given more than once.`);
  }
  if (["gateway", "payment_token", "use_test_card"].some((name) => form.has(name))) throw stripeUnavailable();
  const id = form.get("payment_method_id") ?? "";
  if (id.length > 64) throw billingError("form_param_format_invalid", "payment_method_id is too long.");
  return id === "" ? undefined : id;
}

/**
 * Clerk Billing's Frontend API for a user payer, exactly the calls clerk-js 5.128.0 makes
 * (read off its bundle). Envelopes differ per call, as clerk-js parses them: plans,
 * a plan, payment attempts and a payment attempt are bare; the subscription, statements, payment
 * methods, checkouts and the rest are `{response, client}`. Organization payers
 * (`/organizations/{id}/billing/…`) are not emulated.
 */
export function billingRoutes(fapi: Fapi): Route[] {
  const billing = fapi.billing;
  return [
    {
      // Signed out too (the pricing table). The Backend API's `GET /v1/billing/plans` is this same
      // route: both APIs answer `{data, total_count}` with the same plan objects.
      method: "GET",
      pattern: fapiPath("/billing/plans"),
      access: "fapi",
      handle: ({ url }) => {
        const payerType = url.searchParams.get("payer_type") ?? "user";
        if (payerType !== "user" && payerType !== "org")
          throw formInvalid("payer_type must be user or org.", "payer_type");
        const { limit, offset } = pageQuery(url, 10);
        // Gatehouse's plans are all for users.
        return ok(page(payerType === "user" ? PLANS.map(planWire) : [], limit, offset));
      },
    },
    {
      method: "GET",
      pattern: fapiPath(`/billing/plans/${ID}`),
      access: "fapi",
      handle: ({ params: [id = ""] }) => {
        const plan = planById(id);
        if (!plan) throw notFound("plan");
        return ok(planWire(plan));
      },
    },
    {
      method: "GET",
      pattern: fapiPath("/me/billing/subscription"),
      access: "fapi",
      handle: ({ req, url, origin }) => {
        const { rc, user } = fapi.signedIn(req, url);
        return fapi.respond(subscriptionWire(billing.requirePayer(user.id)), rc, origin);
      },
    },
    {
      method: "GET",
      pattern: fapiPath("/me/billing/statements"),
      access: "fapi",
      handle: ({ req, url, origin }) => {
        const { limit, offset } = pageQuery(url, 10);
        const { rc, user } = fapi.signedIn(req, url);
        const payer = billing.requirePayer(user.id);
        const statements = [...payer.statements]
          .sort((a, b) => b.timestamp - a.timestamp)
          .map((s) => statementWire(s, payer, fapi.now()));
        return fapi.respond(page(statements, limit, offset), rc, origin);
      },
    },
    {
      method: "GET",
      pattern: fapiPath(`/me/billing/statements/${ID}`),
      access: "fapi",
      handle: ({ req, url, origin, params: [id = ""] }) => {
        const { rc, user } = fapi.signedIn(req, url);
        const payer = billing.requirePayer(user.id);
        const statement = payer.statements.find((s) => s.id === id);
        if (!statement) throw notFound("statement");
        return fapi.respond(statementWire(statement, payer, fapi.now()), rc, origin);
      },
    },
    {
      method: "GET",
      pattern: fapiPath("/me/billing/payment_attempts"),
      access: "fapi",
      handle: ({ req, url }) => {
        const { limit, offset } = pageQuery(url, 10);
        const { user } = fapi.signedIn(req, url);
        const payer = billing.requirePayer(user.id);
        const attempts = [...payer.attempts].reverse().map((a) => paymentWire(a, payer));
        return ok(page(attempts, limit, offset)); // bare
      },
    },
    {
      method: "GET",
      pattern: fapiPath(`/me/billing/payment_attempts/${ID}`),
      access: "fapi",
      handle: ({ req, url, params: [id = ""] }) => {
        const { user } = fapi.signedIn(req, url);
        const payer = billing.requirePayer(user.id);
        const attempt = payer.attempts.find((a) => a.id === id);
        if (!attempt) throw notFound("payment attempt");
        return ok(paymentWire(attempt, payer)); // bare
      },
    },
    {
      method: "GET",
      pattern: fapiPath("/me/billing/payment_methods"),
      access: "fapi",
      handle: ({ req, url, origin }) => {
        const { limit, offset } = pageQuery(url, 10);
        const { rc, user } = fapi.signedIn(req, url);
        return fapi.respond(
          page(paymentMethodsWire(billing.requirePayer(user.id)), limit, offset),
          rc,
          origin,
        );
      },
    },
    {
      // The Stripe form's first call; clerk-js swallows the error (its form then never becomes ready).
      method: "POST",
      pattern: fapiPath("/me/billing/payment_methods/initialize"),
      access: "fapi",
      handle: async ({ req, url }) => {
        await signedInForm(fapi, req, url, ["gateway"]);
        throw stripeUnavailable();
      },
    },
    {
      method: "POST",
      pattern: fapiPath("/me/billing/payment_methods"),
      access: "fapi",
      handle: async ({ req, url }) => {
        await signedInForm(fapi, req, url, ["gateway", "payment_token"]);
        throw stripeUnavailable();
      },
    },
    {
      method: "DELETE",
      pattern: fapiPath(`/me/billing/payment_methods/${ID}`),
      access: "fapi",
      handle: async ({ req, url, params: [id = ""] }) => {
        await signedInForm(fapi, req, url, []);
        if (!cardById(id)) throw notFound("payment method");
        throw billingError(
          "payment_method_not_removable",
          "The saved test cards cannot be removed: without a saved card, paying would need Stripe.",
        );
      },
    },
    {
      // "Make default"; clerk-js ignores the answer.
      method: "PUT",
      pattern: fapiPath("/me/billing/payers/default_payment_method"),
      access: "fapi",
      handle: async ({ req, url, origin }) => {
        const {
          form: id,
          rc,
          user,
        } = await signedInForm(fapi, req, url, ["payment_method_id"], (form) =>
          field(form, "payment_method_id", { required: true, max: 64 }),
        );
        const card = billing.setDefaultPaymentMethod(user.id, id);
        return fapi.respond(paymentMethodWire(card, billing.requirePayer(user.id)), rc, origin);
      },
    },
    {
      method: "POST",
      pattern: fapiPath("/me/billing/checkouts"),
      access: "fapi",
      handle: async ({ req, url, origin }) => {
        const { form, rc, user } = await signedInForm(
          fapi,
          req,
          url,
          ["plan_id", "plan_period"],
          checkoutFields,
        );
        const plan = planById(form.planId);
        if (!plan) throw notFound("plan");
        const checkout = billing.startCheckout(user.id, plan.slug, form.period);
        return fapi.respond(checkoutWire(checkout, billing.requirePayer(user.id), user), rc, origin);
      },
    },
    {
      method: "PATCH",
      pattern: fapiPath(`/me/billing/checkouts/${ID}/confirm`),
      access: "fapi",
      handle: async ({ req, url, origin, params: [id = ""] }) => {
        const {
          form: paymentMethodId,
          rc,
          user,
        } = await signedInForm(fapi, req, url, CONFIRM_FIELDS, confirmFields);
        const checkout = billing.confirmCheckout(user.id, id, paymentMethodId);
        return fapi.respond(checkoutWire(checkout, billing.requirePayer(user.id), user), rc, origin);
      },
    },
    {
      // SubscriptionDetails' "Cancel subscription": at the end of the period.
      method: "DELETE",
      pattern: fapiPath(`/me/billing/subscription_items/${ID}`),
      access: "fapi",
      handle: async ({ req, url, origin, params: [id = ""] }) => {
        const { rc, user } = await signedInForm(fapi, req, url, []);
        const item = billing.cancelItem(billing.requirePayer(user.id), id, false);
        const response: DeletedObjectWire = {
          object: "commerce_subscription_item",
          id: item.id,
          deleted: true,
        };
        return fapi.respond(response, rc, origin);
      },
    },
  ];
}
