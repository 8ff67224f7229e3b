import { unauthenticated } from "../errors/error-codes";
import type { GraphQLContext, Viewer } from "./context";

/** The signed-in viewer; an anonymous request gets UNAUTHENTICATED (reason TOKEN_MISSING). */
export function requireViewer(ctx: GraphQLContext): Viewer {
  if (!ctx.viewer) throw unauthenticated("TOKEN_MISSING");
  return ctx.viewer;
}
