/**
 * A `connectionParams` entry looked up without regard to letter case, as HTTP header names
 * are: `Authorization` is `authorization`. When several keys match with different values
 * (`{ authorization: "Bearer a", Authorization: "Bearer b" }`) the answer is all of them, an
 * array, which no credential check accepts: the server never picks one for the client.
 */
export function connectionParam(params: Readonly<Record<string, unknown>> | undefined, name: string): unknown {
  if (!params || typeof params !== "object") return undefined;
  const wanted = name.toLowerCase();
  const values = Object.keys(params)
    .filter((key) => key.toLowerCase() === wanted)
    .map((key) => params[key]);
  if (values.length <= 1) return values[0];
  return values.every((value) => value === values[0]) ? values[0] : values;
}
