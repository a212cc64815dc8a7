import { describe, expect, it } from "vitest";
import { promiseText } from "../../src/office-hours/replies.ts";

const tz = "Europe/Amsterdam";

describe("the answer promise", () => {
  it("outside hours says when the desk opens and by when the answer comes, in Dutch", () => {
    const text = promiseText({
      open: false, nextOpening: new Date("2024-04-02T07:00:00Z"), due: new Date("2024-04-03T10:00:00Z"),
      reference: "UTR-2024-000123", position: 1, timezone: tz,
    }, "nl");
    expect(text.body).toBe("We zijn nu gesloten. Vanaf dinsdag 2 april 09:00 zijn we er weer. U krijgt uiterlijk woensdag 3 april 12:00 antwoord. Uw referentie: UTR-2024-000123.");
    expect(text.html).toBe("We zijn nu gesloten. Vanaf <strong>dinsdag 2 april 09:00</strong> zijn we er weer. U krijgt uiterlijk <strong>woensdag 3 april 12:00</strong> antwoord. Uw referentie: <strong>UTR-2024-000123</strong>.");
  });

  it("inside hours gives the place in the queue, in English when asked", () => {
    const text = promiseText({
      open: true, nextOpening: null, due: new Date("2026-12-01T13:30:00Z"), reference: "UTR-2026-000007", position: 3, timezone: tz,
    }, "en");
    expect(text.body).toBe("Thank you for your message. You are number 3 in the queue. You will get an answer by Tuesday 1 December 14:30 at the latest. Your reference: UTR-2026-000007.");
  });

  it("escapes what it puts in HTML", () => {
    const text = promiseText({ open: true, nextOpening: null, due: new Date(0), reference: "<b>&", position: 1, timezone: tz }, "nl");
    expect(text.html).toContain("<strong>&lt;b&gt;&amp;</strong>");
  });
});
