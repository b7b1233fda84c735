import { IsIn, IsInt, IsOptional, IsString, Max, Min, ValidateBy, ValidateNested } from 'class-validator';
import { AudioObjectInput } from '../audio-uploads/audio-upload.inputs';
import { HasLength, IsId, IsOneOf, IsStorableText } from '../common/id.inputs';
import { AUDIO_KEY_MAX_LENGTH, isAudioKey } from '../storage/audio-key';
import { MessageRole, MessageStatus } from './message.entity';

/** The longest content, in characters (code points, as `HasLength` and PostgreSQL's `char_length` count). */
export const CONTENT_MAX_LENGTH = 32_000;
/** Token counts are 32-bit integers in the database, as GraphQL's Int is. */
export const TOKENS_MAX = 2_147_483_647;
export const MODEL_MAX_LENGTH = 200;

/** Token usage reported for a message (`TokenUsageInput`). */
export class TokenUsageInput {
  @IsInt({ message: 'must be a whole number of tokens' })
  @Min(0, { message: 'must be 0 or more' })
  @Max(TOKENS_MAX, { message: `must be at most ${TOKENS_MAX}` })
  inputTokens: number;

  @IsInt({ message: 'must be a whole number of tokens' })
  @Min(0, { message: 'must be 0 or more' })
  @Max(TOKENS_MAX, { message: `must be at most ${TOKENS_MAX}` })
  outputTokens: number;

  @IsOptional()
  @IsString()
  @HasLength(0, MODEL_MAX_LENGTH)
  @IsStorableText()
  model?: string | null;
}

/** An audio attachment already uploaded (`createAudioUpload`), referenced by its object key;
 * the shape is checked here, the ownership and the stored object by `claimAudioUpload`. */
export class AudioInput extends AudioObjectInput {
  @ValidateBy({
    name: 'isAudioKey',
    validator: {
      validate: isAudioKey,
      defaultMessage: () =>
        `must be a relative object key of lowercase letters, digits and / . _ - (each segment starting with a letter or digit, no .., at most ${AUDIO_KEY_MAX_LENGTH} characters)`,
    },
  })
  key: string;
}

export class PostMessageInput {
  @IsId()
  sessionId: string;

  @IsOneOf(MessageRole)
  role: MessageRole;

  @IsString()
  @HasLength(0, CONTENT_MAX_LENGTH)
  @IsStorableText()
  content: string;

  @IsOptional()
  @ValidateNested()
  audio?: AudioInput | null;

  @IsOptional()
  @IsOneOf(MessageStatus)
  status?: MessageStatus;

  @IsOptional()
  @ValidateNested()
  usage?: TokenUsageInput | null;
}

/** `appendMessageContent`'s arguments. */
export class AppendMessageContentArgs {
  @IsId()
  id: string;

  @IsString()
  @HasLength(0, CONTENT_MAX_LENGTH)
  @IsStorableText()
  delta: string;

  @IsInt({ message: 'must be a whole number of characters' })
  @Min(0, { message: 'must be 0 or more' })
  offset: number;
}

/** `finishMessage`'s arguments: a stream ends COMPLETE or FAILED. */
export class FinishMessageArgs {
  @IsId()
  id: string;

  @IsIn([MessageStatus.COMPLETE, MessageStatus.FAILED], { message: 'must be COMPLETE or FAILED (a stream cannot be finished as STREAMING)' })
  status: MessageStatus;

  @IsOptional()
  @ValidateNested()
  usage?: TokenUsageInput | null;
}
