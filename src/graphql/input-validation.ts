import { type ValidationError, validateOrReject } from "class-validator";
import { ArgumentValidationError, type ValidatorFn } from "type-graphql";

/**
 * Characters no PostgreSQL `text` can hold: NUL, and a UTF-16 surrogate without its pair (it
 * has no UTF-8 encoding). Either one reaching a statement is a 500, and in a password it would
 * be hashed as something else (U+FFFD).
 */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: string): boolean {
  return !value.includes("\u0000") && !UNPAIRED_SURROGATE.test(value);
}

/** One class-validator error per string (at any depth) that text cannot hold; `name` is its argument or field. */
function unstorable(value: unknown, name: string): ValidationError[] {
  if (typeof value === "string") {
    if (isStorableText(value)) return [];
    const message = `${name} must not contain a NUL character or an unpaired surrogate`;
    return [{ property: name, constraints: { storableText: message }, children: [] } as ValidationError];
  }
  if (Array.isArray(value)) return value.flatMap((item) => unstorable(item, name));
  if (value === null || typeof value !== "object" || value instanceof Date) return [];
  return Object.entries(value).flatMap(([key, field]) => {
    const found = unstorable(field, key);
    // Nested: the outer field names the path (validationProblems joins it with dots).
    return typeof field === "object" && field !== null && !Array.isArray(field) && found.length
      ? [{ property: key, children: found } as ValidationError]
      : found;
  });
}

/**
 * Every resolver argument passes here before its resolver runs, on every transport: first no
 * string anywhere in it may hold what `text` cannot (so such input is BAD_USER_INPUT before any
 * password check or statement), then the class-validator rules of its input class, as
 * TypeGraphQL would run them (missing properties skipped, unknown values allowed).
 */
export const validateArgument: ValidatorFn = async (value, _type, { args }) => {
  // An argument of a scalar type arrives alone: its name is the key that holds it.
  const named = typeof value === "string" ? (Object.keys(args).find((key) => args[key] === value) ?? "input") : "";
  const problems = typeof value === "string" ? unstorable(value, named) : unstorable(value, "");
  if (problems.length) throw new ArgumentValidationError(problems);
  if (value === null || typeof value !== "object") return;
  try {
    const items: object[] = Array.isArray(value) ? value.filter((v) => v !== null && typeof v === "object") : [value];
    await Promise.all(items.map((item) => validateOrReject(item, { skipMissingProperties: true, forbidUnknownValues: false })));
  } catch (error) {
    throw new ArgumentValidationError(error as ValidationError[]);
  }
};
