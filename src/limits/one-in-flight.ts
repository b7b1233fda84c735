/**
 * Shares one lookup among concurrent callers with the same key: while the lookup for `key` is in
 * flight, another caller with that key awaits it instead of starting a second one. Nothing is
 * kept once it settles (no cache: an answer is never older than a lookup that raced the caller's
 * own). One requester opening ninety connections at once with one token then takes one pool
 * connection for its authentications, not ninety that everyone else's lookups queue behind.
 */
export function oneInFlight<K, V>(lookup: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const inFlight = new Map<K, Promise<V>>();
  return (key) => {
    const pending = inFlight.get(key);
    if (pending) return pending;
    const started = lookup(key).finally(() => inFlight.delete(key));
    inFlight.set(key, started);
    return started;
  };
}
