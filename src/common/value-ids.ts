/**
 * Identities of the object types that have no row id of their own (`NodeSync`, `Audio`), so
 * normalized caches can merge what two queries say about the same object instead of replacing
 * it. An id is `base64url("<Type>:" + the parts that name the object)`: stable (the same parts
 * give the same id), opaque to clients, and never equal to another type's id or to a `Node` id
 * (a UUID has no `:` and the type prefix differs), which Relay's store, keyed by `id` alone, needs.
 */
export function valueId(type: 'NodeSync' | 'Audio', ...parts: string[]): string {
  return Buffer.from(`${type}:${parts.join(':')}`, 'utf8').toString('base64url');
}

/** One session's state on one mesh node: named by both. */
export const nodeSyncId = (sessionId: string, nodeId: string): string => valueId('NodeSync', sessionId.toLowerCase(), nodeId);

/** An audio object: named by its key (one key is one object, whichever message reads it). */
export const audioId = (key: string): string => valueId('Audio', key);
