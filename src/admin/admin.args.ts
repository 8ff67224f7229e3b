import { IsOptional, IsUUID, Max, MaxLength, Min } from "class-validator";
import { ArgsType, Field, ID, Int } from "type-graphql";
import { MAX_PAGE_SIZE } from "../audit-log/audit-log.service";

/** The arguments of the admin fields; class-validator rules turn bad ones into BAD_USER_INPUT. */
@ArgsType()
export class AdminUserArgs {
  @Field(() => ID, { nullable: true, description: "The user's id. Give this or email, not both." })
  @IsOptional()
  @IsUUID()
  id?: string | null;

  @Field(() => String, { nullable: true, description: "The user's sign-in email, any case. Give this or id, not both." })
  @IsOptional()
  @MaxLength(254)
  email?: string | null;
}

@ArgsType()
export class UserIdArgs {
  @Field(() => ID)
  @IsUUID()
  userId!: string;
}

@ArgsType()
export class SessionIdArgs {
  @Field(() => ID)
  @IsUUID()
  id!: string;
}

@ArgsType()
export class AdminSecurityEventsArgs extends UserIdArgs {
  @Field(() => Int, { defaultValue: 20, description: `At most ${MAX_PAGE_SIZE}.` })
  @Min(0)
  @Max(MAX_PAGE_SIZE)
  first!: number;

  @Field(() => String, { nullable: true, description: "An `endCursor` from the previous page." })
  after?: string | null;
}

@ArgsType()
export class LockUserArgs extends UserIdArgs {
  @Field(() => String, {
    nullable: true,
    description: "Why, for the audit log and other support staff (at most 500 characters). The user is never shown it.",
  })
  @IsOptional()
  @MaxLength(500)
  reason?: string | null;
}
