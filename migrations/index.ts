import { InitialSchema1764100000000 } from './1764100000000-initial-schema';
import { SessionsUserUpdatedIndex1764200000000 } from './1764200000000-sessions-user-updated-index';
import { MessagesAudioKeyIndex1764300000000 } from './1764300000000-messages-audio-key-index';
import { MessagesLiveIndex1764400000000 } from './1764400000000-messages-live-index';
import { LiveNotifyTriggers1764500000000 } from './1764500000000-live-notify-triggers';
import { AudioUploads1764600000000 } from './1764600000000-audio-uploads';
import { ScaleOutTables1764700000000 } from './1764700000000-scale-out-tables';
import { MessageOrder1764800000000 } from './1764800000000-message-order';
import { LivePurgeDetails1764900000000 } from './1764900000000-live-purge-details';
import { RequesterWindows1765300000000 } from './1765300000000-requester-windows';
import { MessageSearch1765427000000 } from './1765427000000-message-search';
import { LiveBeforeState1765500000000 } from './1765500000000-live-before-state';
import { RequesterWindowsAccepted1765610000000 } from './1765610000000-requester-windows-accepted';
import { StreamedMessages1765660000000 } from './1765660000000-streamed-messages';
import { MessageSearchVector1796530286950 } from './1796530286950-message-search-vector';
import { LiveLinksAtChange1796600000000 } from './1796600000000-live-links-at-change';
import { SessionMessageCounts1796700000000 } from './1796700000000-session-message-counts';
import { SearchEscapedText1796800000000 } from './1796800000000-search-escaped-text';

/** Every migration, oldest first; the DataSource lists them explicitly. */
export const MIGRATIONS: Function[] = [
  InitialSchema1764100000000,
  SessionsUserUpdatedIndex1764200000000,
  MessagesAudioKeyIndex1764300000000,
  MessagesLiveIndex1764400000000,
  LiveNotifyTriggers1764500000000,
  AudioUploads1764600000000,
  ScaleOutTables1764700000000,
  MessageOrder1764800000000,
  LivePurgeDetails1764900000000,
  RequesterWindows1765300000000,
  MessageSearch1765427000000,
  LiveBeforeState1765500000000,
  RequesterWindowsAccepted1765610000000,
  StreamedMessages1765660000000,
  MessageSearchVector1796530286950,
  LiveLinksAtChange1796600000000,
  SessionMessageCounts1796700000000,
  SearchEscapedText1796800000000,
];
