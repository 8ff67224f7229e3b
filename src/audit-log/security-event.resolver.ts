import { Max, Min } from "class-validator";
import { Args, ArgsType, Ctx, Extensions, Field, Int, Query, Resolver } from "type-graphql";
import { badUserInput } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import { requireViewer } from "../graphql/viewer";
import { decodeCursor, type EventCursor, MAX_PAGE_SIZE } from "./audit-log.service";
import { SecurityEventConnection } from "./security-event.type";

@ArgsType()
export class SecurityEventsArgs {
  @Field(() => Int, { defaultValue: 20, description: `At most ${MAX_PAGE_SIZE}.` })
  @Min(0)
  @Max(MAX_PAGE_SIZE)
  first!: number;

  @Field(() => String, { nullable: true, description: "An `endCursor` from the previous page." })
  after?: string | null;
}

@Resolver()
export class SecurityEventResolver {
  @Extensions({ listSize: { argument: "first", max: MAX_PAGE_SIZE } })
  @Query(() => SecurityEventConnection, {
    description:
      "Your security activity log (sign-ins, failures, logouts, revocations, password and email changes), newest first.",
  })
  async mySecurityEvents(@Args(() => SecurityEventsArgs) { first, after }: SecurityEventsArgs, @Ctx() ctx: GraphQLContext) {
    const viewer = requireViewer(ctx);
    const page = await ctx.services.auditLog.listUserEvents(viewer.userId, first, afterCursor(after));
    return SecurityEventConnection.from(page);
  }
}

/** The `after` argument as a cursor; one not from a previous page is BAD_USER_INPUT. */
export function afterCursor(after: string | null | undefined): EventCursor | null {
  const position = after ? decodeCursor(after) : null;
  if (after && !position) throw badUserInput("after", "after must be an endCursor from a previous page");
  return position;
}
