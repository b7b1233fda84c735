import { GraphQLError } from 'graphql';
import { jwtSecret } from '../auth/secret';
import { operatorViewer } from '../auth/viewer';
import { parseDuration, signToken } from '../auth/tokens';
import { normalizeEmail } from '../common/text';
import { Config } from '../config';
import { Role, User } from '../users/user.entity';
import { createUser } from '../users/create-user';
import { Parsed, requiredOption, UsageError, withDatabase } from './usage';

/** Turns an API error (validation, conflict) into a one-line CLI message. */
function describe(error: unknown): Error {
  if (error instanceof GraphQLError) {
    const validation = error.extensions.validation as { field: string; message: string }[] | undefined;
    return new Error(validation ? validation.map((v) => `${v.field.replace(/^input\./, '')} ${v.message}`).join('; ') : error.message);
  }
  return error as Error;
}

export async function userCreate(config: Config, values: Parsed): Promise<void> {
  const role = String(values.role ?? 'member').toUpperCase();
  if (role !== Role.ADMIN && role !== Role.MEMBER) throw new UsageError('--role must be admin or member');
  const input = { email: requiredOption(values, 'email'), displayName: requiredOption(values, 'name'), role };
  const user = await withDatabase(config, ({ dataSource }) => createUser(dataSource, input, { viewer: operatorViewer() })).catch((e) => {
    throw describe(e);
  });
  console.log(user.id);
}

export async function token(config: Config, values: Parsed): Promise<void> {
  const email = normalizeEmail(requiredOption(values, 'email'));
  const ttl = parseDuration(String(values.ttl ?? '1h'));
  if (!ttl) throw new UsageError('--ttl must be a duration such as 30m, 12h or 7d');
  // The server refuses a token expiring further ahead than HUB_MAX_TOKEN_TTL: never print one.
  if (ttl > config.maxTokenTtlSeconds) {
    throw new UsageError(`--ttl must be at most HUB_MAX_TOKEN_TTL (${config.maxTokenTtlSeconds} s); the server refuses longer-lived tokens`);
  }
  const secret = await jwtSecret(config);
  const user = await withDatabase(config, ({ dataSource }) => dataSource.getRepository(User).findOneBy({ email }));
  if (!user) throw new Error(`no user with email ${email}`);
  console.log(signToken(secret, user.id, ttl));
}
