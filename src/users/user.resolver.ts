import { Ctx, Query, Resolver } from "type-graphql";
import { unauthenticated } from "../errors/error-codes";
import type { GraphQLContext, Viewer } from "../graphql/context";
import type { ReferenceResolver } from "../graphql/subgraph";
import { requireViewer } from "../graphql/viewer";
import { User } from "./user.type";

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { description: "The signed-in user." })
  me(@Ctx() ctx: GraphQLContext): User | Promise<User> {
    return viewerUser(requireViewer(ctx), ctx);
  }
}

function viewerUser(viewer: Viewer, ctx: GraphQLContext): User | Promise<User> {
  // The session was read with its user (and is kept current by the session cache): no
  // await, so graphql-js completes the whole request synchronously.
  if (viewer.session.user) return User.from(viewer.session.user);
  return ctx.loaders.user.load(viewer.userId).then((user) => {
    if (!user) throw unauthenticated("SESSION_NOT_FOUND");
    return User.from(user);
  });
}

/** Federation: `_entities` for a User is the viewer alone; any other id (or no viewer) is null. */
export const resolveUserReference: ReferenceResolver = (reference, ctx) =>
  ctx.viewer && reference.id === ctx.viewer.userId ? viewerUser(ctx.viewer, ctx) : null;
