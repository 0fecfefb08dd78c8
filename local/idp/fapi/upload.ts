import type { IncomingMessage } from "node:http";
import { HttpError } from "../http.ts";
import { MAX_IMAGE_BYTES } from "../images.ts";
import { rejectUnknown } from "./request.ts";

/** Room for the multipart framing (boundaries, part headers) around a file of the maximum size. */
const MULTIPART_OVERHEAD = 64 * 1024;
/** A base64 string body is 4/3 of its bytes, plus a `data:image/…;base64,` prefix. */
const MAX_BODY_BYTES = Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + MULTIPART_OVERHEAD;

export interface Upload {
  bytes: Buffer;
  /** The file name the browser gave (multipart), trimmed to something displayable. */
  name: string;
}

export const fileTooLarge = () =>
  new HttpError(
    422,
    "avatar_file_size_exceeded",
    "File size exceeds the maximum limit of 10MB.",
    "File size exceeds the maximum limit of 10MB. Please choose a smaller file.",
  );

const fileMissing = () =>
  new HttpError(422, "form_param_missing", "file is missing", "Choose an image to upload.");

/**
 * Errors here carry no `param_name`: UserProfile's avatar has no form field, and clerk-js drops
 * an error naming a field it does not have (`handleError`), showing nothing. Without one it
 * shows the card alert (Clerk's own text for the `avatar_file_*` codes).
 *
 * Reads `setProfileImage`'s body, as clerk-js sends it: `multipart/form-data` with one `file`
 * part (a File), or `application/octet-stream` holding a base64 string (a data URL or bare base64,
 * when the app passes a string). Bounded: a declared or actual body past the limit is refused
 * before it is buffered whole; the multipart itself is parsed by Node's own fetch (undici) parser.
 */
export async function readUpload(req: IncomingMessage): Promise<Upload> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "multipart/form-data" && type !== "application/octet-stream") {
    throw new HttpError(
      415,
      "unsupported_media_type",
      "Unsupported content type",
      "Upload the image as multipart/form-data (a file field) or application/octet-stream.",
    );
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw fileTooLarge();
  const body = await readBounded(req);
  if (body.length === 0) throw fileMissing();
  return type === "multipart/form-data"
    ? fromMultipart(body, req.headers["content-type"] ?? "")
    : { bytes: fromBase64String(body), name: "" };
}

async function readBounded(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw fileTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

async function fromMultipart(body: Buffer, contentType: string): Promise<Upload> {
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(body), { headers: { "Content-Type": contentType } }).formData();
  } catch {
    throw new HttpError(
      422,
      "form_param_format_invalid",
      "is invalid",
      "The upload is not valid multipart/form-data.",
    );
  }
  rejectUnknown(new URLSearchParams([...form.keys()].map((k) => [k, ""])), ["file"]);
  const files = form.getAll("file");
  if (files.length > 1) {
    throw new HttpError(422, "form_param_format_invalid", "is invalid", "Upload one file.");
  }
  const [file] = files;
  if (!(file instanceof Blob)) throw fileMissing();
  if (file.size > MAX_IMAGE_BYTES) throw fileTooLarge();
  const name = file instanceof File ? file.name : "";
  return { bytes: Buffer.from(await file.arrayBuffer()), name: displayName(name) };
}

/** `setProfileImage({ file: "data:image/png;base64,…" })` or bare base64: the decoded bytes. */
function fromBase64String(body: Buffer): Buffer {
  const text = body.toString("latin1").trim();
  const match = /^data:[\w.+-]+\/[\w.+-]+;base64,(.*)$/s.exec(text);
  const base64 = (match ? match[1]! : text).replace(/\s/g, "");
  if (base64 === "" || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
    throw new HttpError(
      422,
      "form_param_format_invalid",
      "is invalid",
      "An application/octet-stream upload must be a base64 image (or a data: URL).",
    );
  }
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length > MAX_IMAGE_BYTES) throw fileTooLarge();
  return bytes;
}

/** A file name to show: its last segment, printable characters only, at most 100. */
function displayName(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? "";
  return [...last]
    .filter((ch) => /[\p{L}\p{N}\p{P}\p{Zs}]/u.test(ch))
    .join("")
    .slice(0, 100);
}
