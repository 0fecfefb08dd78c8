import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Clerk's limit on a profile image (clerk-js checks 10 * 1000 * 1000 bytes before uploading). */
export const MAX_IMAGE_BYTES = 10 * 1000 * 1000;

/**
 * The image types Clerk takes for avatars, told by their first bytes, never by the name or the
 * type the browser claimed: an SVG or HTML file renamed `.png` is refused, so nothing served
 * back from the IdP's origin can run script.
 */
const SIGNATURES: Array<{ type: string; matches: (b: Buffer) => boolean }> = [
  {
    type: "image/png",
    matches: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  { type: "image/jpeg", matches: (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    type: "image/gif",
    matches: (b) => ["GIF87a", "GIF89a"].includes(b.subarray(0, 6).toString("latin1")),
  },
  {
    type: "image/webp",
    matches: (b) =>
      b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP",
  },
];

/** The image type of these bytes, or undefined if they are not a PNG, JPEG, GIF or WebP. */
export function sniffImageType(bytes: Buffer): string | undefined {
  return SIGNATURES.find((s) => s.matches(bytes))?.type;
}

/** Image ids come from URLs: only this shape ever reaches the file system. */
const IMAGE_ID = /^img_[0-9A-Za-z]{27}$/;

/**
 * Uploaded profile images as files (`images/<id>` in the data dir, 0600 in a 0700 directory like
 * the rest of it); which user has which image is in the state (`IdpState.profileImages`).
 */
export class ImageFiles {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, "images");
  }

  write(id: string, bytes: Buffer): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    writeFileSync(this.path(id), bytes, { mode: 0o600 });
  }

  /** The image's bytes, or undefined (unknown id, or the file is gone). */
  read(id: string): Buffer | undefined {
    try {
      return readFileSync(this.path(id));
    } catch {
      return undefined;
    }
  }

  /** Best effort: a file left behind is only disk, never served (the state no longer names it). */
  remove(id: string): void {
    try {
      rmSync(this.path(id), { force: true });
    } catch {
      // ignore
    }
  }

  private path(id: string): string {
    if (!IMAGE_ID.test(id)) throw new Error("not an image id");
    return join(this.dir, id);
  }
}
