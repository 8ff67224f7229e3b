import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/scalars";
import type { SessionEntity } from "./session.entity";

// simpleResolvers: plain properties need no per-field resolver wrapper (a list of 1,000 sessions has 11,000 fields).
@ObjectType("Session", { description: "One signed-in device. No token or hash is ever exposed.", simpleResolvers: true })
export class Session {
  @Field(() => ID)
  id!: string;

  @Field(() => Boolean, { description: "True for the session that makes this request." })
  current!: boolean;

  @Field(() => String, { nullable: true, description: "As given at login or register." })
  deviceName!: string | null;

  @Field(() => String, { nullable: true, description: "Browser and major version, parsed from the User-Agent." })
  browser!: string | null;

  @Field(() => String, { nullable: true, description: "Operating system and version, parsed from the User-Agent." })
  os!: string | null;

  @Field(() => String, { nullable: true, description: "desktop, mobile, tablet, ... parsed from the User-Agent." })
  deviceType!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true, description: "Client IP address at sign-in." })
  ipAddress!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { description: "Last activity, recorded at most about once a minute." })
  lastActiveAt!: Date;

  @Field(() => DateTimeScalar, { description: "When the session ends unless used again (idle) or at the latest (absolute)." })
  expiresAt!: Date;

  @Field(() => Boolean, { description: "Signed in from a device this account had never signed in on before." })
  newDevice!: boolean;

  @Field(() => Boolean, {
    description:
      'False when signed in without "keep me signed in" (rememberMe: false): it ends SESSION_SHORT_TTL after sign-in, and its cookie with the browser.',
  })
  persistent!: boolean;

  static from(entity: SessionEntity, expiresAt: Date, currentSessionId: string | undefined): Session {
    return Object.assign(new Session(), {
      id: entity.id,
      current: entity.id === currentSessionId,
      deviceName: entity.deviceName,
      browser: entity.browser,
      os: entity.os,
      deviceType: entity.deviceType,
      userAgent: entity.userAgent,
      ipAddress: entity.ipAddress,
      createdAt: entity.createdAt,
      lastActiveAt: entity.lastActiveAt,
      expiresAt,
      newDevice: entity.newDevice,
      persistent: entity.persistent,
    });
  }
}
