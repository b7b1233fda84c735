import { IsEmail, IsEnum, IsNotEmpty, IsOptional, MaxLength } from 'class-validator';
import { Role } from './user.entity';

export class CreateUserInput {
  @IsEmail({}, { message: 'must be an email address' })
  @MaxLength(254)
  email: string;

  @IsNotEmpty({ message: 'must not be empty' })
  @MaxLength(100)
  displayName: string;

  @IsOptional()
  @IsEnum(Role, { message: 'must be ADMIN or MEMBER' })
  role?: Role;
}
