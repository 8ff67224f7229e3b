import { IsEmail, IsOptional, Length, MaxLength } from "class-validator";
import { ArgsType, Field, InputType } from "type-graphql";

// ASVS V6.2: at least 8 characters, at least 64 allowed, no composition rules.
const PASSWORD = { min: 8, max: 128 };

@InputType("RegisterInput")
export class RegisterInput {
  @Field(() => String)
  @IsEmail({}, { message: "email must be a valid email address" })
  @MaxLength(254)
  email!: string;

  @Field(() => String, { description: `${PASSWORD.min} to ${PASSWORD.max} characters.` })
  @Length(PASSWORD.min, PASSWORD.max, { message: `password must be ${PASSWORD.min} to ${PASSWORD.max} characters` })
  password!: string;

  @Field(() => String, { nullable: true, description: "A name for this device, shown in mySessions." })
  @IsOptional()
  @MaxLength(100)
  deviceName?: string | null;
}

@InputType("LoginInput")
export class LoginInput {
  @Field(() => String)
  @MaxLength(254)
  email!: string;

  // No length rule beyond a cap: a login must not reveal the password policy's edges.
  @Field(() => String)
  @MaxLength(1024)
  password!: string;

  @Field(() => String, { nullable: true, description: "A name for this device, shown in mySessions." })
  @IsOptional()
  @MaxLength(100)
  deviceName?: string | null;
}

@ArgsType()
export class ChangePasswordArgs {
  @Field(() => String)
  @MaxLength(1024)
  currentPassword!: string;

  @Field(() => String, { description: `${PASSWORD.min} to ${PASSWORD.max} characters.` })
  @Length(PASSWORD.min, PASSWORD.max, { message: `newPassword must be ${PASSWORD.min} to ${PASSWORD.max} characters` })
  newPassword!: string;
}

@ArgsType()
export class ChangeEmailArgs {
  @Field(() => String)
  @IsEmail({}, { message: "newEmail must be a valid email address" })
  @MaxLength(254)
  newEmail!: string;

  @Field(() => String)
  @MaxLength(1024)
  currentPassword!: string;
}

@ArgsType()
export class ReauthenticateArgs {
  @Field(() => String)
  @MaxLength(1024)
  password!: string;
}
