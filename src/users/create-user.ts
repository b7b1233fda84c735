import { DataSource } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { clearLoaders } from '../db/write-transaction';
import { Loaders } from '../loaders';
import { isUniqueViolation } from '../db/pg-errors';
import { conflict, forbidden } from '../errors';
import { validateInput } from '../validation';
import { Role, User } from './user.entity';
import { CreateUserInput } from './user.inputs';

/**
 * Creates a user after normalizing and validating the input (CreateUserInput: emails are ASCII,
 * stored with A–Z lower-cased, so unique case-insensitively); a taken email is CONFLICT. Only an admin may create users (FORBIDDEN, checked
 * before the input): the mutation's viewer, or the operator (`operatorViewer()`) of the
 * `hub user:create` CLI. A request's loaders, when given, are primed with the new user.
 */
export async function createUser(dataSource: DataSource, raw: unknown, actor: { viewer: Viewer; loaders?: Loaders }): Promise<User> {
  if (!actor.viewer.isAdmin) throw forbidden();
  const input = await validateInput(CreateUserInput, raw);
  const repo = dataSource.getRepository(User);
  const user = repo.create({
    email: input.email,
    displayName: input.displayName,
    role: input.role ?? Role.MEMBER,
  });
  try {
    await repo.save(user);
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) throw conflict(`A user with email ${user.email} already exists`);
    throw error;
  }
  if (actor.loaders) {
    clearLoaders(actor.loaders);
    actor.loaders.userById.prime(user.id, user);
  }
  return user;
}
