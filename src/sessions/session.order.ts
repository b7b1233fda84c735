import type { SessionOrder } from '../generated/schema-types';
import { KeysetOrder } from '../pagination/keyset';
import { SessionModel } from './session.rows';

export type SessionOrderName = SessionOrder;

/** Every value of the schema's `SessionOrder`: a new one is a type error here until it has a keyset. */
export const SESSION_ORDERS: Record<SessionOrderName, KeysetOrder<SessionModel>> = {
  CREATED_AT_DESC: { name: 'CREATED_AT_DESC', column: 'created_at', desc: true, kind: 'time', valueOf: (s) => s.createdAt },
  CREATED_AT_ASC: { name: 'CREATED_AT_ASC', column: 'created_at', desc: false, kind: 'time', valueOf: (s) => s.createdAt },
  UPDATED_AT_DESC: { name: 'UPDATED_AT_DESC', column: 'updated_at', desc: true, kind: 'time', valueOf: (s) => s.updatedAt },
};

/** GraphQL has already checked the enum; a missing value is the schema default. */
export function sessionOrder(name: SessionOrderName | null | undefined): KeysetOrder<SessionModel> {
  return SESSION_ORDERS[name ?? 'CREATED_AT_DESC'];
}
