import { Ctx, Resolver, Root, Subscription } from "type-graphql";
import { appError } from "../errors/error-codes";
import type { GraphQLContext } from "../graphql/context";
import { requireViewer } from "../graphql/viewer";
import type { SessionCreated } from "./revocation/revocation";
import { Session } from "./session.type";
import { SessionCreatedEvent } from "./session-created.type";

@Resolver()
export class SessionCreatedResolver {
  @Subscription(() => SessionCreatedEvent, {
    description:
      "Your new sessions as they begin, on any device and any instance (over graphql-ws), sent when the sign-in commits. Every socket of yours hears it except the new session's own; nobody else's does. Over HTTP: BAD_REQUEST, reason SUBSCRIPTION_OVER_HTTP.",
    subscribe: ({ context }: { context: GraphQLContext }) => {
      requireViewer(context);
      if (!context.connection) throw appError("BAD_USER_INPUT", { message: "Subscriptions need a WebSocket (graphql-ws)." });
      return context.connection.sessionCreated();
    },
  })
  sessionCreated(@Root() event: SessionCreated, @Ctx() ctx: GraphQLContext): SessionCreatedEvent {
    // From the event alone (see live/shared-subscribe.ts): never this socket's session, so current is false.
    const session = Session.from(event.session, ctx.services.sessions.expiresAt(event.session), undefined);
    return Object.assign(new SessionCreatedEvent(), { session, newDevice: event.session.newDevice });
  }
}
