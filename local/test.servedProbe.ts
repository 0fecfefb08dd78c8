/**
 * Probing what a dev server serves: raw requests (sent byte for byte, unlike fetch, which
 * normalizes the path first) and the many spellings of one file's path that Vite might resolve.
 */
import http from "node:http";
import path from "node:path";

export function get(port: number, rawPath: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    // node:http sends the path exactly as given (fetch would normalize it first).
    const req = http.get({ host: "127.0.0.1", port, path: rawPath, headers: { accept: "*/*" } }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers["content-type"] ?? "") }),
      );
    });
    req.on("error", reject);
  });
}

export const encodeAll = (s: string) =>
  [...s].map((c) => (c === "/" ? "/" : `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`)).join("");

/** The query suffixes Vite gives meaning to (raw text, JS module, asset URL, inline, workers, …). */
export const SUFFIXES = [
  "",
  "?raw",
  "?import",
  "?url",
  "?inline",
  "?raw&import",
  "?import&raw",
  "?import&url",
  "?worker",
  "?sharedworker",
  "?worker_file&type=module",
  "?html-proxy&index=0.js",
  "?direct",
  "?t=1",
  "?v=1",
  "?",
];

/** Ways to spell the root-relative path `rel` (no leading slash) of a file inside the project. */
export function inRootSpellings(rel: string, root: string): string[] {
  const [first, ...rest] = rel.split("/");
  const tail = rest.join("/");
  const abs = path.join(root, rel);
  const up = root.split("/").filter(Boolean).length;
  return [
    `/${rel}`,
    `/${rel.replace(/\./g, "%2e")}`,
    `/${rel.replace(/\./g, "%2E")}`,
    `/${rel.replace(/\//g, "%2f")}`,
    `/${rel.replace(/\//g, "%2F")}`,
    `/${rel.replace(/\//g, "%5c")}`,
    `/${rel.replace(/\//g, "\\")}`,
    `/${encodeAll(rel)}`,
    `/${rel.replace(/\./g, "%252e")}`,
    `/${rel.replace(/\//g, "//")}`,
    `//${rel}`,
    `/./${rel}`,
    `/${first}/./${tail}`,
    `/src/../${rel}`,
    `/src/..%2f${rel}`,
    `/src/%2e%2e/${rel}`,
    `/node_modules/../${rel}`,
    `/public/../${rel}`,
    `/@vite/../${rel}`,
    `/${"..%2f".repeat(up)}${abs.slice(1)}`,
    `/${rel.toUpperCase()}`,
    `/${first}/${tail.toUpperCase()}`,
    `/${rel}/`,
    `/${rel}%00`,
    `/${rel};x`,
    `/${rel}.`,
    `/@fs${abs}`,
    `/@fs/${abs}`,
    `/@fs${abs.replace(/\./g, "%2e")}`,
    `/@fs${path.dirname(root)}/${path.basename(root)}/src/../${rel}`,
    `/@id${abs}`,
    `/@id/${rel}`,
    `/@id/__x00__${abs}`,
    `/@id/@fs${abs}`,
  ];
}

/** Ways to spell the absolute path of a file outside the project. */
export function outsideSpellings(abs: string, root: string): string[] {
  const up = root.split("/").filter(Boolean).length;
  return [
    `/@fs${abs}`,
    `/@fs/${abs}`,
    `/@fs${abs.replace(/\./g, "%2e")}`,
    `/@fs${abs.replace(/\//g, "%2f")}`,
    `/@fs${encodeAll(abs)}`,
    `/@fs${abs.toUpperCase()}`,
    `/@fs${root}/${"../".repeat(up)}${abs.slice(1)}`,
    `/@id${abs}`,
    `/@id/__x00__${abs}`,
    `/${"../".repeat(up)}${abs.slice(1)}`,
    `/${"..%2f".repeat(up)}${abs.slice(1)}`,
    `/${"%2e%2e/".repeat(up)}${abs.slice(1)}`,
    `/src/${"..%2f".repeat(up + 1)}${abs.slice(1)}`,
  ];
}

/**
 * Requests every URL; returns those whose body contains one of `secrets` (leaks) and those
 * answered with anything but 403/404 (a denial must be a denial, not an SPA fallback or an error).
 */
export async function probe(
  port: number,
  urls: readonly string[],
  secrets: readonly string[],
): Promise<{ leaks: string[]; notDenied: string[]; requests: number }> {
  const leaks: string[] = [];
  const notDenied: string[] = [];
  for (const url of urls) {
    const { status, body } = await get(port, url);
    if (secrets.some((secret) => body.includes(secret))) leaks.push(`${status} ${url}`);
    else if (status !== 403 && status !== 404) notDenied.push(`${status} ${url}`);
  }
  return { leaks, notDenied, requests: urls.length };
}

/** Every spelling × every suffix. */
export function variants(spellings: readonly string[]): string[] {
  return spellings.flatMap((spelling) => SUFFIXES.map((suffix) => spelling + suffix));
}
