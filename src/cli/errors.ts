// A mistake in how a command was called (exit code 1, with the message and the usage).
export class UsageError extends Error {}
