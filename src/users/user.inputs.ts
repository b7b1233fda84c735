import { IsOptional, MaxLength } from 'class-validator';
import { HasLength, IsEmailAddress, IsIdList, IsNotBlank, IsOneOf, IsStorableText } from '../common/id.inputs';
import { Normalized, normalizeEmail, trimAsciiSpace } from '../common/text';
import { Role } from './user.entity';

export class CreateUserInput {
  @Normalized(normalizeEmail)
  @IsEmailAddress()
  @MaxLength(254)
  email: string;

  @Normalized(trimAsciiSpace)
  @IsNotBlank({ message: 'must not be empty' })
  @HasLength(1, 100)
  @IsStorableText()
  displayName: string;

  @IsOptional()
  @IsOneOf(Role)
  role?: Role;
}

/** `deleteUsers(ids)`. */
export class DeleteUsersArgs {
  @IsIdList()
  ids: string[];
}
