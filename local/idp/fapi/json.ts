/**
 * The Frontend API's JSON resources, shaped after Clerk's published types (`ClientJSON`,
 * `SessionJSON`, `UserJSON`, `SignInJSON`, `SignUpJSON`, `TokenJSON` in `@clerk/shared/types`;
 * fapi.test.ts checks these interfaces against them at compile time). Where Clerk's types are
 * stricter than Clerk's wire (a verification's `error`, a token's `id`), the wire wins.
 */
import type { Session } from "../store.ts";
import { primaryEmail, type EmailAddressJson, type UserJson } from "../users.ts";
import type { ClientRecord, SignInRecord, SignUpRecord } from "./clientRecord.ts";
import { visibleStatus, type CodeStrategy, type CodeVerification } from "./codes.ts";
import type { Device } from "./device.ts";

export interface VerificationWire {
  object: "verification";
  id: string;
  status: "unverified" | "verified" | "failed" | "expired";
  strategy: string;
  attempts: number | null;
  expire_at: number | null;
  verified_at_client: string;
}

export interface EmailAddressWire {
  object: "email_address";
  id: string;
  email_address: string;
  verification: VerificationWire | null;
  linked_to: never[];
  matches_sso_connection: boolean;
}

export interface UserWire {
  object: "user";
  id: string;
  external_id: null;
  primary_email_address_id: string;
  primary_phone_number_id: null;
  primary_web3_wallet_id: null;
  image_url: string;
  has_image: boolean;
  username: null;
  email_addresses: EmailAddressWire[];
  phone_numbers: never[];
  web3_wallets: never[];
  external_accounts: never[];
  enterprise_accounts: never[];
  passkeys: never[];
  saml_accounts: never[];
  organization_memberships: never[];
  password_enabled: boolean;
  profile_image_id: string;
  first_name: string | null;
  last_name: string | null;
  totp_enabled: boolean;
  backup_code_enabled: boolean;
  two_factor_enabled: boolean;
  public_metadata: Record<string, unknown>;
  unsafe_metadata: Record<string, unknown>;
  last_sign_in_at: number | null;
  create_organization_enabled: boolean;
  create_organizations_limit: null;
  delete_self_enabled: boolean;
  legal_accepted_at: null;
  updated_at: number;
  created_at: number;
}

export interface TokenWire {
  object: "token";
  jwt: string;
}

export interface PublicUserDataWire {
  first_name: string | null;
  last_name: string | null;
  image_url: string;
  has_image: boolean;
  identifier: string;
  user_id: string;
}

export type SessionWireStatus = "active" | "ended" | "removed" | "revoked";

export interface SessionWire {
  object: "session";
  id: string;
  status: SessionWireStatus;
  factor_verification_age: [number, number] | null;
  expire_at: number;
  abandon_at: number;
  last_active_at: number;
  last_active_token: TokenWire | null;
  last_active_organization_id: null;
  actor: null;
  tasks: null;
  user: UserWire;
  public_user_data: PublicUserDataWire;
  created_at: number;
  updated_at: number;
}

export interface SessionActivityWire {
  object: "session_activity";
  id: string;
  browser_name?: string;
  browser_version?: string;
  device_type?: string;
  ip_address?: string;
  city?: string;
  country?: string;
  is_mobile: boolean;
}

/** An entry of `GET /v1/me/sessions/active` (Clerk's `SessionWithActivitiesJSON`). */
export interface SessionWithActivitiesWire extends Omit<SessionWire, "user"> {
  user: null;
  latest_activity: SessionActivityWire;
}

interface EmailFactorWire<S extends CodeStrategy> {
  strategy: S;
  email_address_id: string;
  safe_identifier: string;
  primary: boolean;
}

export type FirstFactorWire =
  { strategy: "password" } | EmailFactorWire<"email_code"> | EmailFactorWire<"reset_password_email_code">;

export type SignUpVerificationWire = VerificationWire & {
  next_action: string;
  supported_strategies: string[];
};

export interface SignInWire {
  object: "sign_in";
  id: string;
  status: SignInRecord["status"];
  supported_identifiers: Array<"email_address">;
  identifier: string;
  user_data: { first_name?: string; last_name?: string; image_url: string; has_image: boolean };
  supported_first_factors: FirstFactorWire[];
  supported_second_factors: never[];
  first_factor_verification: VerificationWire | null;
  second_factor_verification: null;
  created_session_id: string | null;
  abandon_at: number;
}

export interface SignUpWire {
  object: "sign_up";
  id: string;
  status: SignUpRecord["status"];
  required_fields: Array<"email_address" | "password">;
  optional_fields: Array<"first_name" | "last_name">;
  missing_fields: Array<"password">;
  unverified_fields: Array<"email_address">;
  username: null;
  first_name: string | null;
  last_name: string | null;
  email_address: string;
  phone_number: null;
  web3_wallet: null;
  external_account_strategy: null;
  external_account: null;
  has_password: boolean;
  unsafe_metadata: Record<string, never>;
  created_session_id: string | null;
  created_user_id: string | null;
  abandon_at: number;
  legal_accepted_at: null;
  locale: null;
  verifications: {
    email_address: SignUpVerificationWire | null;
    phone_number: null;
    web3_wallet: null;
    external_account: null;
  };
}

export interface ClientWire {
  object: "client";
  id: string;
  sessions: SessionWire[];
  sign_in: SignInWire | null;
  sign_up: SignUpWire | null;
  last_active_session_id: string | null;
  last_authentication_strategy: "password" | null;
  cookie_expires_at: number;
  created_at: number;
  updated_at: number;
}

/** Clerk abandons an unfinished sign-in or sign-up after 24 hours. */
const ABANDON_AFTER_MS = 24 * 60 * 60 * 1000;
/** Clerk's inactivity timeout is off by default; the session's own expiry comes first. */
const SESSION_ABANDON_AFTER_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * An email address as the FAPI shows it. A pending code, when given, shows its attempts and
 * expiry (the user object itself carries neither: `users.ts`).
 */
export function emailAddressWire(
  email: EmailAddressJson,
  code?: { verification: CodeVerification; now: number },
): EmailAddressWire {
  const pending = email.verification.status !== "verified" && code;
  return {
    object: "email_address",
    id: email.id,
    email_address: email.email_address,
    verification: pending
      ? codeVerificationWire(code.verification, code.now)
      : {
          object: "verification",
          id: `ver_${email.id}`,
          status: email.verification.status,
          strategy: email.verification.strategy,
          attempts: null,
          expire_at: null,
          verified_at_client: "",
        },
    linked_to: [],
    matches_sso_connection: false,
  };
}

export function userWire(user: UserJson): UserWire {
  return {
    object: "user",
    id: user.id,
    external_id: null,
    primary_email_address_id: user.primary_email_address_id,
    primary_phone_number_id: null,
    primary_web3_wallet_id: null,
    image_url: user.image_url,
    has_image: user.has_image,
    username: null,
    email_addresses: user.email_addresses.map((email) => emailAddressWire(email)),
    phone_numbers: [],
    web3_wallets: [],
    external_accounts: [],
    enterprise_accounts: [],
    passkeys: [],
    saml_accounts: [],
    organization_memberships: [],
    password_enabled: true,
    // clerk-js reads `image_url`, never this.
    profile_image_id: "",
    first_name: user.first_name,
    last_name: user.last_name,
    totp_enabled: false,
    backup_code_enabled: false,
    two_factor_enabled: false,
    public_metadata: user.public_metadata,
    unsafe_metadata: user.unsafe_metadata,
    last_sign_in_at: user.last_sign_in_at,
    create_organization_enabled: false,
    create_organizations_limit: null,
    // UserProfile offers "Delete account" only with this and `user_settings.actions.delete_self`.
    delete_self_enabled: true,
    legal_accepted_at: null,
    updated_at: user.updated_at,
    created_at: user.created_at,
  };
}

export function publicUserData(user: UserJson): PublicUserDataWire {
  return {
    first_name: user.first_name,
    last_name: user.last_name,
    image_url: user.image_url,
    has_image: user.has_image,
    identifier: primaryEmail(user),
    user_id: user.id,
  };
}

export interface SessionView {
  session: Session;
  user: UserJson;
  status: SessionWireStatus;
  lastActiveAt: number;
  /** The current default token (clerk-react needs it on active sessions), null on ended ones. */
  token: string | null;
  now: number;
}

export function sessionWire({ session, user, status, lastActiveAt, token, now }: SessionView): SessionWire {
  return {
    object: "session",
    id: session.id,
    status,
    factor_verification_age: [Math.floor((now - session.createdAt) / 60_000), -1],
    expire_at: session.expireAt,
    abandon_at: session.createdAt + SESSION_ABANDON_AFTER_MS,
    last_active_at: lastActiveAt,
    last_active_token: token === null ? null : tokenWire(token),
    last_active_organization_id: null,
    actor: null,
    tasks: null,
    user: userWire(user),
    public_user_data: publicUserData(user),
    created_at: session.createdAt,
    updated_at: lastActiveAt,
  };
}

export function sessionWithActivities(
  view: SessionView,
  ipAddress: string,
  device: Device = { isMobile: false },
): SessionWithActivitiesWire {
  const { user: _user, ...rest } = sessionWire(view);
  return {
    ...rest,
    user: null,
    latest_activity: {
      object: "session_activity",
      id: `sess_act_${view.session.id}`,
      ...(device.browserName ? { browser_name: device.browserName } : {}),
      ...(device.browserVersion ? { browser_version: device.browserVersion } : {}),
      ip_address: ipAddress,
      // clerk-js prints "<ip_address> (<city>, <country>)" whatever they hold: "127.0.0.1 ()" without one.
      country: "loopback",
      is_mobile: device.isMobile,
    },
  };
}

/** Clerk's `ImageJSON`, what `setProfileImage` answers. */
export interface ImageWire {
  object: "image";
  id: string;
  name: string;
  public_url: string;
}

/** Clerk's `DeletedObjectJSON`: what deleting an email address or the user answers. */
export interface DeletedObjectWire {
  object: string;
  id: string;
  deleted: true;
}

export function tokenWire(jwt: string): TokenWire {
  return { object: "token", jwt };
}

/** A code verification as Clerk shows it (`attempts` counts every attempt, the right one too). */
export function codeVerificationWire(v: CodeVerification, now: number): VerificationWire {
  return {
    object: "verification",
    id: v.id,
    status: visibleStatus(v, now),
    strategy: v.strategy,
    attempts: v.attempts + (v.status === "verified" ? 1 : 0),
    expire_at: v.expireAt,
    verified_at_client: "",
  };
}

/** Password, a sign-in code and a reset code to the primary email: the factors every user has. */
export function firstFactors(user: UserJson | undefined): FirstFactorWire[] {
  const primary = user?.email_addresses.find((e) => e.id === user.primary_email_address_id);
  if (!primary) return [{ strategy: "password" }];
  const email = { email_address_id: primary.id, safe_identifier: primary.email_address, primary: true };
  return [
    { strategy: "password" },
    { strategy: "email_code", ...email },
    { strategy: "reset_password_email_code", ...email },
  ];
}

export function signInWire(signIn: SignInRecord, user: UserJson | undefined, now: number): SignInWire {
  let firstFactorVerification: VerificationWire | null = null;
  if (signIn.firstFactor) firstFactorVerification = codeVerificationWire(signIn.firstFactor, now);
  else if (signIn.status === "complete") {
    firstFactorVerification = {
      object: "verification",
      id: `ver_${signIn.id}`,
      status: "verified",
      strategy: "password",
      attempts: 1,
      expire_at: null,
      verified_at_client: "",
    };
  }
  return {
    object: "sign_in",
    id: signIn.id,
    status: signIn.status,
    supported_identifiers: ["email_address"],
    identifier: signIn.identifier,
    user_data: {
      ...(user?.first_name ? { first_name: user.first_name } : {}),
      ...(user?.last_name ? { last_name: user.last_name } : {}),
      image_url: user?.image_url ?? "",
      has_image: user?.has_image ?? false,
    },
    supported_first_factors: firstFactors(user),
    supported_second_factors: [],
    first_factor_verification: firstFactorVerification,
    second_factor_verification: null,
    created_session_id: signIn.createdSessionId,
    abandon_at: signIn.createdAt + ABANDON_AFTER_MS,
  };
}

/** The sign-up's email verification: `needs_prepare` until a code is sent, `needs_attempt` until it is used. */
function emailVerificationWire(signUp: SignUpRecord, now: number): SignUpVerificationWire | null {
  if (signUp.status === "complete" && !signUp.emailVerification) return null; // a record of an older run
  const v = signUp.emailVerification;
  const shown: VerificationWire = v
    ? codeVerificationWire(v, now)
    : {
        object: "verification",
        id: `ver_${signUp.id}`,
        status: "unverified",
        strategy: "email_code",
        attempts: null,
        expire_at: null,
        verified_at_client: "",
      };
  const nextAction = !v ? "needs_prepare" : shown.status === "unverified" ? "needs_attempt" : "";
  return { ...shown, next_action: nextAction, supported_strategies: ["email_code"] };
}

export function signUpWire(signUp: SignUpRecord, now: number): SignUpWire {
  const verified = signUp.status === "complete" || signUp.emailVerification?.status === "verified";
  const hasPassword = signUp.status === "complete" || !!signUp.passwordHash;
  return {
    object: "sign_up",
    id: signUp.id,
    status: signUp.status,
    required_fields: ["email_address", "password"],
    optional_fields: ["first_name", "last_name"],
    missing_fields: hasPassword ? [] : ["password"],
    unverified_fields: verified ? [] : ["email_address"],
    username: null,
    first_name: signUp.firstName,
    last_name: signUp.lastName,
    email_address: signUp.emailAddress,
    phone_number: null,
    web3_wallet: null,
    external_account_strategy: null,
    external_account: null,
    has_password: hasPassword,
    unsafe_metadata: {},
    created_session_id: signUp.createdSessionId,
    created_user_id: signUp.createdUserId,
    abandon_at: signUp.createdAt + ABANDON_AFTER_MS,
    legal_accepted_at: null,
    locale: null,
    verifications: {
      email_address: emailVerificationWire(signUp, now),
      phone_number: null,
      web3_wallet: null,
      external_account: null,
    },
  };
}

export function clientWire(
  client: ClientRecord,
  sessions: SessionWire[],
  signIn: SignInWire | null,
  now: number,
): ClientWire {
  return {
    object: "client",
    id: client.id,
    sessions,
    sign_in: signIn,
    sign_up: client.signUp && signUpWire(client.signUp, now),
    last_active_session_id: sessions.some((s) => s.id === client.lastActiveSessionId)
      ? client.lastActiveSessionId
      : null,
    last_authentication_strategy: client.signIn || client.signUp ? "password" : null,
    cookie_expires_at: client.expireAt,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  };
}
