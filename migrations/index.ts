import { InitialSchema1764100000000 } from './1764100000000-initial-schema';

/** Every migration, oldest first; the DataSource lists them explicitly. */
export const MIGRATIONS: Function[] = [InitialSchema1764100000000];
