import { Arg, Ctx, Int, Query, Resolver } from "type-graphql";
import { badUserInput } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import { requireServiceScope } from "../graphql/viewer";
import { ServiceScope } from "../service-keys/service-key";
import { decodeCursor } from "./outbox.store";
import { ServiceEventConnection, ServiceEventEdge } from "./service-event.type";

const MAX_PAGE = 1000;

@Resolver()
export class ServiceEventsResolver {
  @Query(() => ServiceEventConnection, {
    description:
      "The session and account events, in the feed's one order, after `after` (from the oldest kept when omitted). A stored cursor never misses a committed event and never repeats one; it stays valid for OUTBOX_RETENTION. Scope events:read.",
  })
  async serviceEvents(
    @Ctx() ctx: GraphQLContext,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("first", () => Int, { defaultValue: 100 }) first: number,
  ): Promise<ServiceEventConnection> {
    requireServiceScope(ctx, ServiceScope.EVENTS_READ);
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
      throw badUserInput("first", `first must be between 1 and ${MAX_PAGE}`);
    }
    const position = after == null ? null : decodeCursor(after);
    if (after != null && !position) throw badUserInput("after", "after must be a cursor from serviceEvents");
    const events = await ctx.services.outbox.after(position, first + 1);
    const edges = events.slice(0, first).map(ServiceEventEdge.from);
    const connection = new ServiceEventConnection();
    connection.edges = edges;
    connection.pageInfo = { endCursor: edges.at(-1)?.cursor ?? after ?? null, hasNextPage: events.length > first };
    return connection;
  }
}
