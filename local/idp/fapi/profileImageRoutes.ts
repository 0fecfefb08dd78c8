import { HttpError } from "../http.ts";
import { newId } from "../ids.ts";
import { sniffImageType } from "../images.ts";
import type { Route } from "../routes/route.ts";
import type { ProfileImage } from "../store.ts";
import { defaultImageUrl, displayName } from "../users.ts";
import { signedOut, type Fapi } from "./fapi.ts";
import type { ImageWire } from "./json.ts";
import { fapiPath } from "./paths.ts";
import { signedInForm } from "./request.ts";
import { readUpload } from "./upload.ts";

const typeInvalid = () =>
  new HttpError(
    422,
    "avatar_file_type_invalid",
    "File type not supported.",
    // No param_name: see upload.ts.
    "File type not supported. Please upload a JPG, PNG, GIF, or WEBP image.",
  );

/**
 * UserProfile's avatar: `POST /v1/me/profile_image` (multipart `file`) stores the image in the
 * data dir and points `image_url` at it (served by `routes/avatars.ts`, under a new URL per
 * upload, so no browser cache shows the old one); `DELETE` goes back to the generated initials.
 * Both send `user.updated`. Answers Clerk's `ImageJSON`; the piggybacked client carries the
 * user's new `image_url`, which is what clerk-js shows.
 */
export function profileImageRoutes(fapi: Fapi): Route[] {
  const { images, issuer } = fapi.options;
  const imageWire = (image: ProfileImage | undefined, publicUrl: string): ImageWire => ({
    object: "image",
    id: image?.id ?? "",
    name: image?.name ?? "",
    public_url: publicUrl,
  });

  return [
    {
      method: "POST",
      pattern: fapiPath("/me/profile_image"),
      access: "fapi",
      handle: async ({ req, url, origin }) => {
        // Signed in first: a stranger's upload is not even read.
        const { rc, user } = fapi.signedIn(req, url);
        const { bytes, name } = await readUpload(req);
        const contentType = sniffImageType(bytes);
        if (!contentType) throw typeInvalid();
        const image: ProfileImage = {
          id: newId("img"),
          userId: user.id,
          contentType,
          name,
          size: bytes.length,
          createdAt: fapi.now(),
        };
        const publicUrl = `${issuer}/v1/dev/avatars/${user.id}/${image.id}`;
        images.write(image.id, bytes);
        const previous = fapi.accounts.profileImage(user.id);
        const updated = fapi.accounts.changeUser(
          user.id,
          () => ({ image_url: publicUrl, profile_image_url: publicUrl, has_image: true }),
          (state) => state.profileImages.set(user.id, image),
        );
        if (!updated) {
          images.remove(image.id);
          throw signedOut();
        }
        if (previous) images.remove(previous.id);
        return fapi.respond(imageWire(image, publicUrl), rc, origin);
      },
    },
    {
      method: "DELETE",
      pattern: fapiPath("/me/profile_image"),
      access: "fapi",
      handle: async ({ req, url, origin }) => {
        const { rc, user } = await signedInForm(fapi, req, url, []);
        const previous = fapi.accounts.profileImage(user.id);
        const initials = defaultImageUrl(issuer, user.id, displayName(user));
        // Nothing uploaded and already the initials: nothing changes, no webhook.
        if (previous || user.image_url !== initials) {
          fapi.accounts.changeUser(
            user.id,
            () => ({ image_url: initials, profile_image_url: initials, has_image: false }),
            (state) => state.profileImages.delete(user.id),
          );
          if (previous) images.remove(previous.id);
        }
        return fapi.respond(imageWire(previous, initials), rc, origin);
      },
    },
  ];
}
