import { IsEnum, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateBy, ValidateNested } from 'class-validator';
import { HasLength, IsId, IsStorableText } from '../common/id.inputs';
import { AUDIO_KEY_MAX_LENGTH, isAudioKey } from '../storage/audio-key';
import { MessageRole } from './message.entity';

export const CONTENT_MAX_LENGTH = 32_000;
export const AUDIO_MAX_BYTES = 52_428_800;

/** An audio attachment already uploaded to the store, referenced by its object key. */
export class AudioInput {
  @ValidateBy({
    name: 'isAudioKey',
    validator: {
      validate: isAudioKey,
      defaultMessage: () =>
        `must be a relative object key of lowercase letters, digits and / . _ - (no leading slash, no .., at most ${AUDIO_KEY_MAX_LENGTH} characters)`,
    },
  })
  key: string;

  @IsString()
  @MaxLength(127, { message: 'must be at most 127 characters long' })
  @Matches(/^audio\/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;\s*[a-z0-9_.-]+=[a-z0-9_.+-]+)*$/i, { message: 'must be an audio/* MIME type' })
  contentType: string;

  @IsInt({ message: 'must be a whole number of bytes' })
  @Min(1, { message: 'must be at least 1 byte' })
  @Max(AUDIO_MAX_BYTES, { message: `must be at most ${AUDIO_MAX_BYTES} bytes (50 MiB)` })
  byteSize: number;
}

export class PostMessageInput {
  @IsId()
  sessionId: string;

  @IsEnum(MessageRole, { message: 'must be USER, ASSISTANT, SYSTEM or TOOL' })
  role: MessageRole;

  @IsString()
  @HasLength(0, CONTENT_MAX_LENGTH)
  @IsStorableText()
  content: string;

  @IsOptional()
  @ValidateNested()
  audio?: AudioInput | null;
}
