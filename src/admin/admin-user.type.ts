import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/scalars";
import { UserRole } from "../users/user-role";
import type { AdminUserRow } from "./user-admin.store";

@ObjectType("AdminUser", {
  description: "An account as support staff see it. No password hash or token is ever exposed.",
  simpleResolvers: true,
})
export class AdminUser {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "Lower-cased email address the account signs in with." })
  email!: string;

  @Field(() => UserRole)
  role!: UserRole;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: "When adminLockUser locked it; null when it may sign in." })
  lockedAt!: Date | null;

  @Field(() => String, { nullable: true, description: "The reason given to adminLockUser, if any." })
  lockedReason!: string | null;

  static from(row: AdminUserRow): AdminUser {
    return Object.assign(new AdminUser(), row);
  }
}
