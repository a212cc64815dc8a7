import { describe, expect, it } from "vitest";
import { planAssignments, type Staff, type Waiting } from "../../src/queue/assign.ts";

const w = (conversation: string, due: number, department = "bz"): Waiting => ({ conversation, department, due });
const s = (userId: string, open = 0, lastAssigned = 0, department = "bz"): Staff => ({ userId, department, open, lastAssigned });

describe("assignment", () => {
  it("serves the earliest due time first, to the staff member with the fewest open conversations", () => {
    const plan = planAssignments([w("c3", 300), w("c1", 100), w("c2", 200)], [s("@a", 2), s("@b", 0), s("@c", 1)], 5);
    expect(plan).toEqual([
      { conversation: "c1", staff: "@b" },
      // @b and @c now both have one: @c waited longer.
      { conversation: "c2", staff: "@c" },
      { conversation: "c3", staff: "@b" },
    ]);
  });

  it("never gives anyone more than the maximum; what is left waits", () => {
    const plan = planAssignments([w("c1", 1), w("c2", 2), w("c3", 3), w("c4", 4)], [s("@a", 1), s("@b", 0)], 2);
    expect(plan.map((p) => p.staff).sort()).toEqual(["@a", "@b", "@b"]);
    expect(plan.map((p) => p.conversation)).toEqual(["c1", "c2", "c3"]);
  });

  it("assigns only within the conversation's department, and only to staff on duty (those passed in)", () => {
    const plan = planAssignments([w("c1", 1, "vergunningen"), w("c2", 2, "bz")], [s("@a", 0, 0, "bz")], 3);
    expect(plan).toEqual([{ conversation: "c2", staff: "@a" }]);
    expect(planAssignments([w("c1", 1)], [], 3)).toEqual([]);
  });

  it("breaks ties by who waited longest since their last assignment, then by id, and rotates", () => {
    const plan = planAssignments([w("c1", 1), w("c2", 2), w("c3", 3)], [s("@b", 0, 500), s("@a", 0, 500), s("@c", 0, 100)], 5);
    expect(plan.map((p) => p.staff)).toEqual(["@c", "@a", "@b"]);
  });
});
