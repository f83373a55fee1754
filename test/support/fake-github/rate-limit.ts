/**
 * Primary rate limits: one bucket per installation and resource ("core" for REST, "graphql"),
 * refilled all at once when its window ends, like GitHub's hourly reset.
 * Uses the real clock, not world.now(): clients compare x-ratelimit-reset with their own Date.now().
 */
export type RateLimitResource = "core" | "graphql";

export interface RateLimitOptions {
  limit: number;
  windowSeconds: number;
}

export interface BucketState {
  limit: number;
  used: number;
  remaining: number;
  /** Epoch seconds. */
  reset: number;
  resource: RateLimitResource;
}

interface Bucket {
  used: number;
  resetAtMs: number;
}

/** GitHub's defaults for an installation token (REST core and GraphQL points per hour). */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { limit: 5000, windowSeconds: 3600 };

export class RateLimiter {
  readonly #options: RateLimitOptions;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions = DEFAULT_RATE_LIMIT) {
    this.#options = options;
  }

  /** Current state without spending anything (GET /rate_limit, rateLimit field). */
  peek(installationId: number, resource: RateLimitResource): BucketState {
    return this.#state(this.#bucket(installationId, resource), resource);
  }

  /** Spends `cost` if it fits; otherwise leaves the bucket alone and reports `ok: false`. */
  take(
    installationId: number,
    resource: RateLimitResource,
    cost: number,
  ): { ok: boolean; state: BucketState } {
    const bucket = this.#bucket(installationId, resource);
    const ok = bucket.used + cost <= this.#options.limit;
    if (ok) bucket.used += cost;
    return { ok, state: this.#state(bucket, resource) };
  }

  /** Empties every bucket (tests that want a fresh hour). */
  reset(): void {
    this.#buckets.clear();
  }

  #bucket(installationId: number, resource: RateLimitResource): Bucket {
    const key = `${installationId}:${resource}`;
    const now = Date.now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined || bucket.resetAtMs <= now) {
      bucket = { used: 0, resetAtMs: now + this.#options.windowSeconds * 1000 };
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  #state(bucket: Bucket, resource: RateLimitResource): BucketState {
    return {
      limit: this.#options.limit,
      used: bucket.used,
      remaining: Math.max(0, this.#options.limit - bucket.used),
      reset: Math.ceil(bucket.resetAtMs / 1000),
      resource,
    };
  }
}

export function rateLimitHeaders(state: BucketState): Record<string, string> {
  return {
    "x-ratelimit-limit": String(state.limit),
    "x-ratelimit-remaining": String(state.remaining),
    "x-ratelimit-used": String(state.used),
    "x-ratelimit-reset": String(state.reset),
    "x-ratelimit-resource": state.resource,
  };
}
