// A node-style callback API called as a promise: fn(...args, callback) resolves with the one result,
// or the list of them when the callback gets several (lookup's address and family).
export function call<T = unknown>(fn: unknown, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    (fn as (...a: unknown[]) => void)(...args, (err: Error | null, ...results: unknown[]) => {
      if (err) reject(err);
      else resolve((results.length > 1 ? results : results[0]) as T);
    });
  });
}
