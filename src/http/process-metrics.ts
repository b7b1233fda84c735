import { constants, NodeGCPerformanceDetail, PerformanceObserver } from 'node:perf_hooks';
import { Histogram, Registry } from 'prom-client';

/**
 * prom-client's default process metrics (`<prefix>process_*`, `<prefix>nodejs_*`), collected so
 * that they stop with the server. `collectDefaultMetrics` starts a GC PerformanceObserver that
 * nothing can disconnect: every server built in a process stayed reachable from it for good, its
 * registry, pool gauge and data source included. Under jest that kept every test file's modules in
 * its worker (+10 MB a file, measured), and a worker holding ~600 MB took longer than jest's 500 ms
 * grace to exit ("A worker process has failed to exit gracefully"). So: prom-client's own
 * collectors except its GC one (prom-client is pinned; these are its lib/metrics files), and the
 * same GC histogram from an observer that the returned `stop()` disconnects.
 */
const COLLECTORS = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
];

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export function collectProcessMetrics(registry: Registry, prefix: string): { stop(): void } {
  const config = { register: registry, prefix, eventLoopMonitoringPrecision: 10 };
  for (const name of COLLECTORS) {
    (require(`prom-client/lib/metrics/${name}`) as (registry: Registry, config: object) => void)(registry, config);
  }
  const gc = new Histogram({
    name: `${prefix}nodejs_gc_duration_seconds`,
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind'],
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    registers: [registry],
  });
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // A gc entry carries `detail` at run time; @types/node's PerformanceEntry does not declare it.
      const detail: NodeGCPerformanceDetail | undefined = Reflect.get(entry, 'detail');
      if (detail) gc.observe({ kind: GC_KINDS[detail.kind] }, entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { stop: () => observer.disconnect() };
}
