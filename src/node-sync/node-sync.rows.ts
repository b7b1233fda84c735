import { entityRows, ReadModel } from '../db/entity-rows';
import { NodeSync } from './node-sync.entity';

/** Node sync rows on the read path: the select list and hydration derived from the entity's columns. */
export const nodeSyncRows = entityRows(NodeSync);

/** A node sync row as the API reads it (timestamps as ISO text from the read path, `Date` from a write). */
export type NodeSyncModel = ReadModel<NodeSync>;
