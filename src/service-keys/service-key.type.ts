import { Field, ObjectType } from "type-graphql";
import { ServiceScopeName, scopeName } from "./service-key";
import type { ServiceViewer } from "./service-key.service";

@ObjectType("ServiceKey", { description: "The service key making this request. Never its secret." })
export class ServiceKeyInfo {
  @Field(() => String, { description: "As given to `npm run admin -- create-key --name`." })
  name!: string;

  @Field(() => String, { description: "The key's public part (`sak_<prefix>_…`): what logs and `revoke-key` name it by." })
  prefix!: string;

  @Field(() => [ServiceScopeName], { description: "What it may reach." })
  scopes!: ServiceScopeName[];

  static from(service: ServiceViewer): ServiceKeyInfo {
    return Object.assign(new ServiceKeyInfo(), {
      name: service.name,
      prefix: service.prefix,
      scopes: [...service.scopes].map(scopeName),
    });
  }
}
