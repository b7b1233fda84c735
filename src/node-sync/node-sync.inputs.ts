import { IsOptional } from 'class-validator';
import { HasLength, IsId, IsNotBlank, IsOneOf, IsStorableText } from '../common/id.inputs';
import { SyncStatus } from './node-sync.entity';

export const NODE_ID_MAX_LENGTH = 128;

export class ReportNodeSyncInput {
  @IsId()
  sessionId: string;

  @IsNotBlank()
  @HasLength(1, NODE_ID_MAX_LENGTH)
  @IsStorableText()
  nodeId: string;

  @IsOneOf(SyncStatus)
  status: SyncStatus;

  /** Kept for FAILED only; stored as null for any other status. */
  @IsOptional()
  @HasLength(0, 10_000)
  @IsStorableText()
  error?: string | null;
}
