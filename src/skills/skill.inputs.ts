import { IsOptional, ValidateIf } from 'class-validator';
import { Normalized, trimAsciiSpace } from '../common/text';
import { HasLength, IsId, IsIdList, IsNotBlank, IsStorableText } from '../common/id.inputs';

export const SKILL_NAME_MAX_LENGTH = 64;

export class CreateSkillInput {
  @Normalized(trimAsciiSpace)
  @IsNotBlank()
  @HasLength(1, SKILL_NAME_MAX_LENGTH)
  @IsStorableText()
  name: string;

  @Normalized(trimAsciiSpace)
  @IsOptional()
  @ValidateIf((input: CreateSkillInput) => input.description != null)
  @HasLength(0, 2000)
  @IsStorableText()
  description?: string | null;
}

/** `attachSkills(sessionId, skillIds)` and `detachSkills(sessionId, skillIds)`. */
export class SessionSkillsArgs {
  @IsId()
  sessionId: string;

  @IsIdList()
  skillIds: string[];
}
