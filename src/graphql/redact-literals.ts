import { Lexer, Source, TokenKind } from "graphql";

/**
 * graphql-js's parse and validation messages quote the document's own string literals ("found
 * String "hunter2"", "String cannot represent a non string value: ["hunter2"]"), and a
 * document may carry a password inline. Every string literal of `source` is replaced by "…"
 * in `message`; names and everything else stay. Runs on the error path only.
 */
export function withoutStringLiterals(message: string, source: string | undefined): string {
  if (!source || !message.includes('"')) return message;
  const literals = new Set<string>();
  const lexer = new Lexer(new Source(source));
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if ((token.kind === TokenKind.STRING || token.kind === TokenKind.BLOCK_STRING) && token.value !== "")
        literals.add(token.value);
    }
  } catch {
    // The literals up to a character the lexer refuses are all there is to hide.
  }
  let redacted = message;
  // Longest first, so that a literal inside another is not replaced first.
  for (const value of [...literals].sort((a, b) => b.length - a.length)) {
    redacted = redacted.split(JSON.stringify(value)).join('"…"').split(`"${value}"`).join('"…"');
  }
  return redacted;
}
