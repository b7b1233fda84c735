import { IsInt, Max, Min, ValidateBy } from 'class-validator';
import { IsId } from '../common/id.inputs';
import { AUDIO_CONTENT_TYPE_MAX_LENGTH, isAudioContentType } from '../storage/content-type';

/** The largest size any configuration accepts (the column is a 32-bit integer, as is GraphQL's Int). */
export const AUDIO_BYTE_SIZE_LIMIT = 2_147_483_647;

/** An `audio/*` MIME type; which ones are accepted is configuration, checked by the service. */
export function IsAudioContentType(): PropertyDecorator {
  return ValidateBy({
    name: 'isAudioContentType',
    validator: {
      validate: isAudioContentType,
      defaultMessage: () => `must be an audio/* MIME type of at most ${AUDIO_CONTENT_TYPE_MAX_LENGTH} characters`,
    },
  });
}

/** What an upload declares and a message's audio repeats: one set of rules for both inputs
 * (class-validator checks a subclass's own fields first, then these). */
export abstract class AudioObjectInput {
  @IsAudioContentType()
  contentType: string;

  @IsInt({ message: 'must be a whole number of bytes' })
  @Min(1, { message: 'must be at least 1 byte' })
  @Max(AUDIO_BYTE_SIZE_LIMIT, { message: `must be at most ${AUDIO_BYTE_SIZE_LIMIT} bytes` })
  byteSize: number;
}

export class CreateAudioUploadInput extends AudioObjectInput {
  @IsId()
  sessionId: string;
}
