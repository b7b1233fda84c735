import { EntitySubscriberInterface, EventSubscriber, RemoveEvent } from 'typeorm';
import { removeUploadsOfMessages } from '../consistency/cascades';
import { eventKey, inBatch } from '../db/event-batch';
import { Message } from '../messages/message.entity';

/**
 * Upload rows have no life of their own. Hard-removing a message takes the uploads attached to it
 * (`removeUploadsOfMessages`), before the message goes; removed sessions and users take theirs
 * in their own cascades (`purgeDependents`, `purgeSessionsOfUsers`, src/consistency/cascades.ts).
 */
@EventSubscriber()
export class AudioUploadSubscriber implements EntitySubscriberInterface<Message> {
  listenTo() {
    return Message;
  }

  beforeRemove(event: RemoveEvent<Message>): Promise<void> {
    const id = eventKey(event, 'id', 'A message removal reached the audio upload subscriber without an id');
    return inBatch(event.queryRunner, 'audio-upload:message', id, id, (ids) => removeUploadsOfMessages(event.manager, ids));
  }
}
