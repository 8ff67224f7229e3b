import { DateTimeScalar } from "session-api";
import { Field, ID, ObjectType } from "type-graphql";

@ObjectType("Note", { description: "A line of text a user keeps; only its author ever sees it.", simpleResolvers: true })
export class Note {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  text!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}
