/** Starts the offline stack for the browser suite on spare ports; stops it afterwards. */
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startStack } from "./stack";

/** E2E_PORT_OFFSET moves every port, so two browser suites can run side by side. */
const offset = Number(process.env.E2E_PORT_OFFSET ?? 0);
export const E2E_PORTS = {
  backend: 4310 + offset,
  site: 4311 + offset,
  idp: 4312 + offset,
  spa: 4173 + offset,
};

export default async function setup(project: TestProject) {
  // The whole stack log is kept beside the screenshots, for when a journey fails.
  const stack = await startStack(E2E_PORTS, {
    logFile: path.resolve(import.meta.dirname, "artifacts/stack.log"),
  });
  console.log(`[e2e] offline stack ready in ${stack.readySeconds} s`);
  project.provide("spaUrl", stack.spaUrl);
  project.provide("idpUrl", stack.idpUrl);
  project.provide("idpSecretKey", stack.secretKey);
  return () => stack.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    spaUrl: string;
    idpUrl: string;
    idpSecretKey: string;
  }
}
