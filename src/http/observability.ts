import { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { sqlScope } from '../db/sql-counter';
import { Logger } from '../logger';
import { Metrics } from './metrics';
import { clientNameForLog } from '../common/client-names';

/**
 * One structured log line and the metrics for every GraphQL request: operation name, duration,
 * SQL statement count, error codes and DataLoader batch sizes, tagged with the request id.
 */
export function observabilityPlugin<C extends BaseContext>(logger: Logger, metrics: Metrics): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ request }) {
      const started = process.hrtime.bigint();
      let executed = false;
      return {
        async executionDidStart() {
          executed = true;
        },
        async willSendResponse({ response, operationName, errors }) {
          const stats = sqlScope.getStore();
          // Metrics label: bounded (clientNameLabels); the log line keeps the cut name.
          const operation = metrics.operationLabel(executed, operationName);
          const logged = clientNameForLog(operationName ?? request.operationName);
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const codes = (body?.errors ?? errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
          metrics.requestDuration.observe({ operation }, seconds);
          metrics.sqlStatements.observe({ operation }, stats?.statements ?? 0);
          for (const code of codes) metrics.errors.inc({ code });
          for (const [loader, sizes] of Object.entries(stats?.batches ?? {})) {
            for (const size of sizes) metrics.batchSize.observe({ loader }, size);
          }
          logger.info(
            {
              requestId: stats?.requestId,
              operation: logged,
              durationMs: Math.round(seconds * 1e4) / 10,
              sql: stats?.statements ?? 0,
              status: response.http.status ?? 200,
              ...(codes.length ? { errors: codes } : {}),
            },
            'graphql request',
          );
        },
      };
    },
  };
}
