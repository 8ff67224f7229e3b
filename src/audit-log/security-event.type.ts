import { GraphQLJSONObject } from "graphql-scalars";
import { Extensions, Field, ID, Int, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../graphql/scalars";
import { parseDevice } from "../lib/device";
import { AuditEventType } from "./audit-event-type";
import { MAX_SESSION_IDS_PER_EVENT, type SecurityEventPage, type SecurityEventRow } from "./audit-log.service";

@ObjectType("SecurityEvent", {
  description: "One entry of your security activity log. Entries are never changed or deleted, and hold no secret.",
})
export class SecurityEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => AuditEventType, { description: "What happened." })
  type!: AuditEventType;

  @Field(() => DateTimeScalar)
  occurredAt!: Date;

  @Field(() => ID, {
    nullable: true,
    description:
      "The session concerned (signed in, ended, or acting). Null when one action ended several sessions: see sessionIds.",
  })
  sessionId!: string | null;

  @Field(() => [ID], {
    nullable: true,
    description: `The sessions one action (such as logoutAllDevices) ended, when it ended more than one; otherwise null. At most the first ${MAX_SESSION_IDS_PER_EVENT}: sessionCount says how many there were.`,
  })
  @Extensions({ listSize: { max: MAX_SESSION_IDS_PER_EVENT } })
  sessionIds!: string[] | null;

  @Field(() => Int, {
    nullable: true,
    description: `How many sessions the action ended, when sessionIds is not null (more than sessionIds shows when over ${MAX_SESSION_IDS_PER_EVENT}).`,
  })
  sessionCount!: number | null;

  @Field(() => String, { nullable: true, description: "The acting client's IP address." })
  ipAddress!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true, description: "Browser and major version, parsed from the User-Agent." })
  browser!: string | null;

  @Field(() => String, { nullable: true, description: "Operating system, parsed from the User-Agent." })
  os!: string | null;

  @Field(() => String, { nullable: true, description: "desktop, mobile, tablet, ... parsed from the User-Agent." })
  deviceType!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The name given at sign-in to the session concerned (sessionId), while that session is kept; a LOGIN entry also keeps it in details.deviceName.",
  })
  deviceName!: string | null;

  @Field(() => GraphQLJSONObject, {
    description:
      "Small facts about the event, never a token, hash or password: a revocation's `reason`, the acting `bySessionId`, and `sessionCount` when one action ended several sessions.",
  })
  details!: Record<string, unknown>;

  static from(row: SecurityEventRow): SecurityEvent {
    return Object.assign(new SecurityEvent(), {
      id: row.id,
      type: row.type,
      occurredAt: row.occurredAt,
      sessionId: row.sessionId,
      sessionIds: row.sessionIds,
      sessionCount: row.sessionCount,
      ipAddress: row.ipAddress,
      userAgent: row.userAgent,
      ...parseDevice(row.userAgent),
      deviceName: row.deviceName ?? (typeof row.details.deviceName === "string" ? row.details.deviceName : null),
      details: row.details,
    });
  }
}

@ObjectType("SecurityEventEdge")
export class SecurityEventEdge {
  @Field(() => SecurityEvent)
  node!: SecurityEvent;

  @Field(() => String, { description: "Opaque; pass as `after` to continue after this event." })
  cursor!: string;
}

@ObjectType("PageInfo", { description: "Relay-style pagination state." })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType("SecurityEventConnection", { description: "A user's security events, newest first." })
export class SecurityEventConnection {
  @Field(() => [SecurityEventEdge])
  edges!: SecurityEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  static from(page: SecurityEventPage): SecurityEventConnection {
    const edges = page.rows.map((row) => ({ node: SecurityEvent.from(row), cursor: row.cursor }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }
}
