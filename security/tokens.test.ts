/**
 * JWT attacks J1–J23 (docs/security.md) against the running stack. Every token starts as a
 * real session token minted by the IdP for a seeded account; one property is then changed and the
 * token re-signed with the IdP's own key (so only that property can be why it is refused) or with
 * an attacker key from `jose`. Each is sent over the WebSocket (ConvexClient.setAuth) and over the
 * HTTP API (Bearer), each refusal must leave every table as it was, and an unmodified and a
 * re-signed-unchanged token are accepted in the same run (so refusals are not the signer's fault).
 */
import { execFileSync } from "node:child_process";
import { KeyObject, createPrivateKey } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { exportJWK, generateKeyPair, calculateJwkThumbprint } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { api } from "../convex/_generated/api";
import { idpClient } from "../local/idp/client.ts";
import { startTestIdp, type TestIdp } from "../local/idp/test.idp.ts";
import type { Backend } from "../local/backend/server.ts";
import { rawConnect } from "../local/backend/test.backend.ts";
import {
  b64url,
  clerkFor,
  clientWithToken,
  dbState,
  decodeJwtParts,
  expectNoStack,
  expectUnchanged,
  httpClientWithToken,
  idpSigningKey,
  nowSeconds,
  outcomeOf,
  SEEDED,
  signHmac,
  signIn,
  signRs256,
  signRs256Raw,
  startSecurityStack,
  Tally,
  type DbState,
  type IdpSigningKey,
  type SignedIn,
  type TestStack,
} from "./helpers.ts";

const tally = new Tally("tokens");

let stack: TestStack;
let idp: TestIdp;
let backend: Backend;
let otherIdp: TestIdp;
let idpKey: IdpSigningKey;
let attacker: { privateKey: KeyObject; publicJwk: Record<string, unknown>; kid: string };
let x509: { privateKey: KeyObject; certDerB64: string } | null = null;
let sessions: { pro: SignedIn; free: SignedIn; admin: SignedIn };
let attackerHost: { url: string; requests: string[]; close: () => Promise<void> };
let baseline: DbState;

/** Every URL fetched in this process while the suite runs (the backend runs in-process). */
const fetched: string[] = [];
const realFetch = globalThis.fetch;

async function startAttackerHost(jwks: unknown): Promise<typeof attackerHost> {
  const requests: string[] = [];
  let url = "";
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url?.includes("openid-configuration")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks.json` }));
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(jwks));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A self-signed certificate for an attacker key, for the `x5c` case (openssl, when installed). */
function attackerCertificate(): typeof x509 {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-x5c-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=attacker.example",
      ],
      { stdio: "ignore" },
    );
    const pem = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
    return {
      privateKey: createPrivateKey(fs.readFileSync(path.join(dir, "key.pem"), "utf8")),
      certDerB64: pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ""),
    };
  } catch {
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    fetched.push(input instanceof Request ? input.url : String(input));
    return realFetch(input, init);
  }) as typeof fetch;
  stack = await startSecurityStack();
  ({ idp, backend } = stack);
  idpKey = idpSigningKey(idp);
  const pair = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  attacker = {
    privateKey: KeyObject.from(pair.privateKey),
    publicJwk: { ...publicJwk, kid: "attacker-1", alg: "RS256", use: "sig" },
    kid: await calculateJwkThumbprint(publicJwk),
  };
  attackerHost = await startAttackerHost({ keys: [attacker.publicJwk] });
  x509 = attackerCertificate();
  otherIdp = await startTestIdp({ seed: true });
  sessions = {
    pro: await signIn(idp, SEEDED.pro),
    free: await signIn(idp, SEEDED.free),
    admin: await signIn(idp, SEEDED.admin),
  };
  baseline = dbState(backend);
});

afterAll(async () => {
  globalThis.fetch = realFetch;
  await stack?.dispose();
  await otherIdp?.dispose();
  await attackerHost?.close();
  tally.print();
});

/** A fresh real token of `who`, decoded. */
async function real(who: keyof typeof sessions = "pro") {
  const token = await idpClient(idp.url, { secretKey: idp.secretKey }).token(sessions[who].sessionId);
  return { token, ...decodeJwtParts(token) };
}

type Header = Record<string, unknown>;
type Payload = Record<string, unknown>;

/** A real token with header/payload changed by `mutate`, re-signed with the IdP's key. */
async function resigned(
  mutate: (header: Header, payload: Payload) => void,
  who: keyof typeof sessions = "pro",
): Promise<string> {
  const { header, payload } = await real(who);
  mutate(header, payload);
  return signRs256(header, payload, idpKey.privateKey);
}

/** A real token's claims with a changed header, signed by the attacker. */
async function attackerSigned(mutate: (header: Header, payload: Payload) => void = () => undefined) {
  const { header, payload } = await real();
  mutate(header, payload);
  return signRs256(header, payload, attacker.privateKey);
}

// ---------- probes ----------

type WsResult = {
  authenticated: boolean;
  me: Awaited<ReturnType<typeof outcomeOf>>;
  write: Awaited<ReturnType<typeof outcomeOf>>;
  ms: number;
};

/** Posts a probe creates are titled `probe <label>`; only positive controls and recorded cases may leave one. */
async function wsProbe(token: string, label = "control"): Promise<WsResult> {
  const started = performance.now();
  const { client, authenticated } = await clientWithToken(backend.url, token);
  const ms = performance.now() - started;
  try {
    const me = await outcomeOf(client.query(api.users.me, {}));
    const write = await outcomeOf(client.mutation(api.posts.create, { title: `probe ${label}`, body: "" }));
    return { authenticated, me, write, ms };
  } finally {
    await client.close();
  }
}

type HttpResult = { status: number; body: string; ms: number; write: Awaited<ReturnType<typeof outcomeOf>> };

async function httpProbe(token: string, label = "control"): Promise<HttpResult> {
  const started = performance.now();
  const res = await fetch(`${backend.url}/api/query`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ path: "users:me", args: {}, format: "convex_encoded_json" }),
  });
  const body = await res.text();
  const ms = performance.now() - started;
  const write = await outcomeOf(
    httpClientWithToken(backend.url, token).mutation(api.posts.create, { title: `probe ${label}`, body: "" }),
  );
  return { status: res.status, body, ms, write };
}

const AUTH_CODES = ["Unauthenticated", "InvalidAuthHeader", "NoAuthProvider"];

function expectWsRefused(r: WsResult, label: string): void {
  expect(r.authenticated, `${label}: WebSocket auth`).toBe(false);
  expect(r.me.outcome, label).toBe("ok");
  expect(r.me.value, `${label}: users.me after the refusal`).toBeNull();
  expect(r.write.outcome, `${label}: a write after the refusal`).toBe("UNAUTHENTICATED");
}

function expectHttpRefused(r: HttpResult, label: string, tokenBytes: number): void {
  expect(r.write.outcome, `${label}: HTTP write`).not.toBe("ok");
  if (tokenBytes >= 16 * 1024 && r.status === 431) {
    // Node's header limit (16 KiB) answers before any verification: refused, cheaply.
    return;
  }
  expect(r.status, `${label}: ${r.body}`).toBe(401);
  const body = JSON.parse(r.body) as { code: string; message: string };
  expect(Object.keys(body).sort()).toEqual(["code", "message"]);
  expect(AUTH_CODES).toContain(body.code);
  expectNoStack(r.body);
  expect(String((r.write.error as Error).message)).toMatch(
    /"code":"(Unauthenticated|InvalidAuthHeader|NoAuthProvider)"/,
  );
}

/** Both transports refuse `token`, and nothing was written. */
async function expectRefused(label: string, token: string): Promise<{ ws: WsResult; http: HttpResult }> {
  const before = dbState(backend);
  const ws = await wsProbe(token, label);
  expectWsRefused(ws, label);
  tally.reject();
  const httpResult = await httpProbe(token, label);
  expectHttpRefused(httpResult, label, token.length);
  tally.reject();
  expectUnchanged(backend, before, tally, label);
  return { ws, http: httpResult };
}

// ---------- cases ----------

describe("positive controls (same run)", () => {
  test("an unmodified IdP token is accepted over the WebSocket and over HTTP", async () => {
    const { token, payload } = await real("pro");
    const ws = await wsProbe(token);
    expect(ws.authenticated).toBe(true);
    expect(ws.me.value).toMatchObject({ clerkId: payload["sub"], plan: "pro" });
    tally.accept();
    const res = await httpProbe(token);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: "success", value: { clerkId: payload["sub"] } });
    tally.accept();
  });

  test("a token re-signed unchanged by this suite's signer is accepted on both transports", async () => {
    const token = await resigned(() => undefined);
    const ws = await wsProbe(token);
    expect(ws.authenticated).toBe(true);
    expect(ws.me.value).toMatchObject({ plan: "pro" });
    tally.accept();
    expect((await httpProbe(token)).status).toBe(200);
    tally.accept();
  });
});

describe("J1 alg: none", () => {
  test.each(["none", "None", "NONE", "nOnE"])("alg %s with an empty signature", async (alg) => {
    const { header, payload } = await real();
    const token = `${b64url(JSON.stringify({ ...header, alg }))}.${b64url(JSON.stringify(payload))}.`;
    await expectRefused(`J1 ${alg}`, token);
  });
});

describe("J2 RS256 → HS256 key confusion (HMAC keyed with the IdP's public key)", () => {
  const secrets = (): [string, Buffer | string][] => [
    ["SPKI PEM", idpKey.publicKey.export({ type: "spki", format: "pem" }).toString()],
    ["SPKI DER", idpKey.publicKey.export({ type: "spki", format: "der" })],
    ["PKCS#1 PEM", idpKey.publicKey.export({ type: "pkcs1", format: "pem" }).toString()],
    ["JWK n bytes", Buffer.from(String(idpKey.publicJwk.n), "base64url")],
    ["JWK JSON", JSON.stringify(idpKey.publicJwk)],
  ];
  test.each([
    ["HS256", "sha256"],
    ["HS384", "sha384"],
    ["HS512", "sha512"],
  ] as const)("%s", async (alg, hash) => {
    for (const [name, secret] of secrets()) {
      const { header, payload } = await real();
      await expectRefused(`J2 ${alg} ${name}`, signHmac({ ...header, alg }, payload, secret, hash));
    }
  });
});

describe("J3 unknown kid / attacker key", () => {
  test("attacker-signed with an unknown kid, with the IdP's kid, and with no kid", async () => {
    await expectRefused("J3 unknown kid", await attackerSigned((h) => (h["kid"] = "attacker-1")));
    await expectRefused("J3 IdP kid", await attackerSigned());
    await expectRefused(
      "J3 no kid",
      await attackerSigned((h) => {
        delete h["kid"];
      }),
    );
  });

  test("a burst of unknown-kid tokens does not make the backend refetch the JWKS without bound", async () => {
    const jwksFetches = () => fetched.filter((u) => u.startsWith(idp.url) && u.includes("jwks")).length;
    const before = jwksFetches();
    const state = dbState(backend);
    const started = Date.now();
    const tokens = await Promise.all(
      Array.from({ length: 25 }, (_, i) => attackerSigned((h) => (h["kid"] = `unknown-${i}`))),
    );
    const statuses = await Promise.all(
      tokens.map(async (token) => {
        const res = await fetch(`${backend.url}/api/query`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ path: "users:me", args: {} }),
        });
        await res.text();
        return res.status;
      }),
    );
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(statuses.every((s) => s === 401)).toBe(true);
    // jose's remote key set refetches on an unknown kid at most once per cooldown (1 s here).
    expect(jwksFetches() - before).toBeLessThanOrEqual(1 + Math.ceil(elapsedSeconds));
    expectUnchanged(backend, state, tally, "J3 burst");
    tally.reject(tokens.length);
  });
});

describe("J4 kid injection (IdP-signed, only the kid changed; and attacker-signed)", () => {
  const kids: [string, unknown][] = [
    ["path traversal", "../../../../dev/null"],
    ["absolute path", "/dev/null"],
    ["invalid path", "/invalid_path"],
    ["SQL injection", "' UNION SELECT 'k'--"],
    ["empty", ""],
    ["shell ;sleep", ";sleep 10"],
    ["shell $(sleep)", "$(sleep 10)"],
    ["shell |sleep", "| sleep 10"],
    ["URL", "http://127.0.0.1:1/key"],
    ["10 KB", "k".repeat(10_000)],
    ["number", 1],
    ["object", { kid: "x" }],
  ];
  test.each(kids)("kid: %s — refused in bounded time", async (name, kid) => {
    for (const signer of ["idp", "attacker"] as const) {
      const { header, payload } = await real();
      const token = signRs256(
        { ...header, kid },
        payload,
        signer === "idp" ? idpKey.privateKey : attacker.privateKey,
      );
      const { ws, http: res } = await expectRefused(`J4 ${name} (${signer})`, token);
      expect(res.ms, `J4 ${name} HTTP time`).toBeLessThan(1000);
      expect(ws.ms, `J4 ${name} WebSocket time`).toBeLessThan(1000);
    }
  });
});

describe("J5–J7 key material named in the header is never trusted or fetched", () => {
  const attackerFetches = () => fetched.filter((u) => u.startsWith(attackerHost.url)).length;

  test("J5 jku pointing at an attacker JWKS (attacker-signed; with the attacker's and the IdP's kid)", async () => {
    await expectRefused(
      "J5 jku attacker kid",
      await attackerSigned((h) => {
        h["jku"] = `${attackerHost.url}/jwks.json`;
        h["kid"] = "attacker-1";
      }),
    );
    await expectRefused(
      "J5 jku IdP kid",
      await attackerSigned((h) => (h["jku"] = `${attackerHost.url}/jwks.json`)),
    );
    expect(attackerHost.requests).toEqual([]);
    expect(attackerFetches()).toBe(0);
  });

  test("J6 x5u pointing at the attacker, and an embedded self-signed x5c chain", async () => {
    await expectRefused(
      "J6 x5u",
      await attackerSigned((h) => {
        h["x5u"] = `${attackerHost.url}/cert.pem`;
        delete h["kid"];
      }),
    );
    if (x509) {
      const { header, payload } = await real();
      delete header["kid"];
      await expectRefused(
        "J6 x5c",
        signRs256({ ...header, x5c: [x509.certDerB64] }, payload, x509.privateKey),
      );
      await expectRefused(
        "J6 x5c with the IdP's kid",
        signRs256({ ...header, kid: idpKey.kid, x5c: [x509.certDerB64] }, payload, x509.privateKey),
      );
    }
    expect(attackerHost.requests).toEqual([]);
    expect(attackerFetches()).toBe(0);
  });

  test("J7 an embedded jwk (CVE-2018-0114), with no kid, the attacker's kid and the IdP's kid", async () => {
    for (const kid of [undefined, attacker.kid, idpKey.kid]) {
      const token = await attackerSigned((h) => {
        h["jwk"] = attacker.publicJwk;
        if (kid === undefined) delete h["kid"];
        else h["kid"] = kid;
      });
      await expectRefused(`J7 jwk kid=${String(kid)}`, token);
    }
    expect(attackerHost.requests).toEqual([]);
  });
});

describe("J8–J14 claims (IdP-signed, one claim changed)", () => {
  const cases: [string, (p: Payload) => void][] = [
    [
      "J8 expired a minute ago",
      (p) => Object.assign(p, { iat: nowSeconds() - 120, nbf: nowSeconds() - 125, exp: nowSeconds() - 60 }),
    ],
    [
      "J8 expired an hour ago",
      (p) =>
        Object.assign(p, { iat: nowSeconds() - 3660, nbf: nowSeconds() - 3665, exp: nowSeconds() - 3600 }),
    ],
    ["J9 nbf a minute ahead", (p) => (p["nbf"] = nowSeconds() + 60)],
    ["J11 iss https instead of http", (p) => (p["iss"] = String(p["iss"]).replace("http://", "https://"))],
    ["J11 iss localhost alias", (p) => (p["iss"] = String(p["iss"]).replace("127.0.0.1", "localhost"))],
    ["J11 iss another tenant (attacker host)", (p) => (p["iss"] = attackerHost.url)],
    ["J11 iss missing", (p) => delete p["iss"]],
    ["J12 aud other", (p) => (p["aud"] = "other")],
    ["J12 aud missing", (p) => delete p["aud"]],
    ["J12 aud [convex, x]", (p) => (p["aud"] = ["convex", "x"])],
    ["J12 aud empty", (p) => (p["aud"] = "")],
    ["J12 aud Convex (case)", (p) => (p["aud"] = "Convex")],
    ["J13 sub missing", (p) => delete p["sub"]],
    ["J13 sub empty", (p) => (p["sub"] = "")],
    ["J13 sub number", (p) => (p["sub"] = 42)],
    ["J13 sub null", (p) => (p["sub"] = null)],
    ["J14 exp missing", (p) => delete p["exp"]],
    ["J14 exp a string", (p) => (p["exp"] = String(nowSeconds() + 60))],
    ["J14 iat missing", (p) => delete p["iat"]],
  ];
  test.each(cases)("%s", async (name, mutate) => {
    await expectRefused(name, await resigned((_h, p) => mutate(p)));
    if (name.includes("attacker")) expect(attackerHost.requests).toEqual([]);
  });

  test("J10 iat an hour ahead with a valid exp: observed and recorded, the same on both transports", async () => {
    const token = await resigned((_h, p) => {
      p["iat"] = nowSeconds() + 3600;
      p["nbf"] = nowSeconds() - 5;
      p["exp"] = nowSeconds() + 3660;
    });
    const before = dbState(backend);
    const ws = await wsProbe(token, "recorded J10");
    const res = await httpProbe(token, "recorded J10");
    // Not mandated by RFC 7519 for the OIDC path : both transports must agree.
    expect(ws.authenticated).toBe(res.status === 200);
    if (ws.authenticated) {
      // Accepted: it is then an ordinary signed-in call, and writes may happen; restore nothing, just record.
      tally.record(
        "J10 future iat (+1 h) with valid exp is ACCEPTED on both transports (OIDC path, not checked)",
      );
    } else {
      expectUnchanged(backend, before, tally, "J10");
      tally.record("J10 future iat (+1 h) with valid exp is REFUSED on both transports");
    }
  });
});

describe("J15–J17 tampering and substitution", () => {
  test("J15 payload changed, original signature kept", async () => {
    const admin = await real("admin");
    const free = await real("free");
    const variants: [string, (p: Payload) => void][] = [
      ["sub → admin", (p) => (p["sub"] = admin.payload["sub"])],
      ["metadata.role → admin", (p) => (p["metadata"] = { role: "admin", plan: "free_user" })],
      ["metadata.plan → pro", (p) => (p["metadata"] = { role: "user", plan: "pro" })],
      ["pla → u:pro", (p) => (p["pla"] = "u:pro")],
      ["user_updated_at far ahead", (p) => (p["user_updated_at"] = Date.now() + 86_400_000)],
      ["exp a day later", (p) => (p["exp"] = nowSeconds() + 86_400)],
    ];
    for (const [name, mutate] of variants) {
      const payload = { ...free.payload };
      mutate(payload);
      const token = `${free.parts[0]}.${b64url(JSON.stringify(payload))}.${free.parts[2]}`;
      await expectRefused(`J15 ${name}`, token);
    }
  });

  test("J16 signature stripped, truncated, or taken from another token", async () => {
    const pro = await real("pro");
    const free = await real("free");
    const [h, p, s] = pro.parts;
    for (const [name, token] of [
      ["h.p.", `${h}.${p}.`],
      ["h.p", `${h}.${p}`],
      ["sig AAAA", `${h}.${p}.AAAA`],
      ["sig truncated", `${h}.${p}.${s.slice(0, -4)}`],
      ["sig of another token", `${h}.${p}.${free.parts[2]}`],
      ["sig bit flipped", `${h}.${p}.${(s[0] === "A" ? "B" : "A") + s.slice(1)}`],
    ] as const) {
      await expectRefused(`J16 ${name}`, token);
    }
  });

  test("J17 a real token from another (dev) identity provider", async () => {
    const other = await idpClient(otherIdp.url, { secretKey: otherIdp.secretKey }).signIn(
      SEEDED.admin,
      "gatehouse-dev",
    );
    await expectRefused("J17 other IdP", other.token);
    // The same claims with our issuer, signed by the other IdP's key: the key does not belong to `iss`.
    const otherKey = idpSigningKey(otherIdp);
    const { header, payload } = decodeJwtParts(other.token);
    await expectRefused(
      "J17 other IdP key, our iss",
      signRs256({ ...header, kid: idpKey.kid }, { ...payload, iss: idp.url }, otherKey.privateKey),
    );
  });
});

describe("J18 very long tokens", () => {
  /** An attacker-signed token padded (in an extra header member) to about `bytes`. */
  async function padded(bytes: number): Promise<string> {
    const { header, payload } = await real();
    return signRs256(
      { ...header, pad: "p".repeat(Math.floor((bytes * 3) / 4)) },
      payload,
      attacker.privateKey,
    );
  }

  async function controlStillWorks(): Promise<void> {
    expect((await fetch(`${backend.url}/version`)).status).toBe(200);
    const { token, payload } = await real("pro");
    const ws = await wsProbe(token);
    expect(ws.authenticated).toBe(true);
    expect(ws.me.value).toMatchObject({ clerkId: payload["sub"] });
  }

  test.each([
    ["12 KB (fits in an HTTP header: verified and refused)", 12 * 1024],
    ["16 KB (over Node's 16 KiB header limit: 431 on HTTP)", 16 * 1024],
  ])("%s: refused on both transports, quickly", async (name, bytes) => {
    const token = await padded(bytes);
    const { ws, http: res } = await expectRefused(`J18 ${name}`, token);
    expect(ws.ms).toBeLessThan(2000);
    expect(res.ms).toBeLessThan(2000);
    await controlStillWorks();
  });

  /** Raw sync socket: Connect + Authenticate with `token`; resolves with what came back first. */
  async function rawAuthenticate(token: string): Promise<{ outcome: string; ms: number }> {
    const ws = new WebSocket(`${backend.url.replace("http", "ws")}/api/1.48.0/sync`);
    ws.on("error", () => undefined);
    await new Promise((r) => ws.once("open", r));
    const started = performance.now();
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), 10_000);
      ws.on("message", (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { type: string };
        if (msg.type === "AuthError" || msg.type === "Transition") {
          clearTimeout(timer);
          resolve(msg.type);
        }
      });
      ws.on("close", (code) => {
        clearTimeout(timer);
        resolve(`close ${code}`);
      });
      rawConnect(ws, crypto.randomUUID(), token);
      ws.send(JSON.stringify({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [] }));
    });
    const ms = performance.now() - started;
    ws.terminate();
    return { outcome, ms };
  }

  async function rawHttpAuth(token: string): Promise<{ status: number | string; ms: number }> {
    const started = performance.now();
    try {
      const res = await realFetch(`${backend.url}/api/query`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ path: "users:me", args: {} }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      return { status: res.status, ms: performance.now() - started };
    } catch (error) {
      // The server may answer 431 and close before the client finished sending the header.
      return { status: `connection closed (${(error as Error).message})`, ms: performance.now() - started };
    }
  }

  test.each([
    ["1 MB", 1024 * 1024],
    ["20 MB", 20 * 1024 * 1024],
  ])(
    "%s: refused quickly on a raw socket and in a header; the backend stays healthy",
    async (name, bytes) => {
      const before = dbState(backend);
      const token = await padded(bytes);
      const ws = await rawAuthenticate(token);
      expect(ws.outcome, name).not.toBe("Transition");
      expect(ws.outcome, name).not.toBe("timeout");
      expect(ws.ms, `${name} WebSocket`).toBeLessThan(5000);
      tally.reject();
      const res = await rawHttpAuth(token);
      expect(res.status, name).not.toBe(200);
      if (typeof res.status === "number") expect([401, 413, 431]).toContain(res.status);
      expect(res.ms, `${name} HTTP`).toBeLessThan(5000);
      tally.reject();
      expectUnchanged(backend, before, tally, `J18 ${name}`);
      await controlStillWorks();
    },
  );
});

describe("J19 malformed tokens", () => {
  test("each is refused with a 401 (never a 5xx) and anonymous on the socket", async () => {
    const { parts, header, payload } = await real();
    const [h, p, s] = parts;
    const variants: [string, string][] = [
      ["non-base64url characters", `${h}.${p.slice(0, 10)}!@#$${p.slice(10)}.${s}`],
      ["non-JSON payload", `${h}.${b64url("not json")}.${s}`],
      ["non-JSON header", `${b64url("{alg:RS256")}.${p}.${s}`],
      ["payload is a JSON array", `${h}.${b64url("[1,2,3]")}.${s}`],
      ["payload is a JSON string", `${h}.${b64url('"sub"')}.${s}`],
      ["two segments", `${h}.${p}`],
      ["four segments", `${h}.${p}.${s}.${s}`],
      [
        "five segments (JWE-shaped)",
        `${b64url(JSON.stringify({ alg: "RSA-OAEP", enc: "A256GCM" }))}.${s}.AAAA.${p}.AAAA`,
      ],
      ["JSON serialization", JSON.stringify({ payload: p, protected: h, signature: s })],
      [
        "flattened JSON with header",
        JSON.stringify({ payload: p, protected: h, header: { kid: idpKey.kid }, signature: s }),
      ],
      ["empty segments", ".."],
      ["one dot", "."],
      ["spaces inside", `${h} .${p}.${s}`],
      ["only a header", h],
      [
        "UTF-16 payload",
        `${h}.${Buffer.from(JSON.stringify(payload), "utf16le").toString("base64url")}.${s}`,
      ],
      ["header padded base64", `${Buffer.from(JSON.stringify(header)).toString("base64")}.${p}.${s}`],
    ];
    for (const [name, token] of variants) await expectRefused(`J19 ${name}`, token);
  });
});

describe("J20 duplicate claims (RFC 7519 §4: reject, or last-wins everywhere)", () => {
  test("duplicate sub: the identity is the last sub, never the first", async () => {
    const free = await real("free");
    const pro = await real("pro");
    const { header, payload } = free;
    const rest = JSON.stringify(payload).slice(1, -1);
    const raw = `{"sub":${JSON.stringify(free.payload["sub"])},${rest},"sub":${JSON.stringify(pro.payload["sub"])}}`;
    const token = signRs256Raw(JSON.stringify(header), raw, idpKey.privateKey);
    const before = dbState(backend);
    const ws = await wsProbe(token, "recorded J20");
    const res = await httpProbe(token, "recorded J20");
    if (!ws.authenticated) {
      expect(res.status).toBe(401);
      expectUnchanged(backend, before, tally, "J20 sub");
      tally.record("J20 duplicate sub: REJECTED on both transports");
      return;
    }
    // Accepted: the verifier and the app must both have taken the LAST member.
    expect((ws.me.value as { clerkId: string }).clerkId).toBe(pro.payload["sub"]);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { value: { clerkId: string } }).value.clerkId).toBe(pro.payload["sub"]);
    tally.record("J20 duplicate sub: accepted, LAST wins consistently (verifier, WebSocket and HTTP)");
  });

  test("duplicate metadata (role) in a token fresher than the row: last wins, never first", async () => {
    const free = await real("free");
    const build = (first: object, last: object) => {
      const { metadata: _m, user_updated_at: _u, ...claims } = free.payload;
      const body = JSON.stringify({ ...claims, user_updated_at: Date.now() }).slice(1, -1);
      return signRs256Raw(
        JSON.stringify(free.header),
        `{"metadata":${JSON.stringify(first)},${body},"metadata":${JSON.stringify(last)}}`,
        idpKey.privateKey,
      );
    };
    // Pro in metadata is an administrator's grant (`planOverride`, ADR 009); the copied claims carry
    // the free user's Clerk Billing `pla`, which a bare metadata `plan` does not outrank.
    const admin = { role: "admin", plan: "pro", planOverride: "pro" };
    const user = { role: "user", plan: "free_user" };
    const lastUser = await wsProbe(build(admin, user), "recorded J20");
    const lastAdmin = await wsProbe(build(user, admin), "recorded J20");
    expect(lastUser.authenticated).toBe(lastAdmin.authenticated);
    if (!lastUser.authenticated) {
      tally.record("J20 duplicate metadata: REJECTED");
      return;
    }
    expect(lastUser.me.value).toMatchObject({ role: "user", plan: "free_user" });
    expect(lastAdmin.me.value).toMatchObject({ role: "admin", plan: "pro" });
    tally.record("J20 duplicate metadata: accepted, LAST wins in the app's role/plan");
  });

  test("duplicate alg in the header: last wins (none last → refused)", async () => {
    const { payload, header } = await real();
    const rest = JSON.stringify({ ...header, alg: undefined }).slice(1, -1);
    const token = signRs256Raw(
      `{"alg":"RS256",${rest},"alg":"none"}`,
      JSON.stringify(payload),
      idpKey.privateKey,
    );
    await expectRefused("J20 alg RS256 then none", token);
  });
});

describe("J21–J22", () => {
  test("J21 unknown critical header parameter", async () => {
    await expectRefused(
      "J21 crit",
      await resigned((h) => {
        h["crit"] = ["x"];
        h["x"] = 1;
      }),
    );
    await expectRefused(
      "J21 crit b64",
      await resigned((h) => {
        h["crit"] = ["b64"];
        h["b64"] = false;
      }),
    );
  });

  test("J22 the wrong kind of token: a default session token (no aud) and an ID token for another client", async () => {
    await expectRefused(
      "J22 session token without the convex template",
      await resigned((_h, p) => {
        delete p["aud"];
        p["azp"] = "http://localhost:5173";
      }),
    );
    await expectRefused(
      "J22 ID token for another client",
      await resigned((h, p) => {
        p["aud"] = "client_other_app";
        p["nonce"] = "n-0S6_WzA2Mj";
        h["typ"] = "JWT";
      }),
    );
  });
});

describe("J23 a still-valid token of a deleted or demoted user", () => {
  test("deleted in Clerk: the token still verifies, every authed call is UNAUTHENTICATED, nothing written", async () => {
    const idpApi = idpClient(idp.url, { secretKey: idp.secretKey });
    const doomed = await idpApi.signUp({
      email: "j23-deleted@security.test",
      password: "correct horse battery",
    });
    await idp.whenDelivered(10_000);
    const token = await idpApi.token(doomed.sessionId);
    await clerkFor(idp).users.deleteUser(doomed.userId);
    await idp.whenDelivered(10_000);
    const before = dbState(backend);

    const { client, authenticated } = await clientWithToken(backend.url, token);
    try {
      expect(authenticated).toBe(true); // the token itself is valid for up to 60 s
      expect((await outcomeOf(client.query(api.users.me, {}))).outcome).toBe("UNAUTHENTICATED");
      expect((await outcomeOf(client.mutation(api.posts.create, { title: "ghost", body: "" }))).outcome).toBe(
        "UNAUTHENTICATED",
      );
      expect((await outcomeOf(client.mutation(api.users.ensure, {}))).outcome).toBe("UNAUTHENTICATED");
      tally.reject();
    } finally {
      await client.close();
    }
    const httpApi = httpClientWithToken(backend.url, token);
    expect((await outcomeOf(httpApi.query(api.users.me, {}))).outcome).toBe("UNAUTHENTICATED");
    expect((await outcomeOf(httpApi.mutation(api.posts.create, { title: "ghost", body: "" }))).outcome).toBe(
      "UNAUTHENTICATED",
    );
    tally.reject();
    expectUnchanged(backend, before, tally, "J23 deleted");
  });

  test("demoted admin: the token still says admin/pro, the synced row wins", async () => {
    const idpApi = idpClient(idp.url, { secretKey: idp.secretKey });
    const clerk = clerkFor(idp);
    const user = await idpApi.signUp({
      email: "j23-revoked@security.test",
      password: "correct horse battery",
    });
    // Pro by an administrator's grant (ADR 009): a bare metadata `plan` is Gatehouse's own copy.
    await clerk.users.updateUserMetadata(user.userId, {
      publicMetadata: { role: "admin", plan: "pro", planOverride: "pro" },
    });
    await idp.whenDelivered(10_000);
    const token = await idpApi.token(user.sessionId);
    expect(decodeJwtParts(token).payload["metadata"]).toEqual({
      role: "admin",
      plan: "pro",
      planOverride: "pro",
    });
    await clerk.users.updateUserMetadata(user.userId, {
      publicMetadata: { role: "user", plan: "free_user", planOverride: null },
    });
    await idp.whenDelivered(10_000);
    const before = dbState(backend);

    const { client, authenticated } = await clientWithToken(backend.url, token);
    try {
      expect(authenticated).toBe(true);
      expect((await outcomeOf(client.query(api.users.me, {}))).value).toMatchObject({
        role: "user",
        plan: "free_user",
      });
      const page = { paginationOpts: { numItems: 5, cursor: null } };
      expect((await outcomeOf(client.query(api.admin.listUsers, page))).outcome).toBe("FORBIDDEN");
      expect((await outcomeOf(client.query(api.insights.overview, {}))).outcome).toBe("UPGRADE_REQUIRED");
      expect(
        (await outcomeOf(client.action(api.admin.setRole, { clerkId: user.userId, role: "admin" }))).outcome,
      ).toBe("FORBIDDEN");
      tally.reject();
    } finally {
      await client.close();
    }
    const httpApi = httpClientWithToken(backend.url, token);
    expect(
      (await outcomeOf(httpApi.query(api.admin.listUsers, { paginationOpts: { numItems: 5, cursor: null } })))
        .outcome,
    ).toBe("FORBIDDEN");
    tally.reject();
    expectUnchanged(backend, before, tally, "J23 revoked");
    expect((await clerk.users.getUser(user.userId)).publicMetadata).toEqual({
      role: "user",
      plan: "free_user",
    });
  });

  test("a token of an ended session keeps working until it expires (documented ≤ 60 s window)", async () => {
    const session = await signIn(idp, SEEDED.free);
    const token = await idpClient(idp.url, { secretKey: idp.secretKey }).token(session.sessionId);
    await idpClient(idp.url, { secretKey: idp.secretKey }).signOut(session.sessionId);
    const ws = await wsProbe(token, "recorded J23");
    tally.record(
      `J23 token of a signed-out session: ${ws.authenticated ? "still accepted until exp (stateless, ≤ 60 s)" : "refused"}`,
    );
    expect(decodeJwtParts(token).payload["exp"] as number).toBeLessThanOrEqual(nowSeconds() + 60);
  });
});

test("no refused token left a post behind (whole-file check)", () => {
  // Every probe tries to create `probe <label>`; only positive controls and accepted, recorded
  // cases may have succeeded. Per-case checks already compared every table.
  const titles = (dbState(backend).tables["posts"] ?? []).map((p) => String(p["title"]));
  const leaked = titles.filter((t) => !/^probe (control|recorded )/.test(t));
  expect(leaked).toEqual([]);
  expect(titles.some((t) => t.startsWith("probe control"))).toBe(true);
  expect(backend.stats().commits).toBeGreaterThanOrEqual(baseline.commits);
});
