/** Connections in a serving process's pool, unless its caller asks for fewer (the CLI's own
 * commands); `HUB_DB_POOL_MIN` of them are opened before the process is ready. */
export const POOL_SIZE = 10;
