/**
 * A store or transaction handle with a few methods replaced: the views callers hand the importer
 * (a page's checkpoint committed with it, conflicts not queued twice, writes noted for echo
 * suppression, reads answered from a prefetch). Every other member is the target's own, bound to it.
 */
export function storeView<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, property) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) return (overrides as Record<PropertyKey, unknown>)[property];
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}
