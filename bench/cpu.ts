/** CPU time of processes, read from /proc (Linux), for the benchmarks. */
import { readdir, readFile } from "node:fs/promises";
import type { Sql } from "postgres";

const CLOCK_TICKS_PER_S = 100;

/** utime + stime of a process, and of its children that ended (cutime + cstime). */
async function processTicks(
  pid: number,
  /** One thread of the process, by id. */
  thread?: number,
): Promise<{ ppid: number; own: number; ended: number }> {
  const stat = await readFile(thread ? `/proc/${pid}/task/${thread}/stat` : `/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const tick = (index: number) => Number(fields[index]);
  return { ppid: tick(1), own: tick(11) + tick(12), ended: tick(13) + tick(14) };
}

/** CPU time a process has used so far (0 where /proc cannot be read). */
export async function processCpuMs(pid: number): Promise<number> {
  try {
    return ((await processTicks(pid)).own * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}

/**
 * CPU time this process's main thread (its event loop) has used so far: the rest of the process's
 * time is V8's and libuv's helper threads. 0 where /proc cannot be read.
 */
export async function mainThreadCpuMs(): Promise<number> {
  try {
    return ((await processTicks(process.pid, process.pid)).own * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}

/**
 * CPU time the Postgres server behind `sql` has used so far: the postmaster, its live backends, and
 * the backends that ended. 0 where /proc cannot be read.
 */
export async function postgresCpuMs(sql: Sql): Promise<number> {
  try {
    const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    const postmaster = (await processTicks(row!.pid)).ppid;
    const root = await processTicks(postmaster);
    let ticks = root.own + root.ended;
    for (const entry of await readdir("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const child = await processTicks(Number(entry)).catch(() => undefined);
      if (child?.ppid === postmaster) ticks += child.own;
    }
    return (ticks * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}
