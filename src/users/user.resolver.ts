import { Ctx, Query, Resolver } from "type-graphql";
import { unauthenticated } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import { requireViewer } from "../graphql/viewer";
import { User } from "./user.type";

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { description: "The signed-in user." })
  async me(@Ctx() ctx: GraphQLContext): Promise<User> {
    const user = await ctx.loaders.user.load(requireViewer(ctx).userId);
    if (!user) throw unauthenticated("SESSION_NOT_FOUND");
    return User.from(user);
  }
}
