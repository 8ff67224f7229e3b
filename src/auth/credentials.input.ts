import { IsEmail, IsOptional, Length, MaxLength } from "class-validator";
import { ArgsType, Field, InputType } from "type-graphql";
import { PASSWORD_LENGTH } from "./password-policy";

// Checked again by the services (password-policy.ts): not common, not the email, not the current one.
const PASSWORD = PASSWORD_LENGTH;
const NEW_PASSWORD_RULES = "not a commonly used password, not the email address or the part before its @";

@InputType("RegisterInput")
export class RegisterInput {
  @Field(() => String)
  @IsEmail({}, { message: "email must be a valid email address" })
  @MaxLength(254)
  email!: string;

  @Field(() => String, { description: `${PASSWORD.min} to ${PASSWORD.max} characters; ${NEW_PASSWORD_RULES}.` })
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

  @Field(() => String, {
    description: `${PASSWORD.min} to ${PASSWORD.max} characters; ${NEW_PASSWORD_RULES}, not the current password.`,
  })
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
