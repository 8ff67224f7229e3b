import { Resolver, Root, Subscription } from "type-graphql";
import { appError } from "../../errors/error-codes";
import type { GraphQLContext } from "../../graphql/context";
import { requireViewer } from "../../graphql/viewer";
import type { RevokedEventPayload } from "./revocation";
import { SessionRevokedEvent } from "./session-revoked.type";

@Resolver()
export class SessionRevokedResolver {
  @Subscription(() => SessionRevokedEvent, {
    description:
      "Your sessions as they end, on every device (over graphql-ws). When the ended session is this socket's own, the event has current: true and the server then closes the socket with 4403, reason SESSION_REVOKED or SESSION_EXPIRED: sign out, do not reconnect. Over HTTP: BAD_REQUEST, reason SUBSCRIPTION_OVER_HTTP.",
    subscribe: ({ context }: { context: GraphQLContext }) => {
      requireViewer(context);
      if (!context.connection) throw appError("BAD_USER_INPUT", { message: "Subscriptions need a WebSocket (graphql-ws)." });
      return context.connection.sessionRevoked();
    },
  })
  sessionRevoked(@Root() event: RevokedEventPayload): SessionRevokedEvent {
    return event;
  }
}
