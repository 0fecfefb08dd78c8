/**
 * `GET /v1/environment` (and the dev instances' `POST ?_method=PATCH`): the instance settings
 * clerk-js renders its components from. A section that is present replaces clerk-js's defaults
 * entirely, so each is complete: email + password (or email code) sign-in, password reset by
 * email code, sign-up with optional names and the email verified by code, single-session mode, no
 * reverification, no organizations, Clerk Billing for users (emulated: `billing/`) with every field
 * clerk-js parses, no captcha, no Protect loaders (they would inject scripts).
 */

/** Clerk's bounds for passwords (clerk-js clamps to 8–72). */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 72;

const disabled = {
  enabled: false,
  required: false,
  verifications: [],
  used_for_first_factor: false,
  first_factors: [],
  used_for_second_factor: false,
  second_factors: [],
  verify_at_sign_up: false,
};

export const APPLICATION_NAME = "Gatehouse";

export function environmentJson(appOrigin: string) {
  const url = (path: string) => `${appOrigin}${path}`;
  return {
    object: "environment" as const,
    id: "env_local_idp",
    auth_config: {
      object: "auth_config" as const,
      id: "aac_local_idp",
      single_session_mode: true,
      claimed_at: null,
      reverification: false,
    },
    display_config: {
      object: "display_config" as const,
      id: "display_config_local_idp",
      instance_environment_type: "development",
      application_name: APPLICATION_NAME,
      branded: false,
      show_devmode_warning: false,
      preferred_sign_in_strategy: "password" as const,
      theme: {
        general: {
          color: "#6c47ff" as const,
          background_color: "#ffffff",
          font_family: "",
          font_color: "#000000" as const,
          label_font_weight: "600",
          padding: "1em",
          border_radius: "0.5em",
          box_shadow: "0 2px 8px rgba(0, 0, 0, 0.2)",
        },
        buttons: { font_color: "#ffffff" as const, font_family: "", font_weight: "600" },
        accounts: { background_color: "#ffffff" },
      },
      logo_image_url: "",
      favicon_image_url: "",
      home_url: url("/"),
      sign_in_url: url("/sign-in"),
      sign_up_url: url("/sign-up"),
      user_profile_url: url("/"),
      after_sign_in_url: url("/"),
      after_sign_up_url: url("/"),
      after_sign_out_one_url: url("/"),
      after_sign_out_all_url: url("/"),
      after_switch_session_url: url("/"),
      organization_profile_url: url("/"),
      create_organization_url: url("/"),
      after_leave_organization_url: url("/"),
      after_create_organization_url: url("/"),
      waitlist_url: url("/"),
      after_join_waitlist_url: url("/"),
      support_email: "",
      terms_url: "",
      privacy_policy_url: "",
      // Captcha stays off offline: a key would load Cloudflare Turnstile from the internet.
      captcha_public_key: null,
      captcha_widget_type: null,
      captcha_public_key_invisible: null,
      captcha_provider: "turnstile" as const,
      captcha_oauth_bypass: null,
    },
    user_settings: {
      attributes: {
        email_address: {
          enabled: true,
          required: true,
          verifications: ["email_code" as const],
          used_for_first_factor: true,
          first_factors: ["email_code" as const],
          used_for_second_factor: false,
          second_factors: [],
          verify_at_sign_up: true,
        },
        first_name: { ...disabled, enabled: true },
        last_name: { ...disabled, enabled: true },
        password: { ...disabled, enabled: true, required: true },
        phone_number: disabled,
        username: disabled,
        web3_wallet: disabled,
        authenticator_app: disabled,
        backup_code: disabled,
        passkey: disabled,
      },
      // UserProfile offers "Delete account" (`DELETE /v1/me`); organizations are not emulated.
      actions: { delete_self: true, create_organization: false },
      social: {},
      saml: { enabled: false },
      enterprise_sso: { enabled: false },
      sign_in: { second_factor: { required: false, enabled: false } },
      sign_up: {
        allowlist_only: false,
        progressive: true,
        captcha_enabled: false,
        mode: "public" as const,
        legal_consent_enabled: false,
      },
      password_settings: {
        allowed_special_characters: "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        // No haveibeenpwned offline.
        disable_hibp: true,
        min_length: PASSWORD_MIN_LENGTH,
        max_length: PASSWORD_MAX_LENGTH,
        require_special_char: false,
        require_numbers: false,
        require_uppercase: false,
        require_lowercase: false,
        show_zxcvbn: false,
        min_zxcvbn_strength: 0,
      },
      passkey_settings: { allow_autofill: false, show_sign_in_button: false },
      username_settings: { min_length: 4, max_length: 64 },
    },
    organization_settings: {
      enabled: false,
      max_allowed_memberships: 0,
      force_organization_selection: false,
      actions: { admin_delete: false },
      domains: { enabled: false, enrollment_modes: [], default_role: null },
      slug: { disabled: true },
      organization_creation_defaults: { enabled: false },
    },
    // clerk-js fails to parse a billing section with any of these missing (Clerk.status "degraded").
    // Billing for users with a paid plan; no Stripe key: offline, checkout pays with saved test
    // cards only (billing/cards.ts), and the key would only make clerk-js load Stripe.js.
    commerce_settings: {
      object: "commerce_settings" as const,
      id: "commerce_settings_local_idp",
      billing: {
        stripe_publishable_key: null,
        organization: { enabled: false, has_paid_plans: false },
        user: { enabled: true, has_paid_plans: true },
      },
    },
    api_keys_settings: {
      object: "api_keys_settings" as const,
      id: "api_keys_settings_local_idp",
      user_api_keys_enabled: false,
      orgs_api_keys_enabled: false,
      enabled: false,
    },
    protect_config: { object: "protect_config" as const, id: "protect_config_local_idp", loaders: [] },
    maintenance_mode: false,
    client_debug_mode: false,
  };
}

export type EnvironmentWire = ReturnType<typeof environmentJson>;
