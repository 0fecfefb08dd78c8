/**
 * Reading someone's codes from the dev mailbox: any process on the machine can start "forgot
 * password" for any account (the FAPI needs no cookie for that, and a process sets any Origin it
 * likes). Before, it could then read the reset code at `GET /v1/dev/mailbox` and take the account
 * over; now the mailbox takes the Backend API key, which only the IdP's owner has.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestIdp, type TestIdp } from "../test.idp.ts";
import type { SignInWire } from "./json.ts";
import { fapiClient, readMailbox, type Envelope, type ErrorBody } from "./test.fapi.ts";

describe("dev mailbox: the Backend API key, or nothing", () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp({ seed: true });
  });
  afterAll(() => idp.dispose());

  /** A stranger's script starts a password reset for a seeded account: a code is "mailed". */
  async function startReset(identifier: string) {
    const stranger = fapiClient(idp.url, { origin: "http://127.0.0.1:8080" });
    const signIn = await stranger.call<Envelope<SignInWire>>("POST", "/client/sign_ins", { identifier });
    expect(signIn.status).toBe(200);
    const factor = signIn.body.response.supported_first_factors!.find(
      (f) => f.strategy === "reset_password_email_code",
    ) as { email_address_id: string };
    const prepared = await stranger.call(
      "POST",
      `/client/sign_ins/${signIn.body.response.id}/prepare_first_factor`,
      {
        strategy: "reset_password_email_code",
        email_address_id: factor.email_address_id,
      },
    );
    expect(prepared.status).toBe(200);
  }

  const mailbox = (headers: Record<string, string>, query = "?email=pro@gatehouse.test") =>
    fetch(`${idp.url}/v1/dev/mailbox${query}`, { headers });

  it.each([
    ["no Authorization", {}],
    ["a wrong key", { Authorization: "Bearer sk_test_not-the-key" }],
    ["an empty bearer", { Authorization: "Bearer " }],
    ["the key without Bearer", "raw"],
    ["the key as Basic", "basic"],
    ["the key in lower-case bearer", "lower"],
    ["the key with a suffix", "suffix"],
  ] as const)("refuses %s with 401 authentication_invalid and no codes", async (_name, spec) => {
    await startReset("pro@gatehouse.test");
    const headers =
      spec === "raw"
        ? { Authorization: idp.secretKey }
        : spec === "basic"
          ? { Authorization: `Basic ${idp.secretKey}` }
          : spec === "lower"
            ? { Authorization: `bearer ${idp.secretKey}` }
            : spec === "suffix"
              ? { Authorization: `Bearer ${idp.secretKey}x` }
              : spec;
    for (const query of ["?email=pro@gatehouse.test", ""]) {
      const res = await mailbox(headers, query);
      expect(res.status).toBe(401);
      const body = (await res.json()) as ErrorBody;
      expect(body.errors[0]).toMatchObject({ code: "authentication_invalid" });
      expect(JSON.stringify(body)).not.toMatch(/\b\d{6}\b/); // no code leaks in the error
    }
  });

  it("gives the codes to the key's holder (`Authorization: Bearer <secret key>`)", async () => {
    await startReset("free@gatehouse.test");
    const res = await mailbox({ Authorization: `Bearer ${idp.secretKey}` }, "?email=free@gatehouse.test");
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const [latest] = (await res.json()).data as Array<{ code: string; purpose: string }>;
    expect(latest).toMatchObject({ purpose: "reset_password", code: expect.stringMatching(/^\d{6}$/) });
    expect((await readMailbox(idp, "free@gatehouse.test"))[0]?.code).toBe(latest!.code);
  });

  it("is not reachable through the page's /__clerk proxy, even with the key", async () => {
    const res = await fetch(`${idp.url}/__clerk/v1/dev/mailbox`, {
      headers: { Authorization: `Bearer ${idp.secretKey}` },
    });
    expect(res.status).toBe(404);
  });
});
