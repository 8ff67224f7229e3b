import { IsEmail, IsOptional, Length, Matches, MaxLength } from "class-validator";
import { ArgsType, Field, InputType } from "type-graphql";
import { DEVICE_ID_PATTERN } from "../sessions/device-id";
import { PASSWORD_LENGTH } from "./password-policy";

// Checked again by the services (password-policy.ts): not common, not the email, not the current one.
const PASSWORD = PASSWORD_LENGTH;
const NEW_PASSWORD_RULES = "not a commonly used password, not the email address or the part before its @";

const REMEMBER_ME =
  "Keep me signed in (default true). False: the session ends SESSION_SHORT_TTL after sign-in (default 12 h) and, in cookie mode, the refresh cookie dies with the browser (no Max-Age or Expires).";
const DEVICE_ID =
  "Body mode: the long-lived id this device keeps, at most 64 characters of [A-Za-z0-9_-] (else BAD_USER_INPUT), so the server recognises it (Session.newDevice) and trusts it in the login throttle. Cookie mode: ignored, the __Host-device cookie is used. Only a keyed hash is stored.";
const DEVICE_ID_MESSAGE = "deviceId must be at most 64 characters of A-Z, a-z, 0-9, _ and -";

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

  @Field(() => Boolean, { nullable: true, defaultValue: true, description: REMEMBER_ME })
  rememberMe?: boolean | null;

  @Field(() => String, { nullable: true, description: DEVICE_ID })
  @IsOptional()
  @Matches(DEVICE_ID_PATTERN, { message: DEVICE_ID_MESSAGE })
  deviceId?: string | null;
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

  @Field(() => Boolean, { nullable: true, defaultValue: true, description: REMEMBER_ME })
  rememberMe?: boolean | null;

  @Field(() => String, { nullable: true, description: DEVICE_ID })
  @IsOptional()
  @Matches(DEVICE_ID_PATTERN, { message: DEVICE_ID_MESSAGE })
  deviceId?: string | null;
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
