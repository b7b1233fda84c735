import type { TypedDocumentNode } from '@apollo/client';
import { gql } from '@apollo/client';

/** The Dashboard as a team would write it for Apollo: `__typename` and `id` let the cache normalize. */
export interface DashboardSession {
  __typename: 'Session';
  id: string;
  title: string;
  isSyncing: boolean;
  updatedAt: string;
  owner: { __typename: 'User'; id: string; displayName: string };
  skills: { __typename: 'Skill'; id: string; name: string }[];
  messageCount: number;
  lastMessage: { __typename: 'Message'; id: string; role: string; content: string; createdAt: string } | null;
  messages: { __typename: 'MessageConnection'; nodes: { __typename: 'Message'; id: string; role: string; content: string }[] };
  nodeSync: { __typename: 'NodeSync'; nodeId: string; status: string }[];
}
export interface DashboardData {
  sessions: {
    __typename: 'SessionConnection';
    totalCount: number;
    pageInfo: { __typename: 'PageInfo'; hasNextPage: boolean; endCursor: string | null };
    edges: { __typename: 'SessionEdge'; cursor: string; node: DashboardSession }[];
  };
}
export interface DashboardVars {
  first: number;
  after?: string | null;
}

export const DASHBOARD: TypedDocumentNode<DashboardData, DashboardVars> = gql`
  query Dashboard($first: Int!, $after: String) {
    sessions(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          id
          title
          isSyncing
          updatedAt
          owner { id displayName }
          skills { id name }
          messageCount
          lastMessage { id role content createdAt }
          messages(first: 3, orderBy: CREATED_AT_DESC) { nodes { id role content } }
          nodeSync { nodeId status }
        }
      }
    }
  }
`;

export interface PostMessageData {
  postMessage: {
    __typename: 'Message';
    id: string;
    content: string;
    session: { __typename: 'Session'; id: string; messageCount: number; updatedAt: string; lastMessage: DashboardSession['lastMessage'] };
  };
}

/** Selects what the Dashboard shows of the session, so the cache updates it without a refetch. */
export const POST_MESSAGE: TypedDocumentNode<PostMessageData, { sessionId: string; content: string }> = gql`
  mutation PostMessage($sessionId: ID!, $content: String!) {
    postMessage(input: { sessionId: $sessionId, role: USER, content: $content }) {
      id
      content
      session { id messageCount updatedAt lastMessage { id role content createdAt } }
    }
  }
`;

/** A session's detail view: other fields of objects the Dashboard also holds (its sync rows, its messages' page). */
export const SESSION_DETAIL: TypedDocumentNode<
  { session: { __typename: 'Session'; id: string; nodeSync: { __typename: 'NodeSync'; nodeId: string; updatedAt: string }[]; messages: { __typename: 'MessageConnection'; totalCount: number; pageInfo: { __typename: 'PageInfo'; hasPreviousPage: boolean } } } | null },
  { id: string }
> = gql`
  query SessionDetail($id: ID!) {
    session(id: $id) {
      id
      nodeSync { nodeId updatedAt }
      messages(first: 3, orderBy: CREATED_AT_DESC) { totalCount pageInfo { hasPreviousPage } }
    }
  }
`;
