import type { IncomingMessage } from "node:http";
import { HttpError } from "../http.ts";
import { isLoopbackOrigin } from "../origins.ts";
import type { Fapi, SignedIn } from "./fapi.ts";

/** FAPI forms are a few short fields; anything bigger is not clerk-js talking. */
const MAX_FORM_BYTES = 16 * 1024;

/**
 * Reads clerk-js's body: `application/x-www-form-urlencoded`, snake_case keys (clerk-js sends that
 * type even with an empty body). An empty body is an empty form whatever its type; a non-empty one
 * of another type is refused. Bounded: past MAX_FORM_BYTES the request is answered 413.
 */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_FORM_BYTES) {
      throw new HttpError(
        413,
        "request_body_too_large",
        "Request body too large",
        "The request body is too large.",
      );
    }
    chunks.push(buffer);
  }
  if (size === 0) return new URLSearchParams();
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(
      415,
      "unsupported_media_type",
      "Unsupported content type",
      "The Frontend API takes application/x-www-form-urlencoded bodies.",
    );
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.includes("\uFFFD")) throw formInvalid("The request body is not valid UTF-8.");
  return new URLSearchParams(text);
}

export function formInvalid(longMessage: string, paramName?: string): HttpError {
  return new HttpError(
    422,
    "form_param_format_invalid",
    "is invalid",
    longMessage,
    paramName ? { param_name: paramName } : {},
  );
}

/**
 * One form field: a single value, trimmed if asked, at most `max` characters. Repeating a field is
 * an error (which value was meant?), and so is a missing required one (Clerk's `form_param_missing`).
 */
export function field(
  form: URLSearchParams,
  name: string,
  options: { required: true; max: number; trim?: boolean },
): string;
export function field(
  form: URLSearchParams,
  name: string,
  options: { required?: false; max: number; trim?: boolean },
): string | undefined;
export function field(
  form: URLSearchParams,
  name: string,
  options: { required?: boolean; max: number; trim?: boolean },
): string | undefined {
  const values = form.getAll(name);
  if (values.length > 1) throw formInvalid(`${name} was given more than once.`, name);
  const raw = values[0];
  const value = raw === undefined ? undefined : options.trim ? raw.trim() : raw;
  if (value === undefined || value === "") {
    if (!options.required) return value;
    throw new HttpError(
      422,
      "form_param_missing",
      `${name} is missing`,
      `Enter ${name.replace(/_/g, " ")}.`,
      {
        param_name: name,
      },
    );
  }
  if (value.length > options.max) {
    throw new HttpError(
      422,
      "form_param_exceeds_allowed_size",
      "is too long",
      `${name.replace(/_/g, " ")} must be at most ${options.max} characters.`,
      { param_name: name },
    );
  }
  return value;
}

/** Fields clerk-js may send that this emulation accepts and ignores (e.g. `locale`). */
export function rejectUnknown(form: URLSearchParams, known: readonly string[]): void {
  for (const name of form.keys()) {
    if (!known.includes(name)) {
      throw new HttpError(
        422,
        "form_param_unknown",
        "is unknown",
        `${name.slice(0, 64)} is not a valid parameter for this request.`,
        {
          param_name: name,
        },
      );
    }
  }
}

/**
 * The start of a `/v1/me` change: its form read, fields other than `known` refused and `parse` run
 * on it (so a malformed request is 422 whether or not it is signed in), then the signed-in caller
 * (`Fapi.signedIn`, else 401 `signed_out`). `form` is what `parse` returns.
 */
export function signedInForm(
  fapi: Fapi,
  req: IncomingMessage,
  url: URL,
  known: readonly string[],
): Promise<SignedIn>;
export function signedInForm<T>(
  fapi: Fapi,
  req: IncomingMessage,
  url: URL,
  known: readonly string[],
  parse: (form: URLSearchParams) => T,
): Promise<SignedIn & { form: T }>;
export async function signedInForm<T>(
  fapi: Fapi,
  req: IncomingMessage,
  url: URL,
  known: readonly string[],
  parse?: (form: URLSearchParams) => T,
): Promise<SignedIn & { form?: T }> {
  const raw = await readForm(req);
  rejectUnknown(raw, known);
  const form = parse?.(raw);
  return { ...fapi.signedIn(req, url), form };
}

/**
 * The page that called, for a token's `azp`: its `Origin`, else (Chromium sends no `Origin` on a
 * same-origin GET such as clerk-js's `GET /v1/client`) the origin of its `Referer`, if loopback.
 */
export function callerOrigin(req: IncomingMessage, origin: string | undefined): string | undefined {
  if (origin) return origin;
  const referer = req.headers.referer;
  if (!referer) return undefined;
  try {
    const fromReferer = new URL(referer).origin;
    return isLoopbackOrigin(fromReferer) ? fromReferer : undefined;
  } catch {
    return undefined;
  }
}
