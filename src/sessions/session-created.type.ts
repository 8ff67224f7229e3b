import { Field, ObjectType } from "type-graphql";
import { Session } from "./session.type";

@ObjectType("SessionCreatedEvent", {
  description:
    "One of your sessions began, on another device or tab: a sign-in (or the session register opened). Show it to the user; if it was not them, secureAccount then changePassword.",
})
export class SessionCreatedEvent {
  @Field(() => Session, { description: "The new session, with its parsed device (browser, OS, device type), IP and name." })
  session!: Session;

  @Field(() => Boolean, { description: "True when it came from a device this account had never signed in on." })
  newDevice!: boolean;
}
