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
  lastMessage: {
    __typename: 'Message';
    id: string;
    role: string;
    content: string;
    createdAt: string;
    audio: { __typename: 'Audio'; id: string; url: string; contentType: string } | null;
  } | null;
  messages: { __typename: 'MessageConnection'; nodes: { __typename: 'Message'; id: string; role: string; content: string }[] };
  nodeSync: { __typename: 'NodeSync'; id: string; nodeId: string; status: string }[];
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
          lastMessage { id role content createdAt audio { id url contentType } }
          messages(first: 3, orderBy: CREATED_AT_DESC) { nodes { id role content } }
          nodeSync { id nodeId status }
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
      session { id messageCount updatedAt lastMessage { id role content createdAt audio { id url contentType } } }
    }
  }
`;

/** A session's detail view: other fields of objects the Dashboard also holds (its sync rows, its last
 * message's audio, its messages' page). */
export const SESSION_DETAIL: TypedDocumentNode<
  {
    session: {
      __typename: 'Session';
      id: string;
      nodeSync: { __typename: 'NodeSync'; id: string; nodeId: string; updatedAt: string }[];
      lastMessage: { __typename: 'Message'; id: string; audio: { __typename: 'Audio'; id: string; key: string; byteSize: number } | null } | null;
      messages: { __typename: 'MessageConnection'; totalCount: number; pageInfo: { __typename: 'PageInfo'; hasPreviousPage: boolean } };
    } | null;
  },
  { id: string }
> = gql`
  query SessionDetail($id: ID!) {
    session(id: $id) {
      id
      nodeSync { id nodeId updatedAt }
      lastMessage { id audio { id key byteSize } }
      messages(first: 3, orderBy: CREATED_AT_DESC) { totalCount pageInfo { hasPreviousPage } }
    }
  }
`;
