import { readdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_IMAGE_BYTES } from "../images.ts";
import { callAsBackend, type ReceivedWebhook, type TestIdp } from "../test.idp.ts";
import type { UserJson } from "../users.ts";
import type { ClientWire, ImageWire } from "./json.ts";
import {
  APP_ORIGIN,
  asClerk,
  expectClerkError,
  fapiClient,
  idpWithWebhooks,
  signUpFreshUser,
  type Envelope,
  type FapiResponse,
  type FapiTestClient,
} from "./test.fapi.ts";

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from("not really the rest of a png"),
]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("jfif-ish")]);
const GIF = Buffer.from("GIF89a\x01\x00\x01\x00", "latin1");
const WEBP = Buffer.concat([Buffer.from("RIFF"), Buffer.from([0, 0, 0, 0]), Buffer.from("WEBPVP8 ")]);

/** `setProfileImage({ file })` as clerk-js sends it: POST with a FormData body (or another body) and the cookie. */
async function upload<T = Envelope<ImageWire>>(
  idp: TestIdp,
  fapi: FapiTestClient,
  body: FormData | string | Uint8Array,
  contentType?: string,
): Promise<FapiResponse<T>> {
  const headers: Record<string, string> = { Cookie: fapi.cookieHeader(), Origin: APP_ORIGIN };
  if (contentType) headers["Content-Type"] = contentType;
  const res = await fetch(`${idp.url}/__clerk/v1/me/profile_image?_clerk_js_version=5.128.0`, {
    method: "POST",
    headers,
    body: body as BodyInit,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

function fileForm(bytes: Uint8Array, name: string, type: string, field = "file"): FormData {
  const form = new FormData();
  form.append(field, new File([new Uint8Array(bytes)], name, { type }));
  return form;
}

/** Clerk's error shape; `param` only where a form field exists (else clerk-js would show nothing). */
function expectError(res: FapiResponse<unknown>, status: number, code: string, param?: string) {
  const error = expectClerkError(res, status, code, param);
  if (!param && code !== "form_param_unknown") expect(error?.meta).toEqual({});
}

const events = (received: ReceivedWebhook[]) =>
  received.map((r) => JSON.parse(r.body) as { type: string; data: UserJson });

describe("UserProfile avatar (/v1/me/profile_image)", () => {
  const env = idpWithWebhooks({ seed: true });
  const freshUser = () => signUpFreshUser(env, { origin: APP_ORIGIN });

  async function backendUser(userId: string): Promise<UserJson> {
    return (await (await callAsBackend(env.idp, `/v1/users/${userId}`)).json()) as UserJson;
  }

  const imageFiles = () => readdirSync(join(env.idp.dataDir, "images"));

  it("the initials image's URL changes with the name, so a page that drew the old initials draws the new ones", async () => {
    const { fapi, user } = await freshUser();
    expect(user.image_url).toContain("avatar_placeholder");
    const renamed = await fapi.call<Envelope<UserJson>>("POST", "/me?_method=PATCH", { first_name: "Lena" });
    expect(renamed.status).toBe(200);
    const after = renamed.body.response;
    expect(after.image_url).toContain("avatar_placeholder");
    expect(after.image_url).not.toBe(user.image_url);
    // The same name gives the same URL (a browser keeps its cached drawing), and it draws "L".
    const again = await fapi.call<Envelope<UserJson>>("POST", "/me?_method=PATCH", { first_name: "Lena" });
    expect(again.body.response.image_url).toBe(after.image_url);
    const svg = await (await fetch(after.image_url)).text();
    expect(svg).toMatch(/>L<\/text>/);
    expect((await backendUser(user.id)).image_url).toBe(after.image_url);
  });

  it("uploads an image, serves it safely at a new URL, replaces it, and removes it back to the initials", async () => {
    const { fapi, user } = await freshUser();
    // The generated initials count as Clerk's default image: UserProfile offers no "Remove".
    expect(user.image_url).toContain("avatar_placeholder");
    expect(user.has_image).toBe(false);

    const uploaded = await upload(env.idp, fapi, fileForm(PNG, "me.png", "image/png"));
    expect(uploaded.status).toBe(200);
    const image = uploaded.body.response;
    expect(image).toEqual({
      object: "image",
      id: expect.stringMatching(/^img_/),
      name: "me.png",
      public_url: `${env.idp.url}/v1/dev/avatars/${user.id}/${image.id}`,
    });
    const session = asClerk.session((uploaded.body.client as ClientWire).sessions[0]!);
    expect(session.user).toMatchObject({ image_url: image.public_url, has_image: true });
    expect(session.public_user_data).toMatchObject({ image_url: image.public_url, has_image: true });

    // clerk-js loads avatars with `crossorigin`, from the page's origin: readable by any page, as
    // Clerk's image CDN is, whatever an earlier plain <img> load left in the browser's cache.
    const served = await fetch(image.public_url, { headers: { Origin: "http://127.0.0.1:5173" } });
    expect(served.status).toBe(200);
    expect(served.headers.get("access-control-allow-origin")).toBe("*");
    expect(served.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    const plain = await fetch(image.public_url);
    expect(plain.headers.get("access-control-allow-origin")).toBe("*");
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(served.headers.get("x-content-type-options")).toBe("nosniff");
    expect(served.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(Buffer.from(await served.arrayBuffer())).toEqual(PNG);

    const backend = await backendUser(user.id);
    expect(backend).toMatchObject({
      image_url: image.public_url,
      profile_image_url: image.public_url,
      has_image: true,
    });

    // Each type Clerk takes, told by its bytes: the browser's type and name do not matter.
    for (const [bytes, type] of [
      [JPEG, "image/jpeg"],
      [GIF, "image/gif"],
      [WEBP, "image/webp"],
    ] as const) {
      const next = await upload(env.idp, fapi, fileForm(bytes, "photo", "application/octet-stream"));
      expect(next.status).toBe(200);
      const got = await fetch(next.body.response.public_url);
      expect(got.headers.get("content-type")).toBe(type);
    }
    // Replaced images are gone: their URL 404s and their file is deleted.
    expect((await fetch(image.public_url)).status).toBe(404);
    const current = (await backendUser(user.id)).image_url;
    expect(imageFiles()).toEqual([current.split("/").pop()]);

    const removed = await fapi.call<Envelope<ImageWire>>("DELETE", "/me/profile_image");
    expect(removed.status).toBe(200);
    expect(removed.body.response.public_url).toContain("avatar_placeholder");
    expect(removed.body.client!.sessions[0]!.user).toMatchObject({
      image_url: removed.body.response.public_url,
      has_image: false,
    });
    expect((await fetch(current)).status).toBe(404);
    expect(imageFiles()).toEqual([]);
    const initials = await fetch(removed.body.response.public_url);
    expect(initials.headers.get("content-type")).toBe("image/svg+xml");
    expect(initials.headers.get("x-content-type-options")).toBe("nosniff");

    // Removing again changes nothing.
    expect((await fapi.call("DELETE", "/me/profile_image")).status).toBe(200);

    await env.idp.whenDelivered(5_000);
    const sent = events(env.receiver.received);
    expect(sent.map((e) => e.type)).toEqual(Array(5).fill("user.updated"));
    expect(sent[0]!.data).toMatchObject({
      id: user.id,
      image_url: image.public_url,
      profile_image_url: image.public_url,
      has_image: true,
    });
    expect(sent[4]!.data).toMatchObject({ has_image: false, image_url: removed.body.response.public_url });
  });

  it("accepts clerk-js's string form (application/octet-stream with a base64 data URL)", async () => {
    const { fapi } = await freshUser();
    const dataUrl = `data:image/png;base64,${PNG.toString("base64")}`;
    const res = await upload(env.idp, fapi, dataUrl, "application/octet-stream");
    expect(res.status).toBe(200);
    const served = await fetch(res.body.response.public_url);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(PNG);
  });

  it("refuses what is not a PNG, JPEG, GIF or WebP of at most 10 MB with Clerk's 4xx, never a 500, changing nothing", async () => {
    const { fapi, user } = await freshUser();
    const before = await backendUser(user.id);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const html = Buffer.from("<!doctype html><script>alert(1)</script>");

    for (const [bytes, name, type] of [
      [svg, "evil.png", "image/png"],
      [svg, "evil.svg", "image/svg+xml"],
      [html, "page.gif", "image/gif"],
      [Buffer.from("GIF8"), "short.gif", "image/gif"],
      [Buffer.alloc(0), "empty.png", "image/png"],
      [Buffer.from("RIFF\0\0\0\0WAVE"), "sound.webp", "image/webp"],
    ] as const) {
      expectError(await upload(env.idp, fapi, fileForm(bytes, name, type)), 422, "avatar_file_type_invalid");
    }
    const huge = Buffer.concat([PNG, Buffer.alloc(MAX_IMAGE_BYTES + 1 - PNG.length)]);
    expectError(
      await upload(env.idp, fapi, fileForm(huge, "huge.png", "image/png")),
      422,
      "avatar_file_size_exceeded",
    );
    expectError(
      await upload(env.idp, fapi, fileForm(PNG, "me.png", "image/png", "image")),
      422,
      "form_param_unknown",
      "image",
    );
    const two = fileForm(PNG, "a.png", "image/png");
    two.append("file", new File([new Uint8Array(PNG)], "b.png", { type: "image/png" }));
    expectError(await upload(env.idp, fapi, two), 422, "form_param_format_invalid");
    const textField = new FormData();
    textField.append("file", "just text");
    expectError(await upload(env.idp, fapi, textField), 422, "form_param_missing");
    expectError(await upload(env.idp, fapi, new FormData()), 422, "form_param_missing");
    expectError(
      await upload(env.idp, fapi, "--nope\r\ngarbage", "multipart/form-data; boundary=other"),
      422,
      "form_param_format_invalid",
    );
    expectError(
      await upload(env.idp, fapi, "garbage", "multipart/form-data"),
      422,
      "form_param_format_invalid",
    );
    expectError(
      await upload(env.idp, fapi, new Uint8Array(PNG), "application/octet-stream"),
      422,
      "form_param_format_invalid",
    );
    expectError(await upload(env.idp, fapi, "", "application/octet-stream"), 422, "form_param_missing");
    expectError(
      await upload(
        env.idp,
        fapi,
        `data:image/svg+xml;base64,${svg.toString("base64")}`,
        "application/octet-stream",
      ),
      422,
      "avatar_file_type_invalid",
    );
    for (const type of ["application/json", "text/plain", "image/png", "application/x-www-form-urlencoded"]) {
      expectError(await upload(env.idp, fapi, PNG.toString("latin1"), type), 415, "unsupported_media_type");
    }
    // A declared length past the limit is refused before the body is read.
    const declared = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${env.idp.url}/__clerk/v1/me/profile_image`);
      const req = request(url, {
        method: "POST",
        headers: {
          Cookie: fapi.cookieHeader(),
          Origin: APP_ORIGIN,
          "Content-Type": "multipart/form-data; boundary=x",
          "Content-Length": String(50 * 1000 * 1000),
        },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", reject);
      req.write("--x\r\n");
    });
    expect(declared).toBe(422);

    expect(await backendUser(user.id)).toEqual(before);
    expect(await env.deliveredWebhooks()).toEqual([]);
  });

  it("needs a signed-in client, and serves a user's image only at its current URL", async () => {
    const stranger = fapiClient(env.idp.url);
    expectError(await upload(env.idp, stranger, fileForm(PNG, "me.png", "image/png")), 401, "signed_out");
    expectError(await stranger.call("DELETE", "/me/profile_image"), 401, "signed_out");

    const { fapi, user } = await freshUser();
    const image = (await upload(env.idp, fapi, fileForm(PNG, "me.png", "image/png"))).body.response;
    const other = await freshUser();
    for (const path of [
      `/v1/dev/avatars/${other.user.id}/${image.id}`,
      `/v1/dev/avatars/${user.id}/img_doesnotexist`,
      `/v1/dev/avatars/${user.id}/..%2F..%2Fstate.json`,
      `/v1/dev/avatars/${user.id}/%2e%2e`,
    ]) {
      const res = await fetch(`${env.idp.url}${path}`);
      expect(res.status).toBe(404);
    }

    // Deleting the user (Backend API) deletes the image too.
    const deleted = await callAsBackend(env.idp, `/v1/users/${user.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect((await fetch(image.public_url)).status).toBe(404);
    expect(imageFiles()).not.toContain(image.id);
  });
});
