import { createHash } from "node:crypto";
import type { Accounts } from "../accounts.ts";
import { notFound } from "../http.ts";
import { displayName } from "../users.ts";
import type { Route } from "./route.ts";

/**
 * Clerk always gives a user an `image_url` (a generated avatar on img.clerk.com). Offline there
 * is no such host, so the IdP draws one: the user's initials on a colour derived from their id.
 */
export function avatarRoutes(accounts: Accounts): Route[] {
  return [
    {
      method: "GET",
      pattern: /^\/v1\/dev\/avatars\/([^/]+)$/,
      access: "browser",
      handle: ({ params: [id = ""] }) => {
        const user = accounts.getUser(id);
        if (!user) throw notFound("avatar");
        return {
          status: 200,
          raw: avatarSvg(id, displayName(user)),
          headers: {
            "Content-Type": "image/svg+xml",
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
