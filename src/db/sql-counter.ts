import { AsyncLocalStorage } from 'node:async_hooks';
import { AbstractLogger, LogLevel, LogMessage, Logger, QueryRunner } from 'typeorm';

/** Per-request statistics. A request runs inside `sqlScope.run(stats, …)`, so every
 * statement TypeORM sends on its behalf (transactions included) is counted here. */
export interface SqlStats {
  requestId?: string;
  statements: number;
  /** Keys per DataLoader batch, by loader name (see `recordBatch`). */
  batches?: Record<string, number[]>;
  /** The statements themselves, kept only when a test asks for them. */
  log?: string[];
}

export const sqlScope = new AsyncLocalStorage<SqlStats>();

/** Notes a DataLoader batch of `size` keys for the current request's metrics. */
export function recordBatch(loader: string, size: number): void {
  const stats = sqlScope.getStore();
  if (!stats) return;
  const batches = (stats.batches ??= {});
  (batches[loader] ??= []).push(size);
}

/** The TypeORM logger: counts every statement into the current scope and, when asked,
 * reports failed and slow statements. It never prints parameters. */
export class CountingLogger extends AbstractLogger implements Logger {
  constructor(private readonly onProblem?: (message: string) => void) {
    super(['query', 'error', 'warn']);
  }

  override logQuery(query: string, _parameters?: unknown[], _queryRunner?: QueryRunner): void {
    const stats = sqlScope.getStore();
    if (!stats) return;
    stats.statements += 1;
    stats.log?.push(query);
  }

  // Failed statements surface as errors to their caller, which decides whether they are
  // expected (a unique violation becomes CONFLICT) or logged as unexpected.
  override logQueryError(): void {}

  protected writeLog(level: LogLevel, messages: LogMessage | LogMessage[]): void {
    if (level === 'query') return;
    for (const m of Array.isArray(messages) ? messages : [messages]) {
      this.onProblem?.(`${m.type ?? level}: ${String(m.message)}`);
    }
  }
}
