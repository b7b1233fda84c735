import { Resolvers } from '../generated/resolvers-types';
import { node, nodes, nodeTypeOf } from './nodes-by-id';

/** Global object identification (Relay's `Node`): `node(id)`, `nodes(ids)`. */
export const nodeResolvers: Resolvers = {
  Query: {
    node: (_, args, ctx) => node(ctx, args.id),
    nodes: (_, args, ctx) => nodes(ctx, args.ids),
  },
  Node: {
    __resolveType: (value) => nodeTypeOf(value),
  },
};
