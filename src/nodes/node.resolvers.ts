import { Context } from '../context';
import { Resolvers } from '../generated/resolvers-types';
import { node, NodeModel, nodes, nodeTypeOf } from './node.resolve';

/** Global object identification (Relay's `Node`): `node(id)`, `nodes(ids)`. */
export const nodeResolvers: Resolvers = {
  Query: {
    node: (_: unknown, args: { id: string }, ctx: Context) => node(ctx, args.id),
    nodes: (_: unknown, args: { ids: string[] }, ctx: Context) => nodes(ctx, args.ids),
  },
  Node: {
    __resolveType: (value: NodeModel) => nodeTypeOf(value),
  },
};
