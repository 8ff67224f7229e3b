import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../../graphql/scalars";
import { RevocationReason } from "./revocation-reason";

@ObjectType("SessionRevokedEvent", { description: "One of your sessions ended.", simpleResolvers: true })
export class SessionRevokedEvent {
  @Field(() => ID)
  sessionId!: string;

  @Field(() => RevocationReason)
  reason!: RevocationReason;

  @Field(() => DateTimeScalar)
  revokedAt!: Date;

  @Field(() => Boolean, {
    description:
      "True when the ended session is the one this socket belongs to; the server then closes the socket (4403, SESSION_REVOKED or SESSION_EXPIRED).",
  })
  current!: boolean;
}
