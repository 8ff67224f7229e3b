import { Ctx, Query, Resolver } from "type-graphql";
import { unauthenticated } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import { requireViewer } from "../graphql/viewer";
import { User } from "./user.type";

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { description: "The signed-in user." })
  async me(@Ctx() ctx: GraphQLContext): Promise<User> {
    const viewer = requireViewer(ctx);
    // The session was read with its user (and is kept current by the session cache).
    const user = viewer.session.user ?? (await ctx.loaders.user.load(viewer.userId));
    if (!user) throw unauthenticated("SESSION_NOT_FOUND");
    return User.from(user);
  }
}
