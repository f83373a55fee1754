/** A route's hooks of one kind as a list: Fastify takes none, one, or several. */
export function asArray<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}
