import { IsEnum, IsInt, IsOptional, IsString, Max, Min, ValidateBy, ValidateNested } from 'class-validator';
import { AUDIO_BYTE_SIZE_LIMIT, IsAudioContentType } from '../audio-uploads/audio-upload.inputs';
import { HasLength, IsId, IsStorableText } from '../common/id.inputs';
import { AUDIO_KEY_MAX_LENGTH, isAudioKey } from '../storage/audio-key';
import { MessageRole } from './message.entity';

export const CONTENT_MAX_LENGTH = 32_000;

/** An audio attachment already uploaded (`createAudioUpload`), referenced by its object key;
 * the shape is checked here, the ownership and the stored object by `claimAudioUpload`. */
export class AudioInput {
  @ValidateBy({
    name: 'isAudioKey',
    validator: {
      validate: isAudioKey,
      defaultMessage: () =>
        `must be a relative object key of lowercase letters, digits and / . _ - (each segment starting with a letter or digit, no .., at most ${AUDIO_KEY_MAX_LENGTH} characters)`,
    },
  })
  key: string;

  @IsAudioContentType()
  contentType: string;

  @IsInt({ message: 'must be a whole number of bytes' })
  @Min(1, { message: 'must be at least 1 byte' })
  @Max(AUDIO_BYTE_SIZE_LIMIT, { message: `must be at most ${AUDIO_BYTE_SIZE_LIMIT} bytes` })
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
