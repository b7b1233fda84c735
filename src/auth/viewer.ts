/** Who is asking. Authorization decisions read only this. The users feature makes one from an
 * authenticated user (`users/token-user.ts`, `auth/authenticate-request.ts`); auth itself knows nothing of user rows. */
export interface Viewer {
  id: string;
  isAdmin: boolean;
}

/** The nil UUID: no row has it (ids come from gen_random_uuid()), so the operator owns nothing. */
const OPERATOR_ID = '00000000-0000-0000-0000-000000000000';

/**
 * The operator at the console (`hub user:create`, …): an administrator that is no user of the
 * hub. Made here only, so every path that acts outside a request passes one explicit identity
 * through the same authorization checks as a request does.
 */
export function operatorViewer(): Viewer {
  return { id: OPERATOR_ID, isAdmin: true };
}
