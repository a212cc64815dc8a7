// The usual integration-test fixture: one stack (Synapse + Loket) per test file and a syncing
// citizen, kept for inspection when a test fails, stopped afterwards.
import { afterAll, afterEach, beforeAll } from "vitest";
import { newUser, type TestUser } from "./client.ts";
import type { TestDatabase } from "./postgres.ts";
import { startStack, type Stack, type StackOptions } from "./stack.ts";
import { proxiedTestDatabase, type TcpProxy } from "./tcp-proxy.ts";

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

/** The fixture on a fresh PostgreSQL database reached through a proxy the test can cut or trap. */
export interface ProxiedFixture extends Fixture {
  readonly proxy: TcpProxy;
  /** The database itself, past the proxy. */
  readonly database: TestDatabase;
}

export function useStackOnProxiedDatabase(): ProxiedFixture {
  let proxied: { db: TestDatabase; proxy: TcpProxy } | undefined;
  const fixture = useStack(async () => {
    const p = await proxiedTestDatabase();
    proxied = p;
    return { databaseUrl: p.url };
  }, async () => {
    await proxied?.proxy.close();
    await proxied?.db.drop();
  });
  const started = (): { db: TestDatabase; proxy: TcpProxy } => {
    if (!proxied) throw new Error("the proxied database is not set up");
    return proxied;
  };
  return {
    get stack() { return fixture.stack; },
    get citizen() { return fixture.citizen; },
    get proxy() { return started().proxy; },
    get database() { return started().db; },
  };
}
