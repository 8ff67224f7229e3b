/**
 * SQL written as tagged templates: every interpolated value becomes a numbered parameter, and
 * an interpolated `Sql` is spliced in as a fragment. No statement is built by concatenating
 * values into text, and no fragment needs to know which parameter numbers precede it.
 *
 *   sql`UPDATE sessions SET last_active_at = now() WHERE id = ANY(${ids}::uuid[])`
 *
 * A `param(value)` interpolated several times is one parameter, sent once.
 */
export class Sql {
  constructor(readonly parts: readonly (string | Param)[]) {}
}

export class Param {
  constructor(readonly value: unknown) {}
}

export function param(value: unknown): Param {
  return new Param(value);
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  const parts: (string | Param)[] = [];
  strings.forEach((text, i) => {
    parts.push(text);
    if (i === values.length) return;
    const value = values[i];
    if (value instanceof Sql) parts.push(...value.parts);
    else parts.push(value instanceof Param ? value : new Param(value));
  });
  return new Sql(parts);
}

/** Trusted SQL text (a constant of ours, never input), spliced in as it is. */
export function rawSql(text: string): Sql {
  return new Sql([text]);
}

/** The fragments one after another, `separator` (trusted text) between them. */
export function joinSql(fragments: readonly Sql[], separator: string): Sql {
  return new Sql(fragments.flatMap((fragment, i) => (i === 0 ? fragment.parts : [separator, ...fragment.parts])));
}

/** The text with `$1`, `$2`, ... and the values in that order. */
export function render(query: Sql): { text: string; values: unknown[] } {
  const numbers = new Map<Param, number>();
  const values: unknown[] = [];
  let text = "";
  for (const part of query.parts) {
    if (typeof part === "string") {
      text += part;
      continue;
    }
    let n = numbers.get(part);
    if (n === undefined) numbers.set(part, (n = values.push(part.value)));
    text += `$${n}`;
  }
  return { text, values };
}
