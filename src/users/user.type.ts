import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/scalars";
import type { UserEntity } from "./user.entity";

@ObjectType("User", { description: "An account.", simpleResolvers: true })
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "Lower-cased email address the account signs in with." })
  email!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  static from(entity: UserEntity): User {
    return Object.assign(new User(), { id: entity.id, email: entity.email, createdAt: entity.createdAt });
  }
}
