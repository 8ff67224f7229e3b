import { registerEnumType } from "type-graphql";

/**
 * What an account may do: stored in `users.role` (a CHECK holds it to these words) and shown
 * to admins as the GraphQL enum `UserRole`. `@Authorized("ADMIN")` names the second.
 */
export const UserRole = {
  USER: "USER",
  ADMIN: "ADMIN",
} as const;
export type UserRole = (typeof UserRole)[keyof typeof UserRole];

registerEnumType(UserRole, {
  name: "UserRole",
  description: "What an account may do.",
  valuesConfig: {
    USER: { description: "An ordinary account: its own sessions and data only." },
    ADMIN: {
      description: "Support staff: the admin* fields, from a fresh session. Granted by `npm run admin -- grant <email>`.",
    },
  },
});
