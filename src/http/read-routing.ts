import { ApolloServerPlugin } from '@apollo/server';
import { LSN_HEADER, READ_POOL_HEADER, ReadRoute } from '../db/replicas';

/** What the plugin reads of a request's context: its read route and whose writes to record. */
export interface RoutedContext {
  reads?: ReadRoute;
  viewer: { id: string };
}

/**
 * Routes each request's reads once its operation is known (before any resolver runs): a query
 * to a replica, a mutation (its payload included) and anything else to the primary. After a
 * mutation that executed, the viewer's write position is recorded on the primary and returned
 * as `x-hub-lsn`, which clients echo on later requests (to any process). Requests without
 * replicas configured have no route and are untouched.
 */
export function readRoutingPlugin<C extends RoutedContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      let executed = false;
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (operation) contextValue.reads?.decide(operation.operation);
        },
        async executionDidStart() {
          executed = true;
        },
        async willSendResponse({ contextValue, operation, response }) {
          const route = contextValue.reads;
          if (!route) return;
          if (executed && operation?.operation === 'mutation') {
            response.http.headers.set(LSN_HEADER, await route.replicas.recordWrite(contextValue.viewer.id));
          }
          response.http.headers.set(READ_POOL_HEADER, route.served ?? 'none');
        },
      };
    },
  };
}
