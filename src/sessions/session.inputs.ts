import { IsInt, IsOptional, Min, ValidateIf, ValidateNested } from 'class-validator';
import { Normalized, trimAsciiSpace } from '../common/text';
import { HasLength, IsId, IsIdList, IsNotBlank, IsStorableText } from '../common/id.inputs';

export const TITLE_MAX_LENGTH = 200;

export class CreateSessionInput {
  @Normalized(trimAsciiSpace)
  @IsNotBlank()
  @HasLength(1, TITLE_MAX_LENGTH)
  @IsStorableText()
  title: string;

  @IsOptional()
  @IsId()
  ownerId?: string | null;

  /** Duplicates are ignored. */
  @IsOptional()
  @IsIdList()
  skillIds?: string[] | null;
}

export class UpdateSessionInput {
  /** Omitted: unchanged; `null` is not a title. */
  @Normalized(trimAsciiSpace)
  @ValidateIf((input: UpdateSessionInput) => input.title !== undefined)
  @IsNotBlank({ message: 'must be a non-empty string (null is not a title)' })
  @HasLength(1, TITLE_MAX_LENGTH)
  @IsStorableText()
  title?: string | null;

  @IsOptional()
  @IsInt({ message: 'must be a whole number' })
  @Min(1, { message: 'must be at least 1 (versions start at 1)' })
  expectedVersion?: number | null;
}

/** `updateSession(id, input)`. */
export class UpdateSessionArgs {
  @IsId()
  id: string;

  @ValidateNested()
  input: UpdateSessionInput;
}
