import { dictionary } from "@zxcvbn-ts/language-common";
import { badUserInput } from "../errors/error-codes";

/** ASVS V6.2: at least 8 characters, at least 64 allowed, no composition rules. */
export const PASSWORD_LENGTH = { min: 8, max: 128 };

/**
 * The common-password list of zxcvbn-ts (`@zxcvbn-ts/language-common`, its `passwords-common`
 * dictionary: about 49,000 passwords from breach corpora, most frequent first, all lower case).
 * Only those long enough to pass the length rule are kept: the others are refused already.
 */
const COMMON = new Set(dictionary["passwords-common"].filter((p) => p.length >= PASSWORD_LENGTH.min));

/**
 * The rules a new password (register, changePassword) must meet beyond its length (ASVS
 * V6.2.4, V6.2.11): not a commonly used password, not the account's email or the part before
 * its `@`, not the password it replaces. Compared without regard to case, except the current
 * password, which is compared exactly. Answers one message per rule broken, each naming the rule
 * and `field`, never the password.
 */
export function newPasswordProblems(
  field: string,
  password: string,
  account: { email: string; currentPassword?: string },
): string[] {
  const lower = password.toLowerCase();
  const email = account.email.toLowerCase();
  const localPart = email.slice(0, email.lastIndexOf("@"));
  const problems: string[] = [];
  if (COMMON.has(lower)) problems.push(`${field} must not be a commonly used password`);
  if (lower === email || lower === localPart) problems.push(`${field} must not be the email address or the part before its @`);
  if (account.currentPassword !== undefined && password === account.currentPassword) {
    problems.push(`${field} must differ from the current password`);
  }
  return problems;
}

/** Throws BAD_USER_INPUT naming `field` and every rule the new password breaks. */
export function assertNewPasswordAllowed(
  field: string,
  password: string,
  account: { email: string; currentPassword?: string },
): void {
  const problems = newPasswordProblems(field, password, account);
  if (problems.length) throw badUserInput(field, problems);
}
