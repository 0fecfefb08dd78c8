import { newId } from "./ids.ts";
import type { Metadata } from "./metadata.ts";

/**
 * An email address's verification as the user object carries it: `ticket` for the address a
 * user signed up with, `email_code` for one added from the profile. The code itself (its hash,
 * attempts, expiry) is kept apart (`IdpState.emailCodes`), so no webhook or Backend API answer
 * ever carries it.
 */
export interface EmailVerificationJson {
  status: "verified" | "unverified";
  strategy: "ticket" | "email_code";
  attempts: null;
  expire_at: null;
}

/** Clerk's EmailAddressJSON as webhooks and the Backend API carry it. */
export interface EmailAddressJson {
  object: "email_address";
  id: string;
  email_address: string;
  verification: EmailVerificationJson;
  linked_to: never[];
  reserved: boolean;
  created_at: number;
  updated_at: number;
}

/**
 * Clerk's UserJSON (`@clerk/backend` JSON.d.ts), every field present with Clerk's empty
 * defaults, so consumers written against real Clerk payloads parse ours unchanged.
 */
export interface UserJson {
  object: "user";
  id: string;
  external_id: null;
  username: null;
  first_name: string | null;
  last_name: string | null;
  image_url: string;
  has_image: boolean;
  /** Deprecated by Clerk but still in its payloads: the same URL as `image_url`. */
  profile_image_url: string;
  primary_email_address_id: string;
  primary_phone_number_id: null;
  primary_web3_wallet_id: null;
  password_enabled: true;
  two_factor_enabled: false;
  totp_enabled: false;
  backup_code_enabled: false;
  email_addresses: EmailAddressJson[];
  phone_numbers: never[];
  web3_wallets: never[];
  passkeys: never[];
  external_accounts: never[];
  enterprise_accounts: never[];
  saml_accounts: never[];
  organization_memberships: never[];
  password_last_updated_at: number;
  public_metadata: Metadata;
  private_metadata: Metadata;
  unsafe_metadata: Metadata;
  last_sign_in_at: number;
  last_active_at: number;
  banned: false;
  locked: false;
  deprovisioned: false;
  lockout_expires_in_seconds: null;
  verification_attempts_remaining: number;
  create_organization_enabled: boolean;
  create_organizations_limit: null;
  delete_self_enabled: boolean;
  legal_accepted_at: null;
  locale: null;
  timezone: null;
  created_at: number;
  updated_at: number;
}

/** What Clerk sends as `data` of `user.deleted` and returns from DELETE /v1/users/{id}. */
export interface DeletedUserJson {
  object: "user";
  id: string;
  deleted: true;
}

export interface NewUser {
  email: string;
  firstName?: string | undefined;
  lastName?: string | undefined;
  publicMetadata?: Metadata | undefined;
}

/** A new user the way Clerk creates one on sign-up: one verified primary email, a password. */
export function newUserJson(input: NewUser, issuer: string, now: number): UserJson {
  const id = newId("user");
  const emailId = newId("idn");
  const user: UserJson = {
    object: "user",
    id,
    external_id: null,
    username: null,
    first_name: input.firstName || null,
    last_name: input.lastName || null,
    image_url: defaultImageUrl(issuer, id),
    has_image: false,
    profile_image_url: defaultImageUrl(issuer, id),
    primary_email_address_id: emailId,
    primary_phone_number_id: null,
    primary_web3_wallet_id: null,
    password_enabled: true,
    two_factor_enabled: false,
    totp_enabled: false,
    backup_code_enabled: false,
    email_addresses: [
      {
        object: "email_address",
        id: emailId,
        email_address: input.email,
        verification: { status: "verified", strategy: "ticket", attempts: null, expire_at: null },
        linked_to: [],
        reserved: false,
        created_at: now,
        updated_at: now,
      },
    ],
    phone_numbers: [],
    web3_wallets: [],
    passkeys: [],
    external_accounts: [],
    enterprise_accounts: [],
    saml_accounts: [],
    organization_memberships: [],
    password_last_updated_at: now,
    public_metadata: input.publicMetadata ?? {},
    private_metadata: {},
    unsafe_metadata: {},
    // Sign-up signs the user in. Later sign-ins are session events and leave the user untouched,
    // so that every change of the user object is one with a new updated_at and a webhook.
    last_sign_in_at: now,
    last_active_at: now,
    banned: false,
    locked: false,
    deprovisioned: false,
    lockout_expires_in_seconds: null,
    verification_attempts_remaining: 100,
    create_organization_enabled: true,
    create_organizations_limit: null,
    delete_self_enabled: true,
    legal_accepted_at: null,
    locale: null,
    timezone: null,
    created_at: now,
    updated_at: now,
  };
  return { ...user, ...initialsImage(user) };
}

/**
 * Applies a change and advances `updated_at`. Consumers order a user's events by it (older
 * events are dropped as stale), so it must strictly increase even for two changes within
 * one millisecond, or under a test clock that stands still.
 */
export function changed(
  user: UserJson,
  change: Partial<
    Pick<
      UserJson,
      | MetadataField
      | "first_name"
      | "last_name"
      | "password_last_updated_at"
      | "email_addresses"
      | "primary_email_address_id"
      | "image_url"
      | "has_image"
      | "profile_image_url"
    >
  >,
  now: number,
): UserJson {
  const next = { ...user, ...change, updated_at: Math.max(now, user.updated_at + 1) };
  return next.has_image ? next : { ...next, ...initialsImage(next) };
}

/**
 * A user without an uploaded image shows their initials, which change with their name (or primary
 * email): the URL changes with them, or a browser that already drew the old initials (the same
 * page, right after onboarding names the account) would keep showing them.
 */
function initialsImage(user: UserJson): Pick<UserJson, "image_url" | "profile_image_url"> {
  const base = user.image_url.split("?")[0] ?? user.image_url;
  const url = `${base}?avatar_placeholder&v=${initialsVersion(displayName(user))}`;
  return { image_url: url, profile_image_url: url };
}

/** Short and URL-safe; only needs to differ when the name does. */
function initialsVersion(name: string): string {
  let hash = 0;
  for (const ch of name) hash = (Math.imul(hash, 31) + (ch.codePointAt(0) ?? 0)) >>> 0;
  return hash.toString(36);
}

export type MetadataField = "public_metadata" | "private_metadata" | "unsafe_metadata";

/**
 * The generated initials avatar (`routes/avatars.ts`). `avatar_placeholder` in the URL is how
 * clerk-js tells a default image (`isDefaultImage`): UserProfile then offers no "Remove" for it.
 */
export function defaultImageUrl(issuer: string, userId: string, name = ""): string {
  return `${issuer}/v1/dev/avatars/${userId}?avatar_placeholder&v=${initialsVersion(name)}`;
}

/** Users written by an older IdP lack fields added since; fills them with what they would have been. */
export function withCurrentFields(user: UserJson): UserJson {
  return { ...user, profile_image_url: user.profile_image_url ?? user.image_url };
}

/** The user's email address with this id (own property lookups only). */
export function emailAddressOf(user: UserJson, id: string): EmailAddressJson | undefined {
  return user.email_addresses.find((e) => e.id === id);
}

export function primaryEmail(user: UserJson): string {
  const primary = user.email_addresses.find((e) => e.id === user.primary_email_address_id);
  return (primary ?? user.email_addresses[0])?.email_address ?? "";
}

/** Clerk's `{{user.full_name}}`, falling back to the email so the `name` claim is never empty. */
export function displayName(user: UserJson): string {
  const full = [user.first_name, user.last_name].filter(Boolean).join(" ");
  return full || primaryEmail(user);
}

export function deletedUserJson(id: string): DeletedUserJson {
  return { object: "user", id, deleted: true };
}
