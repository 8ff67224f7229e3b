import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, ObjectType } from "type-graphql";
import type { OutboxEvent } from "./outbox.store";

@ObjectType({ description: "A session or account event from the outbox: what webhooks send, in the feed's order." })
export class ServiceEvent {
  @Field(() => ID, { description: "Stable: the same event always has this id (webhooks send it as webhook-id)." })
  id!: string;

  @Field(() => String, {
    description: "session.created, session.revoked, user.password_changed, user.email_changed, user.locked or user.unlocked.",
  })
  type!: string;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => ID)
  userId!: string;

  @Field(() => GraphQLJSONObject, {
    description:
      "The event's facts, never a token, hash or password: sessionId, newDevice, deviceName… for session.created; sessionId and reason for session.revoked; previousEmail and newEmail for user.email_changed; reason for user.locked.",
  })
  data!: Record<string, unknown>;
}

@ObjectType()
export class ServiceEventEdge {
  @Field(() => String, { description: "Pass as `after` to read what follows this event." })
  cursor!: string;

  @Field(() => ServiceEvent)
  node!: ServiceEvent;

  static from(event: OutboxEvent): ServiceEventEdge {
    const { cursor, ...node } = event;
    return Object.assign(new ServiceEventEdge(), { cursor, node: Object.assign(new ServiceEvent(), node) });
  }
}

@ObjectType()
export class ServiceEventsPageInfo {
  @Field(() => String, {
    nullable: true,
    description: "The last edge's cursor; the `after` you were given when the page is empty.",
  })
  endCursor!: string | null;

  @Field(() => Boolean, { description: "True when more events can be read right now." })
  hasNextPage!: boolean;
}

@ObjectType()
export class ServiceEventConnection {
  @Field(() => [ServiceEventEdge])
  edges!: ServiceEventEdge[];

  @Field(() => ServiceEventsPageInfo)
  pageInfo!: ServiceEventsPageInfo;
}
