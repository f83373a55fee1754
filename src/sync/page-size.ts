import { ServerError } from "../errors.js";

/** GitHub caps connections at 100 nodes per page. */
export const MAX_PAGE_SIZE = 100;
/** The most ids `nodes(ids:)` takes: queries about many repositories ask for this many at once. */
export const MAX_NODE_IDS = 100;
/** Below this a timeout is not about page size any more; the error goes to the job's retries. */
export const MIN_PAGE_SIZE = 5;

/** The most attempts one page can take: each size from the largest halved down to the smallest. */
export const MAX_PAGE_ATTEMPTS = pageSizeLadder().length;

function pageSizeLadder(): number[] {
  const sizes = [MAX_PAGE_SIZE];
  while (sizes.at(-1)! > MIN_PAGE_SIZE) sizes.push(halved(sizes.at(-1)!));
  return sizes;
}

/** The size asked for after a timeout. */
function halved(size: number): number {
  return Math.max(MIN_PAGE_SIZE, Math.floor(size / 2));
}

/** The size asked for after a page of `size` came back in time. */
export function grown(size: number): number {
  return Math.min(MAX_PAGE_SIZE, size * 2);
}

/** 502, 504 and dropped connections on a big page usually mean GitHub timed out computing it. */
export function isTimeout(error: unknown): boolean {
  return (
    error instanceof ServerError &&
    (error.status === undefined || error.status === 502 || error.status === 504)
  );
}

/**
 * Runs `fetchPage` with the given page size, halving it while GitHub times out. Returns the result
 * and the page size to use next: doubled (up to the maximum) after a success.
 */
export async function withAdaptivePageSize<T>(
  pageSize: number,
  fetchPage: (size: number) => Promise<T>,
): Promise<{ result: T; nextPageSize: number }> {
  let size = Math.max(MIN_PAGE_SIZE, Math.min(MAX_PAGE_SIZE, pageSize));
  for (;;) {
    try {
      const result = await fetchPage(size);
      return { result, nextPageSize: grown(size) };
    } catch (error) {
      if (!isTimeout(error) || size <= MIN_PAGE_SIZE) throw error;
      size = halved(size);
    }
  }
}
