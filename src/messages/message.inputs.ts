import { IsOptional, IsString, ValidateBy, ValidateNested } from 'class-validator';
import { AudioObjectInput } from '../audio-uploads/audio-upload.inputs';
import { HasLength, IsId, IsOneOf, IsStorableText } from '../common/id.inputs';
import { AUDIO_KEY_MAX_LENGTH, isAudioKey } from '../storage/audio-key';
import { MessageRole } from './message.entity';

export const CONTENT_MAX_LENGTH = 32_000;

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
}
