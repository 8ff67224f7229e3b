import {
  type GraphQLError,
  type GraphQLSchema,
  type GraphQLType,
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  Kind,
  print,
  type TypeNode,
  typeFromAST,
} from "graphql";
import type { ArgumentValidationError } from "type-graphql";
import type { FieldProblem } from "../errors/error-codes";

/**
 * The `extensions.fields` of BAD_USER_INPUT, from each place input is refused before a
 * resolver's own checks: class-validator rules on arguments, and variables that graphql-js
 * could not read as their declared type. `field` names the argument, or the field inside an
 * input object (`email`, dotted when nested); a variable that is not an input object is named
 * by itself. Messages never repeat the value: it may be a password.
 */

// class-validator errors carry the whole input (`target`) and the bad `value`: only field
// names and messages leave the server.
export function validationProblems(
  errors: ArgumentValidationError["extensions"]["validationErrors"],
  prefix = "",
): FieldProblem[] {
  const list = (errors ?? []) as {
    property: string;
    constraints?: Record<string, string>;
    children?: unknown[];
  }[];
  return list.flatMap((e) => [
    ...(e.constraints ? [{ field: prefix + e.property, messages: Object.values(e.constraints) }] : []),
    ...validationProblems(e.children as never, `${prefix}${e.property}.`),
  ]);
}

const NAME = "[_A-Za-z][_0-9A-Za-z]*";
const REQUIRED_FIELD = new RegExp(`^Field "(${NAME})" of required type "([^"]+)" was not provided\\.$`);
const UNKNOWN_FIELD = new RegExp(`^Field "(${NAME})" is not defined by type "(${NAME})"\\.`);
const NOT_NULL = /^Expected non-nullable type "([^"]+)" not to be null\.$/;
const NOT_OBJECT = new RegExp(`^Expected type "(${NAME})" to be an object\\.$`);
const PATH_SEGMENT = new RegExp(`\\.(${NAME})|\\[(\\d+)\\]`, "g");

type Path = (string | number)[];

function fieldName(variable: string, path: Path): string {
  const segments = typeof path[0] === "string" ? path : [variable, ...path];
  // A key of the client's JSON is quoted back cut, as document names are (document-policy.ts).
  const cut = (name: string) => (name.length > 64 ? `${name.slice(0, 64)}…` : name);
  return segments.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? cut(s) : `.${cut(s)}`)).join("");
}

/** The named type expected at `path` inside a variable of type `typeNode`, if the schema has it. */
function typeAt(schema: GraphQLSchema, typeNode: TypeNode, path: Path): string | undefined {
  let type: GraphQLType | undefined = typeFromAST(schema, typeNode);
  for (const segment of path) {
    if (!type) return undefined;
    const nullable: GraphQLType = getNullableType(type);
    if (typeof segment === "number") {
      type = isListType(nullable) ? nullable.ofType : nullable;
      continue;
    }
    // A list also accepts one value in place of a list, so a name may follow a list type.
    const named = getNamedType(nullable);
    type = isInputObjectType(named) ? named.getFields()[segment]?.type : undefined;
  }
  return type ? getNamedType(type).name : undefined;
}

/**
 * What was wrong with a variable, from graphql-js's coercion error (its message, which
 * repeats the value, is only parsed here and never sent). Null when `error` is not one.
 */
export function coercionProblem(error: GraphQLError, schema: GraphQLSchema): FieldProblem | null {
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION) return null;
  const variable = node.variable.name.value;
  const declared = print(node.type);
  const problem = (path: Path, phrase: string): FieldProblem => {
    const field = fieldName(variable, path);
    return { field, messages: [`${field} ${phrase}`] };
  };
  const head = `Variable "$${variable}" `;
  if (error.message.startsWith(`${head}of required type `)) return problem([], `is required (${declared})`);
  if (error.message.startsWith(`${head}of non-null type `)) return problem([], `must not be null (${declared})`);
  if (!error.message.startsWith(`${head}got invalid value `)) return null;

  // `Variable "$v" got invalid value <value>[ at "v.path"]; <reason>`: the reason is the
  // original error's message, so what precedes it ends with the path when there is one.
  const reason = error.originalError?.message ?? "";
  const prefix = error.message.endsWith(`; ${reason}`) ? error.message.slice(0, -(reason.length + 2)) : "";
  const at = new RegExp(` at "${variable}((?:\\.${NAME}|\\[\\d+\\])*)"$`).exec(prefix)?.[1] ?? "";
  const path: Path = [...at.matchAll(PATH_SEGMENT)].map((m) => m[1] ?? Number(m[2]));

  let match: RegExpExecArray | null;
  if ((match = REQUIRED_FIELD.exec(reason))) return problem([...path, match[1]], `is required (${match[2]})`);
  if ((match = UNKNOWN_FIELD.exec(reason))) return problem([...path, match[1]], `is not a field of ${match[2]}`);
  if ((match = NOT_NULL.exec(reason))) return problem(path, `must not be null (${match[1]})`);
  if ((match = NOT_OBJECT.exec(reason))) return problem(path, `must be an object (${match[1]})`);
  return problem(path, `must be a valid ${typeAt(schema, node.type, path) ?? declared}`);
}
