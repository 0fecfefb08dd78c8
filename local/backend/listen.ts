/**
 * Binding the backend's ports: loopback only (127.0.0.1), from an option, an environment variable
 * or the default, with a port already taken reported as such (the CLI names the variables to set).
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";

export const HOST = "127.0.0.1";

/** A port from the environment variable `name`, or `fallback` when it is unset. */
export function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${name} must be a port number, got "${raw}"`);
  return n;
}

export class PortInUseError extends Error {
  readonly port: number;
  constructor(port: number) {
    super(`port ${port} on ${HOST} is already in use`);
    this.port = port;
  }
}

/** Listens on HOST:`port` (0 = any free port) and resolves with the port bound. */
export function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(error.code === "EADDRINUSE" ? new PortInUseError(port) : error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, HOST);
  });
}
