import { describe, expect, it } from "vitest";
import { promiseText } from "../../src/office-hours/replies.ts";
import { queueText, statusText } from "../../src/queue/texts.ts";

const tz = "Europe/Amsterdam";

describe("the receipt variants", () => {
  it("names the staff member assigned at once instead of the place, and can lead with a sentence (escaped in HTML)", () => {
    const text = promiseText({
      open: true, nextOpening: null, due: new Date("2026-11-30T13:00:00Z"), reference: "TEST-2026-000001", position: 0, timezone: tz,
      staff: "Mevrouw <Jansen>", lead: "Uw gesprek TEST-2026-000001 is weer geopend.",
    }, "nl");
    expect(text.body).toBe("Uw gesprek TEST-2026-000001 is weer geopend. Bedankt voor uw bericht. Mevrouw <Jansen> helpt u. U krijgt uiterlijk maandag 30 november 14:00 antwoord. Uw referentie: TEST-2026-000001.");
    expect(text.html).toContain("<strong>Mevrouw &lt;Jansen&gt;</strong> helpt u.");
  });

  it("outside hours the closed auto-reply wins, even when someone is assigned", () => {
    const text = promiseText({
      open: false, nextOpening: new Date("2026-11-30T08:00:00Z"), due: new Date("2026-11-30T12:00:00Z"), reference: "R", position: 0, timezone: tz, staff: "X",
    }, "nl");
    expect(text.body).toMatch(/^We zijn nu gesloten\. Vanaf maandag 30 november 09:00/);
  });
});

describe("!wachtrij", () => {
  it("lists the queue in the order given, marks missed terms, and who is on duty with their load", () => {
    expect(queueText("nl", "Burgerzaken", [
      { reference: "A", due: "maandag 30 november 13:00", overdue: true },
      { reference: "B", due: "maandag 30 november 14:00", overdue: false },
    ], [{ name: "Mevrouw Jansen", open: 2 }]).split("\n")).toEqual([
      "Wachtrij van Burgerzaken:",
      "- A: antwoord uiterlijk maandag 30 november 13:00 (termijn verstreken)",
      "- B: antwoord uiterlijk maandag 30 november 14:00",
      "In dienst: Mevrouw Jansen (2)",
    ]);
  });

  it("says so when the queue is empty and nobody is on duty", () => {
    expect(queueText("en", "Permits", [], [])).toBe("The queue of Permits is empty.\nNobody is on duty. Go on duty with !dienst aan.");
  });
});

describe("!status", () => {
  it("shows only what applies: the place while queued, the staff while open, the promise, a missed term", () => {
    expect(statusText("nl", { reference: "R", status: "open", position: 2, staff: [], due: "dinsdag 1 december 13:00", overdue: true, answered: false }))
      .toBe("Gesprek R: open.\nU bent nummer 2 in de wachtrij.\nU krijgt uiterlijk dinsdag 1 december 13:00 antwoord.\nDe beloofde termijn is verstreken; uw vraag heeft voorrang.");
    expect(statusText("en", { reference: "R", status: "waiting", position: 0, staff: ["De Vries"], overdue: false, answered: false }))
      .toBe("Conversation R: waiting for your reply.\nDe Vries is helping you.");
    expect(statusText("nl", { reference: "R", status: "closed", position: 0, staff: ["De Vries"], overdue: false, answered: false }))
      .toBe("Gesprek R: gesloten.");
    expect(statusText("nl", { reference: "R", status: "open", position: 0, staff: ["De Vries"], overdue: false, answered: true }))
      .toBe("Gesprek R: open.\nDe Vries helpt u.\nEen medewerker heeft op uw laatste bericht gereageerd.");
  });
});
