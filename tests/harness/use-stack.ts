// The usual integration-test fixture: one stack (Synapse + Loket) per test file and a syncing
// citizen, kept for inspection when a test fails, stopped afterwards.
import { afterAll, afterEach, beforeAll } from "vitest";
import { newUser, type TestUser } from "./client.ts";
import { startStack, type Stack, type StackOptions } from "./stack.ts";

export interface Fixture {
  readonly stack: Stack;
  readonly citizen: TestUser;
}

/** `cleanup` runs after the stack has stopped (for what `options` set up). */
export function useStack(options: () => StackOptions | Promise<StackOptions> = () => ({}), cleanup?: () => Promise<void>): Fixture {
  let stack: Stack | undefined;
  let citizen: TestUser | undefined;
  beforeAll(async () => {
    stack = await startStack(await options());
    citizen = await newUser(stack.synapse, "burger");
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") stack?.keepData();
  });
  afterAll(async () => {
    citizen?.client.stopClient();
    await stack?.stop();
    await cleanup?.();
  });
  return {
    get stack(): Stack {
      if (!stack) throw new Error("the stack is not running");
      return stack;
    },
    get citizen(): TestUser {
      if (!citizen) throw new Error("the citizen is not logged in");
      return citizen;
    },
  };
}
