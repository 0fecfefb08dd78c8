import { z } from "zod";
import { HttpError, notFound } from "../http.ts";
import { newId } from "../ids.ts";
import type { Route } from "../routes/route.ts";
import type { EmailCode } from "../store.ts";
import { emailAddressOf, type EmailAddressJson, type UserJson } from "../users.ts";
import { attemptCode, codeError, MAX_CODE_LENGTH } from "./codes.ts";
import { signedOut, type Fapi } from "./fapi.ts";
import { emailAddressWire, type DeletedObjectWire } from "./json.ts";
import { fapiPath } from "./paths.ts";
import { field, formInvalid, signedInForm } from "./request.ts";
import { identifierExists } from "./signUpRoutes.ts";

const email = z.email().max(254);

/** Addresses one user may have: a bound on what a signed-in script can pile up. */
export const MAX_EMAIL_ADDRESSES = 10;

const ID = "([^/]+)";

/** The address to add: required, trimmed, lower-cased, and an email address. */
function newAddress(form: URLSearchParams): string {
  const address = field(form, "email_address", { required: true, max: 254, trim: true }).toLowerCase();
  if (!email.safeParse(address).success) {
    throw formInvalid("Email address must be a valid email address.", "email_address");
  }
  return address;
}

/** A code is sent by email only. */
function checkStrategy(form: URLSearchParams): void {
  const strategy = field(form, "strategy", { required: true, max: 64 });
  if (strategy !== "email_code") {
    throw new HttpError(422, "form_param_value_invalid", "is invalid", "Only email_code is available.", {
      param_name: "strategy",
    });
  }
}

const codeField = (form: URLSearchParams) =>
  field(form, "code", { required: true, max: MAX_CODE_LENGTH, trim: true });

/**
 * UserProfile's "Email addresses": add one (`POST /v1/me/email_addresses/`, trailing slash as
 * clerk-js sends it), verify it by code (`…/{id}/prepare_verification`, `…/attempt_verification`),
 * read it, remove it (`DELETE …/{id}`, not the primary). Making one primary is `PATCH /v1/me`
 * (`meRoutes.ts`). Every change of the user's addresses sends `user.updated` with them; sending a
 * code or a wrong attempt changes only the pending code, which no payload carries.
 */
export function emailAddressRoutes(fapi: Fapi): Route[] {
  const state = () => fapi.options.store.state;

  /** The caller's address with this id; someone else's is as unknown as a made-up id. */
  function ownAddress(user: UserJson, id: string): EmailAddressJson {
    const found = emailAddressOf(user, id);
    if (!found) throw notFound("email address");
    return found;
  }

  /** The pending code of the caller's address, if one was prepared. */
  function pendingCode(user: UserJson, id: string): EmailCode | undefined {
    const code = state().emailCodes.get(id);
    return code?.userId === user.id ? code : undefined;
  }

  function wire(user: UserJson, address: EmailAddressJson) {
    const code = pendingCode(user, address.id);
    return emailAddressWire(address, code && { verification: code.verification, now: fapi.now() });
  }

  return [
    {
      method: "POST",
      pattern: fapiPath("/me/email_addresses/?"),
      access: "fapi",
      handle: async ({ req, url, origin }) => {
        const { form: address, rc, user } = await signedInForm(fapi, req, url, ["email_address"], newAddress);
        if (fapi.accounts.emailTaken(address, user.id)) throw identifierExists();
        if (user.email_addresses.length >= MAX_EMAIL_ADDRESSES) {
          throw new HttpError(
            422,
            "form_param_value_invalid",
            "Too many email addresses",
            `You can have at most ${MAX_EMAIL_ADDRESSES} email addresses.`,
            { param_name: "email_address" },
          );
        }
        const now = fapi.now();
        const added: EmailAddressJson = {
          object: "email_address",
          id: newId("idn"),
          email_address: address,
          verification: { status: "unverified", strategy: "email_code", attempts: null, expire_at: null },
          linked_to: [],
          reserved: false,
          created_at: now,
          updated_at: now,
        };
        const updated = fapi.accounts.changeUser(user.id, (u) => ({
          email_addresses: [...u.email_addresses, added],
        }));
        if (!updated) throw signedOut();
        return fapi.respond(wire(updated, added), rc, origin);
      },
    },
    {
      method: "GET",
      pattern: fapiPath(`/me/email_addresses/${ID}`),
      access: "fapi",
      handle: ({ req, url, origin, params: [id = ""] }) => {
        const { rc, user } = fapi.signedIn(req, url);
        return fapi.respond(wire(user, ownAddress(user, id)), rc, origin);
      },
    },
    {
      method: "POST",
      pattern: fapiPath(`/me/email_addresses/${ID}/prepare_verification`),
      access: "fapi",
      handle: async ({ req, url, origin, params: [id = ""] }) => {
        const { rc, user } = await signedInForm(fapi, req, url, ["strategy"], checkStrategy);
        const address = ownAddress(user, id);
        if (address.verification.status === "verified") throw codeError("already_verified");
        // Preparing again replaces the code (and its attempts), as on sign-in and sign-up.
        const verification = fapi.sendCode(address.email_address, "verify_email", "email_code", address.id);
        fapi.options.store.commit((s) => s.emailCodes.set(address.id, { userId: user.id, verification }));
        return fapi.respond(wire(user, address), rc, origin);
      },
    },
    {
      method: "POST",
      pattern: fapiPath(`/me/email_addresses/${ID}/attempt_verification`),
      access: "fapi",
      handle: async ({ req, url, origin, params: [id = ""] }) => {
        const { form: code, rc, user } = await signedInForm(fapi, req, url, ["code", "strategy"], codeField);
        const address = ownAddress(user, id);
        if (address.verification.status === "verified") throw codeError("already_verified");
        const pending = pendingCode(user, id);
        if (!pending) {
          throw new HttpError(
            422,
            "verification_missing",
            "not prepared",
            "Send a code first (prepare_verification).",
            { param_name: "code" },
          );
        }
        const verification = { ...pending.verification };
        const outcome = attemptCode(verification, code, fapi.now());
        if (outcome !== "verified") {
          if (outcome === "incorrect") {
            fapi.options.store.commit((s) => s.emailCodes.set(id, { userId: user.id, verification }));
          }
          throw codeError(outcome);
        }
        // Verified meanwhile by someone else (their sign-up, their profile): first come, first served.
        const owner = fapi.accounts.findByEmail(address.email_address);
        if (owner && owner.id !== user.id) throw identifierExists();
        const now = fapi.now();
        const updated = fapi.accounts.changeUser(
          user.id,
          (u) => ({
            email_addresses: u.email_addresses.map((e) =>
              e.id === id
                ? {
                    ...e,
                    verification: {
                      status: "verified" as const,
                      strategy: "email_code" as const,
                      attempts: null,
                      expire_at: null,
                    },
                    updated_at: now,
                  }
                : e,
            ),
          }),
          (s) => s.emailCodes.delete(id),
        );
        if (!updated) throw signedOut();
        return fapi.respond(emailAddressWire(ownAddress(updated, id)), rc, origin);
      },
    },
    {
      method: "DELETE",
      pattern: fapiPath(`/me/email_addresses/${ID}`),
      access: "fapi",
      handle: async ({ req, url, origin, params: [id = ""] }) => {
        const { rc, user } = await signedInForm(fapi, req, url, []);
        ownAddress(user, id);
        if (user.primary_email_address_id === id) {
          throw new HttpError(
            422,
            "identification_deletion_failed",
            "You cannot delete your primary email address",
            "You cannot delete your primary email address. Make another verified address primary first.",
          );
        }
        const updated = fapi.accounts.changeUser(
          user.id,
          (u) => ({ email_addresses: u.email_addresses.filter((e) => e.id !== id) }),
          (s) => s.emailCodes.delete(id),
        );
        if (!updated) throw signedOut();
        const deleted: DeletedObjectWire = { object: "email_address", id, deleted: true };
        return fapi.respond(deleted, rc, origin);
      },
    },
  ];
}
