// MDTO XML as Loket writes it validates against the MDTO 1.0.1 XSD; PRONOM ids for known types.
import { describe, expect, it } from "vitest";
import { bestandXml, formatOf, informatieobjectXml } from "../../src/archive/mdto.ts";
import { validateMdto } from "../harness/mdto.ts";

const id = { kenmerk: "!abc:gemeente.nl", bron: "Gemeente Testdorp Loket" };

describe("MDTO XML", () => {
  it("an informatieobject and a bestand validate against the XSD, with escaping", async () => {
    const io = informatieobjectXml({
      id, naam: "Chatgesprek <&> 2026-01-02", omschrijving: "tekst met \u0001 een stuurteken", begin: "2026-01-02", end: "2026-01-03",
      events: [{ type: "Creatie", time: "2026-01-02T10:00:00.000Z" }, { type: "Export", time: "2026-02-01T10:00:00.000Z", actor: "Loket" }],
      waardering: "V", bewaartermijn: { start: "2026-01-03", looptijd: "P1Y", end: "2027-01-03" },
      categorie: { label: "Algemene vragen", code: "20.1", lijst: "Selectielijst gemeenten en intergemeentelijke organen 2020" },
      representaties: [{ naam: "x.json", id: { kenmerk: "x/x.json", bron: "b" } }],
      archiefvormer: { naam: "Gemeente Testdorp" }, betrokkene: { naam: "@burger:gemeente.nl", id: { kenmerk: "@burger:gemeente.nl", bron: "Matrix" } },
      activiteit: "Klantcontact afhandelen",
    });
    const b = bestandXml({ id, naam: "x.json", omvang: 12, formaat: formatOf("application/json"), sha256: "ab".repeat(32), checksumDatum: "2026-02-01T10:00:00.000Z", representatieVan: { naam: "Chatgesprek", id } });
    const permanent = informatieobjectXml({
      id, naam: "n", begin: "2026-01-02", end: "2026-01-02", events: [], waardering: "B",
      categorie: { label: "Blijvend", code: "", lijst: "Selectielijst" }, representaties: [], archiefvormer: { naam: "Gemeente" }, activiteit: "a",
    });
    expect(await validateMdto([{ name: "io.xml", xml: io }, { name: "b.xml", xml: b }, { name: "p.xml", xml: permanent }])).toEqual([]);
    expect(io).toContain("Chatgesprek &lt;&amp;&gt;");
  });

  it("a broken document is refused by the validator (the check is real)", async () => {
    const b = bestandXml({ id, naam: "x", omvang: 1, formaat: formatOf("image/png"), sha256: "00", checksumDatum: "not a date", representatieVan: { naam: "n", id } });
    expect((await validateMdto([{ name: "b.xml", xml: b }])).join("\n")).toContain("checksumDatum");
  });

  it("maps mime types to PRONOM, else to IANA media types", () => {
    expect(formatOf("image/png").code).toBe("fmt/13");
    expect(formatOf("application/json; charset=utf-8")).toMatchObject({ code: "fmt/817", lijst: "PRONOM-register" });
    expect(formatOf("audio/x-weird")).toMatchObject({ code: "audio/x-weird", lijst: "IANA Media types" });
  });
});
