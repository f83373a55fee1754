// Runs in a child process (test/faults/postgres-closed-socket.test.ts): a write to a closed socket in
// postgres.js throws from a setImmediate callback, which no caller can catch and which ends the
// process. Each scenario prints how its queries settled; an uncaught exception prints it and exits 1.
//
//   node closed-socket-scenarios.mjs <esm|cjs> <database url>
import { createRequire } from "node:module";
import { once } from "node:events";
import net from "node:net";

const [flavour, url] = process.argv.slice(2);
// Node loads src/ for import and cjs/src/ for require: both copies must carry the patch.
const postgres =
  flavour === "cjs" ? createRequire(import.meta.url)("postgres") : (await import("postgres")).default;

process.on("uncaughtException", (error) => {
  console.log(JSON.stringify({ uncaught: error.message }));
  process.exit(1);
});
process.on("unhandledRejection", (error) => {
  console.log(JSON.stringify({ unhandled: error?.code ?? String(error), stack: error?.stack }));
  process.exit(1);
});

const settle = (promise) =>
  promise.then(
    (value) => ({ ok: value }),
    (error) => ({ error: error.code ?? error.message }),
  );

const options = { onnotice: () => {}, connect_timeout: 3, max: 1 };

/** The server ends the connection during a transaction: postgres.js then sends ROLLBACK on it. */
async function transactionOnClosedConnection() {
  const sql = postgres(url, options);
  try {
    const transaction = await settle(
      sql.begin(async (tx) => {
        await tx`select pg_terminate_backend(pg_backend_pid())`;
      }),
    );
    const after = await settle(sql`select 1 as one`.then(([row]) => row.one));
    return { transaction, after };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** porsager/postgres#1208: a reserved connection whose backend was terminated is used again. */
async function reservedConnectionReused() {
  const sql = postgres(url, { ...options, max: 2 });
  const killer = postgres(url, options);
  try {
    const reserved = await sql.reserve();
    const [{ pid }] = await reserved`select pg_backend_pid() as pid`;
    await killer`select pg_terminate_backend(${pid})`;
    const first = await settle(reserved`select 1`);
    const second = await settle(reserved`select 1`);
    reserved.release();
    const after = await settle(sql`select 1 as one`.then(([row]) => row.one));
    const later = await settle(sql`select 1 as one`.then(([row]) => row.one));
    return { first, second, after, later };
  } finally {
    await killer.end({ timeout: 1 });
    await sql.end({ timeout: 1 });
  }
}

/**
 * The socket closes while a small write waits for its setImmediate flush: a query started by
 * another socket's close callback (a restart closes every connection in the same loop phase) runs
 * just before this socket's own. closed() cancels the flush; unless it also forgets it, write()
 * never schedules another and the next connection's startup message is never sent.
 */
async function closedWithFlushPending() {
  const { hostname, port } = new URL(url);
  const sockets = [];
  const sql = postgres(url, {
    ...options,
    socket: () => {
      const socket = net.connect(Number(port), hostname);
      sockets.push(socket);
      return socket;
    },
  });
  try {
    await sql`select 1`;
    const other = net.connect(Number(port), hostname);
    await once(other, "connect");
    let interrupted;
    other.once("close", () => {
      interrupted = settle(sql`select 1`);
    });
    const closing = once(sockets[0], "close");
    // libuv runs the close callbacks of one loop iteration last-closed first: `other` goes first.
    sockets[0].destroy();
    other.destroy();
    await closing;
    const after = await settle(sql`select 2 as two`.then(([row]) => row.two));
    return { interrupted: await interrupted, after };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * porsager/postgres#1192, #1205, #1223: the connection closes while it fetches the array types, the
 * first thing a new connection does. That query's promise is dropped: its rejection was unhandled.
 */
async function closedWhileFetchingTypes() {
  const { hostname, port } = new URL(url);
  let closeOnTypes = true;
  const sql = postgres(url, {
    ...options,
    socket: () => {
      const socket = net.connect(Number(port), hostname);
      const write = socket.write.bind(socket);
      socket.write = (chunk, ...rest) => {
        const sent = write(chunk, ...rest);
        if (closeOnTypes && String(chunk).includes("pg_catalog.pg_type")) {
          closeOnTypes = false;
          socket.destroy();
        }
        return sent;
      };
      return socket;
    },
  });
  try {
    // A reserved connection (the app's advisory locks) is the start-up that leaves the types query
    // to fail alone; a plain query is instead retried once the connection is back.
    const reserved = await settle(
      sql.reserve().then((connection) => {
        connection.release();
        return "released";
      }),
    );
    const after = await settle(sql`select 4 as four`.then(([row]) => row.four));
    return { reserved, after };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

// One line per scenario, so a hang shows where it is.
for (const scenario of [
  transactionOnClosedConnection,
  reservedConnectionReused,
  closedWithFlushPending,
  closedWhileFetchingTypes,
]) {
  console.log(JSON.stringify({ [scenario.name]: await scenario() }));
}
