import net from "node:net";

/**
 * A port nothing listens on right now, on loopback. Free of Jest, so the benchmarks (bench/engine.ts)
 * can use it as well as the tests.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
