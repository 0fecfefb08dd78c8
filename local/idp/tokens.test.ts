import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { request } from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idpClient } from "./client.ts";
import { callAsBackend, startTestIdp, type TestIdp } from "./test.idp.ts";

const FIXED_NOW = Date.UTC(2030, 0, 1, 12, 0, 0, 250);

describe("discovery, JWKS and session tokens", () => {
  let idp: TestIdp;

  beforeAll(async () => {
    idp = await startTestIdp();
  });
  afterAll(() => idp.dispose());

  it("serves OIDC discovery whose issuer is exactly the IdP URL, not cacheable", async () => {
    const response = await fetch(`${idp.url}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const doc = (await response.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: idp.url,
      jwks_uri: `${idp.url}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code"],
      subject_types_supported: ["public"],
    });
  });

  it("serves the public signing key only, not cacheable", async () => {
    const response = await fetch(`${idp.url}/.well-known/jwks.json`);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" });
    expect(typeof keys[0]?.["kid"]).toBe("string");
    for (const privatePart of ["d", "p", "q", "dp", "dq", "qi"])
      expect(keys[0]).not.toHaveProperty(privatePart);
  });

  it("issues tokens that verify against the remote JWKS as Convex checks them", async () => {
    const { token, userId, sessionId } = await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "verify@example.test",
      password: "correct horse",
    });
    const jwks = createRemoteJWKSet(new URL(`${idp.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: idp.url,
      audience: "convex",
      algorithms: ["RS256"],
    });
    expect(protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(payload.sub).toBe(userId);
    expect(payload.sid).toBe(sessionId);
  });

  it("rejects a token signed for another audience or issuer", async () => {
    const { token } = await idpClient(idp.url, { secretKey: idp.secretKey }).signIn(
      "verify@example.test",
      "correct horse",
    );
    const jwks = createRemoteJWKSet(new URL(`${idp.url}/.well-known/jwks.json`));
    await expect(jwtVerify(token, jwks, { issuer: idp.url, audience: "other" })).rejects.toThrow();
    await expect(jwtVerify(token, jwks, { issuer: `${idp.url}/`, audience: "convex" })).rejects.toThrow();
  });

  it("grants no page CORS on the dev API (it hands out tokens); discovery only to loopback pages", async () => {
    const preflight = (origin: string) =>
      fetch(`${idp.url}/v1/dev/sign_in`, {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "POST" },
      });
    const loopback = await preflight("http://localhost:5173");
    expect(loopback.status).not.toBe(204);
    expect(loopback.headers.get("access-control-allow-origin")).toBeNull();
    const call = await callAsBackend(idp, "/v1/dev/sign_in", {
      json: { email: "verify@example.test", password: "correct horse" },
      origin: "http://localhost:5173",
    });
    expect(call.status).toBe(200);
    expect(call.headers.get("access-control-allow-origin")).toBeNull();
    const foreign = await preflight("https://evil.example");
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    const discovery = await fetch(`${idp.url}/.well-known/jwks.json`, {
      headers: { Origin: "http://127.0.0.1:5173" },
    });
    expect(discovery.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5173");
  });

  it("refuses a non-loopback Host (DNS rebinding)", async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        `${idp.url}/.well-known/jwks.json`,
        { headers: { Host: "evil.example" } },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it("answers a request target that is not a URL with 400, and keeps serving", async () => {
    const port = Number(new URL(idp.url).port);
    for (const target of ["//[", "http://[::1", "//a:b@[x]/"]) {
      const statusLine = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1", () =>
          socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
        );
        let out = "";
        socket.on("data", (d: Buffer) => (out += d.toString()));
        socket.on("error", reject);
        socket.on("close", () => resolve(out.split("\r\n")[0] ?? ""));
      });
      expect(statusLine).toBe("HTTP/1.1 400 Bad Request");
    }
    expect((await fetch(`${idp.url}/.well-known/jwks.json`)).status).toBe(200);
  });
});

describe("session token claims", () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp({ now: () => FIXED_NOW });
  });
  afterAll(() => idp.dispose());

  it("carries exactly Clerk's Convex claims, a 60 s lifetime and metadata defaults", async () => {
    const origin = "http://127.0.0.1:5173";
    const { token, userId, sessionId } = await idpClient(idp.url, {
      secretKey: idp.secretKey,
      origin,
    }).signUp({
      email: "Claims@Example.test",
      password: "long enough",
      firstName: "Clara",
      lastName: "Claims",
    });
    const { payload } = await jwtVerify(
      token,
      createRemoteJWKSet(new URL(`${idp.url}/.well-known/jwks.json`)),
      {
        issuer: idp.url,
        audience: "convex",
        algorithms: ["RS256"],
        currentDate: new Date(FIXED_NOW),
      },
    );
    const iat = Math.floor(FIXED_NOW / 1000);
    expect(payload).toEqual({
      iss: idp.url,
      sub: userId,
      aud: "convex",
      iat,
      nbf: iat - 5,
      exp: iat + 60,
      sid: sessionId,
      azp: origin,
      name: "Clara Claims",
      email: "claims@example.test",
      metadata: { role: "user", plan: "free_user" },
      user_updated_at: expect.any(Number),
    });
    // The freshness claim is the user's own updated_at, the value webhooks carry as data.updated_at.
    const user = (await (await callAsBackend(idp, `/v1/users/${userId}`)).json()) as { updated_at: number };
    expect(payload["user_updated_at"]).toBe(user.updated_at);
    const { kid } = decodeProtectedHeader(token);
    const { keys } = (await (await fetch(`${idp.url}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(kid).toBe(keys[0]?.kid);
  });

  it("uses the IdP URL as azp without an Origin, and the email as name without a name", async () => {
    const { token } = await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: "noname@example.test",
      password: "long enough",
    });
    const { payload } = await jwtVerify(
      token,
      createRemoteJWKSet(new URL(`${idp.url}/.well-known/jwks.json`)),
      {
        currentDate: new Date(FIXED_NOW),
      },
    );
    expect(payload.azp).toBe(idp.url);
    expect(payload.name).toBe("noname@example.test");
  });

  it("puts role and plan from public metadata (never unsafe metadata) into the token", async () => {
    const client = idpClient(idp.url, { secretKey: idp.secretKey });
    const { userId, sessionId } = await client.signUp({
      email: "meta@example.test",
      password: "long enough",
    });
    const patch = (body: unknown) =>
      callAsBackend(idp, `/v1/users/${userId}/metadata`, { method: "PATCH", json: body });
    expect((await patch({ unsafe_metadata: { role: "admin", plan: "pro" } })).status).toBe(200);
    const claims = async () =>
      (
        await jwtVerify(
          await client.token(sessionId),
          createRemoteJWKSet(new URL(`${idp.url}/.well-known/jwks.json`)),
          {
            currentDate: new Date(FIXED_NOW),
          },
        )
      ).payload;
    expect((await claims())["metadata"]).toEqual({ role: "user", plan: "free_user" });
    expect((await patch({ public_metadata: { role: "admin", plan: "pro", other: 1 } })).status).toBe(200);
    expect((await claims())["metadata"]).toEqual({ role: "admin", plan: "pro" });
  });
});
