import { isIP } from "node:net";

/**
 * Whether a host name or address names this machine only: "localhost", 127.0.0.0/8 (also as an
 * IPv4-mapped IPv6 address, as sockets report it) or ::1, brackets allowed.
 */
export function isLoopback(host: string): boolean {
  const bare = host
    .replace(/^\[|\]$/g, "")
    .toLowerCase()
    .replace(/^::ffff:(?=\d+\.)/, "");
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return bare === "::1";
}
