// The queue's commands, as rows of the command table: !dienst and !wachtrij in a department
// room, !status, !overdragen, !sluiten and !wachten in a conversation.
import type { Command } from "../commands/table.ts";
import type { CommandContext } from "../conversations/commands.ts";
import { conversationById } from "../conversations/store.ts";
import { loketRoomContent } from "../conversations/texts.ts";
import { t } from "../i18n/index.ts";
import { isUserId } from "../matrix/ids.ts";
import { LOKET_ROOM_EVENT } from "../rooms/plan.ts";
import { cancelTimer } from "../scheduler/timers.ts";
import { DUE_TIMER, type ServiceDesk } from "./service.ts";
import { servesDepartment } from "./staff.ts";
import { handOver, onDuty, openLoads, queueOf, setDuty, setStatus } from "./store.ts";
import { queueText, statusText } from "./texts.ts";

export function queueCommands(desk: ServiceDesk): Command<CommandContext>[] {
  const { db, hs, clock, conversations, metrics } = desk.d;
  const departmentName = (ctx: CommandContext, id: string): string =>
    ctx.municipality.config.departments.find((d) => d.id === id)?.name ?? id;
  /** Ends the answer clock and tells the room's state; the department may assign the freed place. */
  const endClock = async (ctx: CommandContext, status: "waiting" | "closed"): Promise<void> => {
    const conv = ctx.conversation;
    if (!conv?.roomId) return;
    await setStatus(db, conv.id, status);
    await cancelTimer(db, DUE_TIMER, String(conv.id));
    await hs.intent(ctx.municipality.botUserId).sendState(conv.roomId, LOKET_ROOM_EVENT, "", loketRoomContent({ ...conv, status }));
    metrics.queue.inc({ event: status });
  };

  /** !sluiten and !wachten: the clock stops; closing frees a place that may be assigned at once. */
  const stopClock = async (ctx: CommandContext, status: "waiting" | "closed"): Promise<void> => {
    const conv = ctx.conversation;
    if (!conv) return;
    // Closed already: its closing date (which starts the retention term) stays.
    if (conv.status === "closed") return ctx.reply(t(ctx.lang, "conversation_closed", { reference: conv.reference }));
    await endClock(ctx, status);
    await ctx.reply(status === "closed" ? t(conv.language, "closed_by_staff", { reference: conv.reference }) : t(conv.language, "waiting_set"));
    if (status === "closed") await desk.assignAll(ctx.municipality);
  };

  return [
    {
      name: "dienst",
      args: ["aan|uit"],
      help: "help_dienst",
      roles: ["staff"],
      places: ["department"],
      async run(ctx, [choice = ""]) {
        const on = { aan: true, on: true, uit: false, off: false }[choice.toLowerCase()];
        const department = ctx.department ?? "";
        if (on === undefined) return ctx.reply(t(ctx.lang, "usage", { usage: "!dienst aan | !dienst uit" }));
        if (!servesDepartment(ctx.municipality.config, department, ctx.sender)) return ctx.reply(t(ctx.lang, "not_department_staff", { department: departmentName(ctx, department) }));
        await setDuty(db, ctx.municipality.id, department, ctx.sender, on, clock.now());
        const staff = await desk.nameOf(ctx.municipality, ctx.sender);
        await ctx.reply(t(ctx.lang, on ? "duty_on" : "duty_off", { staff, department: departmentName(ctx, department) }));
        if (on) await desk.assignAll(ctx.municipality);
      },
    },
    {
      name: "wachtrij",
      help: "help_wachtrij",
      roles: ["staff"],
      places: ["department"],
      async run(ctx) {
        const m = ctx.municipality;
        const department = ctx.department ?? "";
        const [queue, duty] = await Promise.all([queueOf(db, m.id, department), onDuty(db, m.id, department)]);
        const loads = await openLoads(db, m.id, duty.map((s) => s.userId));
        const names = await Promise.all(duty.map(async (s) => ({ name: await desk.nameOf(m, s.userId), open: loads.get(s.userId) ?? 0 })));
        await ctx.reply(queueText(ctx.lang, departmentName(ctx, department), queue.map((c) => ({
          reference: c.reference, overdue: c.overdue, due: c.dueAt ? desk.inWords(m, c, c.dueAt, ctx.lang) : "-",
        })), names));
      },
    },
    {
      name: "status",
      help: "help_status",
      roles: ["citizen", "staff"],
      places: ["conversation"],
      async run(ctx) {
        // Read afresh: the queue's columns change with every message without dropping cached room facts.
        const conv = ctx.conversation && (await conversationById(db, ctx.conversation.id));
        if (!conv) return;
        const m = ctx.municipality;
        const position = conv.status === "open" && conv.assigned.length === 0 && conv.queuedAt ? await desk.position(m, conv) : 0;
        const staff = await Promise.all(conv.assigned.map((u) => desk.nameOf(m, u)));
        await ctx.reply(statusText(ctx.lang, {
          reference: conv.reference, status: conv.status, position, staff, overdue: conv.overdue,
          due: conv.dueAt ? desk.inWords(m, conv, conv.dueAt, ctx.lang) : undefined,
          answered: conv.queuedAt !== null && conv.dueAt === null && conv.status === "open",
        }));
      },
    },
    {
      name: "overdragen",
      args: ["@medewerker|afdeling"],
      help: "help_overdragen",
      roles: ["staff"],
      places: ["conversation"],
      async run(ctx, [target = ""]) {
        const conv = ctx.conversation;
        const m = ctx.municipality;
        if (!conv?.roomId) return;
        if (conv.status === "closed") return ctx.reply(t(ctx.lang, "conversation_closed", { reference: conv.reference }));
        const lang = conv.language;
        const department = m.config.departments.find((d) => d.id === target.toLowerCase() || d.name.toLowerCase() === target.toLowerCase());
        if (isUserId(target) && m.staff.has(target)) {
          await handOver(db, conv.id, { staff: target });
          await conversations.admit(m, conv.roomId, target);
          await ctx.reply(t(lang, "handed_over_staff", { staff: await desk.nameOf(m, target) }));
        } else if (department) {
          await handOver(db, conv.id, { department: department.id });
          const moved = { ...conv, department: department.id, assigned: [] };
          await hs.intent(m.botUserId).sendState(conv.roomId, LOKET_ROOM_EVENT, "", loketRoomContent(moved));
          await conversations.tellDepartment(m, moved, "department_notice", `handover:${ctx.eventId}`);
          await ctx.reply(t(lang, "handed_over_department", { department: department.name }));
                  } else {
          return ctx.reply(t(ctx.lang, "handover_unknown", { target, name: m.name }));
        }
        metrics.queue.inc({ event: "handed_over" });
        await desk.assignAll(m); // the new department, and the one who handed it over has room for another
      },
    },
    {
      name: "sluiten",
      help: "help_sluiten",
      roles: ["staff"],
      places: ["conversation"],
      run: (ctx) => stopClock(ctx, "closed"),
    },
    {
      name: "wachten",
      help: "help_wachten",
      roles: ["staff"],
      places: ["conversation"],
      run: (ctx) => stopClock(ctx, "waiting"),
    },
  ];
}

