import { Config } from '../config';
import { seed } from '../seed/seed';
import { createProgress } from './progress';
import { intOption, Parsed, UsageError, withDatabase } from './usage';

export async function seedCommand(config: Config, values: Parsed): Promise<void> {
  const options = {
    users: intOption(values, 'users', 1000, 1, 1_000_000),
    sessions: intOption(values, 'sessions', 20_000, 0, 10_000_000),
    messages: intOption(values, 'messages', 400_000, 0, 100_000_000),
    skills: intOption(values, 'skills', 50, 0, 100_000),
    seed: typeof values.seed === 'string' ? values.seed : '1',
  };
  if (!/^[\w.-]{1,64}$/.test(options.seed)) throw new UsageError('--seed must be 1-64 letters, digits, ".", "_" or "-"');
  if (options.messages > 0 && options.sessions === 0) throw new UsageError('--messages needs --sessions > 0');
  const progress = createProgress({ quiet: values.quiet === true });
  await withDatabase(config, async ({ dataSource }) => {
    const started = Date.now();
    const result = await seed(dataSource, {
      ...options,
      onStep: (event) => {
        if (!('rows' in event)) progress.step(`seed: ${event.step}`);
        else progress.done(event.step === 'analyze' ? `${event.rows} tables analyzed` : `${event.rows} rows`);
      },
    });
    progress.summary(`seeded ${result.users + result.sessions + result.messages + result.skills + result.sessionSkills + result.nodeSync} rows`);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `seeded ${result.users} users, ${result.sessions} sessions, ${result.messages} messages, ` +
        `${result.skills} skills, ${result.sessionSkills} skill links, ${result.nodeSync} node sync rows in ${seconds}s ` +
        `(admin: ${result.adminEmail})`,
    );
  });
}
