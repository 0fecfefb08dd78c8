/**
 * IdP + local backend on ephemeral ports, wired the way `npm start` wires them, for tests and
 * benchmarks. Each side needs the other's URL, so: IdP first (no webhook target yet), then the
 * backend configured with the IdP as issuer and Backend API, then the IdP's webhook target.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startBackend, type Backend } from "./backend/server.ts";
import type { IdpOptions } from "./idp/server.ts";
import { startTestIdp, type TestIdp } from "./idp/test.idp.ts";

export type TestStack = { idp: TestIdp; backend: Backend; dispose: () => Promise<void> };

export async function startTestStack(idpOptions: IdpOptions = {}): Promise<TestStack> {
  const idp = await startTestIdp(idpOptions);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-stack-"));
  const backend = await startBackend({
    port: 0,
    sitePort: 0,
    dataDir,
    reset: true,
    env: {
      CLERK_JWT_ISSUER_DOMAIN: idp.url,
      CLERK_WEBHOOK_SECRET: idp.webhookSecret,
      CLERK_SECRET_KEY: idp.secretKey,
      CLERK_API_URL: idp.url,
      CLERK_API_READS_PER_SECOND: "50",
    },
  });
  idp.setWebhookUrl(`${backend.siteUrl}/clerk-users-webhook`);
  return {
    idp,
    backend,
    dispose: async () => {
      await backend.close();
      await idp.dispose();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
