/**
 * `npx tsx local/idp/cli.ts [--reset] [--seed]`: the local IdP on its own.
 * Env: LOCAL_IDP_PORT (3212), CLERK_SECRET_KEY, CLERK_WEBHOOK_SECRET (default: the data dir's secrets.json),
 * LOCAL_CONVEX_SITE_PORT (3211) for the webhook target http://127.0.0.1:<port>/clerk-users-webhook,
 * LOCAL_IDP_FAPI_ORIGINS (comma-separated, e.g. http://127.0.0.1:5173,http://localhost:5173): the app
 * pages that may change state through the Frontend API (default: any loopback origin).
 */
import { installCrashGuards } from "../crashGuard.ts";
import { DEFAULT_SITE_PORT, parsePort, webhookUrlForSitePort } from "./config.ts";
import { startIdp } from "./server.ts";

const USAGE = "usage: tsx local/idp/cli.ts [--reset] [--seed]";

async function main(): Promise<void> {
  installCrashGuards("local IdP"); // one escaped error must not stop it (local/crashGuard.ts)
  const flags = process.argv.slice(2);
  const unknown = flags.filter((f) => f !== "--reset" && f !== "--seed");
  if (unknown.length > 0) {
    console.error(`Unknown option ${unknown.join(" ")}\n${USAGE}`);
    process.exit(2);
  }

  let idp;
  try {
    const sitePort =
      parsePort(process.env.LOCAL_CONVEX_SITE_PORT, "LOCAL_CONVEX_SITE_PORT") ?? DEFAULT_SITE_PORT;
    idp = await startIdp({
      reset: flags.includes("--reset"),
      seed: flags.includes("--seed"),
      webhookUrl: webhookUrlForSitePort(sitePort),
      fapiOrigins: listFromEnv(process.env.LOCAL_IDP_FAPI_ORIGINS),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      const port = (error as { port?: number }).port;
      console.error(
        `Local IdP: port ${port ?? ""} is already in use; stop the other process or set LOCAL_IDP_PORT.`,
      );
    } else {
      console.error(`Local IdP failed to start: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exit(1);
  }

  console.log(`Local IdP (Clerk stand-in) at ${idp.url}`);
  console.log(`  issuer / CLERK_JWT_ISSUER_DOMAIN / CLERK_API_URL: ${idp.url}`);
  console.log(`  webhooks -> ${idp.webhookUrl ?? "(none)"}; data in ${idp.dataDir}`);
  console.log(`  CLERK_WEBHOOK_SECRET for the backend: ${idp.webhookSecret}`);
  console.log(`  email codes: in this log, and at ${idp.url}/v1/dev/mailbox with the Backend API key`);
  console.log(
    `    (Authorization: Bearer <CLERK_SECRET_KEY, else secretKey in ${idp.dataDir}/secrets.json>)`,
  );

  const stop = () => {
    void idp.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

/** `a,b` → `["a", "b"]`; unset or blank → undefined (the option's default). */
function listFromEnv(value: string | undefined): string[] | undefined {
  const items = (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  return items.length > 0 ? items : undefined;
}

void main();
