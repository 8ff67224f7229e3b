import { Ctx, Query, Resolver } from "type-graphql";
import { unauthenticated } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import { requireViewer } from "../graphql/viewer";
import { User } from "./user.type";

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { description: "The signed-in user." })
  me(@Ctx() ctx: GraphQLContext): User | Promise<User> {
    const viewer = requireViewer(ctx);
    // The session was read with its user (and is kept current by the session cache): no
    // await, so graphql-js completes the whole request synchronously.
    if (viewer.session.user) return User.from(viewer.session.user);
    return ctx.loaders.user.load(viewer.userId).then((user) => {
      if (!user) throw unauthenticated("SESSION_NOT_FOUND");
      return User.from(user);
    });
  }
}
