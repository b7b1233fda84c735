import { DataSource } from 'typeorm';
import { isUniqueViolation } from '../db/pg-errors';
import { conflict } from '../errors';
import { validateInput } from '../validation';
import { Role, User } from './user.entity';
import { CreateUserInput } from './user.inputs';

/**
 * Creates a user after validating the input. Emails are unique case-insensitively (stored
 * lower-cased); a taken email is CONFLICT. Authorization is the caller's: the mutation checks
 * ADMIN, the `hub user:create` CLI runs with the operator's rights.
 */
export async function createUser(dataSource: DataSource, raw: unknown): Promise<User> {
  const input = await validateInput(CreateUserInput, raw);
  const repo = dataSource.getRepository(User);
  const user = repo.create({
    email: input.email.trim().toLowerCase(),
    displayName: input.displayName.trim(),
    role: input.role ?? Role.MEMBER,
  });
  try {
    return await repo.save(user);
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) throw conflict(`A user with email ${user.email} already exists`);
    throw error;
  }
}
