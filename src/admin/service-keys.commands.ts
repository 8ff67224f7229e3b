import type { CommandGroup } from "./command";
export const serviceKeyCommands: CommandGroup = {};
