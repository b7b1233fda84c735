import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The live layer's Prometheus metrics, in the server's registry. */
export function createLiveMetrics(registry: Registry) {
  const registers = [registry];
  return {
    connections: new Gauge({ name: 'hub_live_connections', help: 'Open live connections by transport', labelNames: ['transport'], registers }),
    subscriptions: new Gauge({ name: 'hub_live_subscriptions', help: 'Active subscriptions by field', labelNames: ['feed'], registers }),
    events: new Counter({ name: 'hub_live_events_total', help: 'Change events received from PostgreSQL NOTIFY', registers }),
    delivered: new Counter({ name: 'hub_live_deliveries_total', help: 'Subscription results handed to transports', registers }),
    batchStatements: new Histogram({
      name: 'hub_live_batch_sql_statements',
      help: 'SQL statements per live event batch (all subscribers of the process)',
      buckets: [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'hub_live_batch_duration_seconds',
      help: 'Time to resolve and hand out one live event batch',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    gaps: new Counter({ name: 'hub_live_listener_gaps_total', help: 'LISTEN connections re-established after a loss', registers }),
    listenerUp: new Gauge({ name: 'hub_live_listener_up', help: '1 while the LISTEN connection is up', registers }),
    closed: new Counter({ name: 'hub_live_closed_total', help: 'Live connections closed by the server, by reason', labelNames: ['reason'], registers }),
  };
}

export type LiveMetrics = ReturnType<typeof createLiveMetrics>;
