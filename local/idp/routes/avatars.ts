import { createHash } from "node:crypto";
import type { Accounts } from "../accounts.ts";
import { notFound } from "../http.ts";
import type { ImageFiles } from "../images.ts";
import { displayName } from "../users.ts";
import type { Route } from "./route.ts";

/**
 * Clerk always gives a user an `image_url` (a generated avatar on img.clerk.com). Offline there
 * is no such host, so the IdP draws one: the user's initials on a colour derived from their id.
 * An uploaded image (`fapi/profileImageRoutes.ts`) is served at its own URL, only while it is the
 * user's image, and only as the PNG, JPEG, GIF or WebP its bytes were found to be: with `nosniff`
 * and a CSP that allows nothing, no upload can become a page on the IdP's origin.
 */
export function avatarRoutes(accounts: Accounts, images: ImageFiles): Route[] {
  return [
    {
      method: "GET",
      pattern: /^\/v1\/dev\/avatars\/([^/]+)\/([^/]+)$/,
      access: "public",
      handle: ({ params: [userId = "", imageId = ""] }) => {
        const image = accounts.profileImage(userId);
        const bytes = image?.id === imageId ? images.read(image.id) : undefined;
        if (!image || !bytes) throw notFound("avatar");
        return {
          status: 200,
          raw: bytes,
          headers: {
            "Content-Type": image.contentType,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            // A new upload gets a new URL: this one's bytes never change.
            "Cache-Control": "public, max-age=31536000, immutable",
          },
        };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/dev\/avatars\/([^/]+)$/,
      access: "public",
      handle: ({ params: [id = ""] }) => {
        const user = accounts.getUser(id);
        if (!user) throw notFound("avatar");
        return {
          status: 200,
          raw: avatarSvg(id, displayName(user)),
          headers: {
            "Content-Type": "image/svg+xml",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=3600",
            // An SVG opened directly is a document: allow it no scripts and no fetches.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
          },
        };
      },
    },
  ];
}

function avatarSvg(id: string, name: string): string {
  // Letters and digits only, so nothing from a user's name can form markup.
  const firsts = name.split(/[\s@.]+/).map((part) => [...part].find((ch) => /[\p{L}\p{N}]/u.test(ch)) ?? "");
  const initials = firsts.join("").toUpperCase() || "?";
  const hue = createHash("sha256").update(id).digest()[0] ?? 0;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">` +
    `<rect width="128" height="128" fill="hsl(${Math.round((hue / 255) * 360)} 55% 45%)"/>` +
    `<text x="64" y="64" dy=".35em" text-anchor="middle" font-family="system-ui, sans-serif" ` +
    `font-size="52" fill="#fff">${[...initials].slice(0, 2).join("")}</text></svg>`
  );
}
