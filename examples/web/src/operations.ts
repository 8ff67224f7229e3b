import { graphql } from "./gql";

/** Every GraphQL operation the app sends; `npm run codegen` types them from schema.graphql. */

export const MySessionsQuery = graphql(`
  query MySessions {
    mySessions {
      id
      current
      deviceName
      browser
      os
      deviceType
      ipAddress
      createdAt
      lastActiveAt
      newDevice
      persistent
    }
  }
`);

export const MySecurityEventsQuery = graphql(`
  query MySecurityEvents($first: Int!) {
    mySecurityEvents(first: $first) {
      edges {
        node {
          id
          type
          occurredAt
          sessionId
          sessionIds
          ipAddress
          browser
          os
          deviceName
          details
        }
      }
    }
  }
`);

export const RevokeSessionMutation = graphql(`
  mutation RevokeSession($id: ID!) {
    revokeSession(id: $id)
  }
`);

/** The cheapest question that makes the server check this session (used after a back-forward-cache restore). */
export const ViewerQuery = graphql(`
  query Viewer {
    me {
      id
    }
  }
`);

/** "This wasn't me": every other session ends (SECURITY_CONCERN). */
export const SecureAccountMutation = graphql(`
  mutation SecureAccount {
    secureAccount(keepCurrent: true)
  }
`);

export const ChangePasswordMutation = graphql(`
  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword)
  }
`);
