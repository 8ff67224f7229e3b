import { Field, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/scalars";
import { Session } from "../sessions/session.type";
import { User } from "../users/user.type";

@ObjectType("AuthPayload", { description: "What a sign-in or refresh hands the client.", simpleResolvers: true })
export class AuthPayload {
  @Field(() => String, { description: "Short-lived JWT for `Authorization: Bearer <token>`." })
  accessToken!: string;

  @Field(() => DateTimeScalar)
  accessTokenExpiresAt!: Date;

  @Field(() => String, {
    nullable: true,
    description: "Opaque, single-use: each refreshSession spends it and returns a new one.",
  })
  refreshToken!: string | null;

  @Field(() => Session)
  session!: Session;

  @Field(() => User)
  user!: User;
}
