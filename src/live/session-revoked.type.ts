import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeScalar } from "../graphql/scalars";
import { REVOCATION_REASONS, type RevocationReason } from "../sessions/session.entity";

export const RevocationReasonEnum = Object.fromEntries(REVOCATION_REASONS.map((r) => [r, r])) as {
  [K in RevocationReason]: K;
};

registerEnumType(RevocationReasonEnum, {
  name: "RevocationReason",
  description: "Why a session ended.",
  valuesConfig: {
    LOGOUT: { description: "logout on that device." },
    LOGOUT_ALL: { description: "logoutAllDevices." },
    REVOKED: { description: "revokeSession from another device." },
    PASSWORD_CHANGED: { description: "changePassword ended the other sessions." },
    EMAIL_CHANGED: { description: "changeEmail ended the other sessions." },
    REFRESH_TOKEN_REUSE: { description: "A spent refresh token was replayed: the session is treated as stolen." },
    EXPIRED: { description: "Past its absolute lifetime or idle for too long." },
  },
});

@ObjectType("SessionRevokedEvent", { description: "One of your sessions ended.", simpleResolvers: true })
export class SessionRevokedEvent {
  @Field(() => ID)
  sessionId!: string;

  @Field(() => RevocationReasonEnum)
  reason!: RevocationReason;

  @Field(() => DateTimeScalar)
  revokedAt!: Date;

  @Field(() => Boolean, {
    description: "True when the ended session is the one this socket belongs to; the server then closes the socket (4403, SESSION_REVOKED or SESSION_EXPIRED).",
  })
  current!: boolean;
}
