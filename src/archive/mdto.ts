// MDTO 1.0.1 XML (pure): one informatieobject per conversation and one bestand per file, in
// the element order the XSD's sequences demand. Namespace https://www.nationaalarchief.nl/mdto.
export const MDTO_NS = "https://www.nationaalarchief.nl/mdto";

export const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] ?? c)
    // Characters XML 1.0 does not allow at all.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "");

type Node = string | false | undefined | Node[];
const el = (name: string, ...children: Node[]): string => `<${name}>${children.flat(4).filter((c) => typeof c === "string").join("")}</${name}>`;
const text = (name: string, value: string | number): string => `<${name}>${esc(String(value))}</${name}>`;

export interface Id { kenmerk: string; bron: string }
const identificatie = (name: string, id: Id): string => el(name, text("identificatieKenmerk", id.kenmerk), text("identificatieBron", id.bron));
const verwijzing = (name: string, naam: string, id?: Id): string => el(name, text("verwijzingNaam", naam), id && identificatie("verwijzingIdentificatie", id));
const begrip = (name: string, label: string, lijst: string, code?: string): string =>
  el(name, text("begripLabel", label), code !== undefined && code !== "" && text("begripCode", code), verwijzing("begripBegrippenlijst", lijst));

function doc(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<MDTO xmlns="${MDTO_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${MDTO_NS} ${MDTO_NS}/MDTO-XML1.0.1.xsd">${body}</MDTO>\n`;
}

export interface InformatieobjectInput {
  id: Id;
  naam: string;
  omschrijving?: string;
  begin: string; // xsd:date
  end: string; // xsd:date
  events: { type: string; time: string; actor?: string }[];
  waardering: "V" | "B";
  bewaartermijn?: { start: string; looptijd: string; end: string };
  categorie: { label: string; code: string; lijst: string };
  representaties: { naam: string; id: Id }[];
  archiefvormer: { naam: string; id?: Id };
  betrokkene?: { naam: string; id?: Id };
  activiteit: string;
}

const WAARDERING = { V: "Tijdelijk te bewaren", B: "Blijvend te bewaren" } as const;

export function informatieobjectXml(i: InformatieobjectInput): string {
  return doc(el("informatieobject",
    identificatie("identificatie", i.id),
    text("naam", i.naam),
    begrip("aggregatieniveau", "Archiefstuk", "Begrippenlijst Aggregatieniveaus MDTO"),
    i.omschrijving !== undefined && text("omschrijving", i.omschrijving),
    el("dekkingInTijd", begrip("dekkingInTijdType", "Looptijd gesprek", "Begrippenlijst Loket"), text("dekkingInTijdBegindatum", i.begin), text("dekkingInTijdEinddatum", i.end)),
    text("taal", "nl"),
    i.events.map((e) => el("event", begrip("eventType", e.type, "Begrippenlijst EventTypeLijst MDTO"), text("eventTijd", e.time), e.actor !== undefined && verwijzing("eventVerantwoordelijkeActor", e.actor))),
    begrip("waardering", WAARDERING[i.waardering], "Begrippenlijst Waarderingen MDTO", i.waardering),
    i.bewaartermijn && el("bewaartermijn",
      begrip("termijnTriggerStartLooptijd", "Bevriezing", "Begrippenlijst EventTypeLijst MDTO"),
      text("termijnStartdatumLooptijd", i.bewaartermijn.start), text("termijnLooptijd", i.bewaartermijn.looptijd), text("termijnEinddatum", i.bewaartermijn.end)),
    begrip("informatiecategorie", i.categorie.label, i.categorie.lijst, i.categorie.code),
    i.representaties.map((r) => verwijzing("heeftRepresentatie", r.naam, r.id)),
    verwijzing("archiefvormer", i.archiefvormer.naam, i.archiefvormer.id),
    i.betrokkene && el("betrokkene", begrip("betrokkeneTypeRelatie", "Belanghebbende", "Begrippenlijst Relatietypen MDTO"), verwijzing("betrokkeneActor", i.betrokkene.naam, i.betrokkene.id)),
    verwijzing("activiteit", i.activiteit),
    el("beperkingGebruik", begrip("beperkingGebruikType", "Nader te bepalen", "Begrippenlijst BeperkingGebruikTypeLijst MDTO"),
      text("beperkingGebruikNadereBeschrijving", "Bevat persoonsgegevens (AVG); openbaarheid te bepalen bij overbrenging.")),
  ));
}

export interface BestandInput {
  id: Id;
  naam: string;
  omvang: number;
  formaat: { label: string; code: string; lijst: string };
  sha256: string;
  checksumDatum: string; // xsd:dateTime
  representatieVan: { naam: string; id: Id };
}

export function bestandXml(b: BestandInput): string {
  return doc(el("bestand",
    identificatie("identificatie", b.id),
    text("naam", b.naam),
    text("omvang", b.omvang),
    begrip("bestandsformaat", b.formaat.label, b.formaat.lijst, b.formaat.code),
    el("checksum", begrip("checksumAlgoritme", "SHA-256", "Begrippenlijst ChecksumAlgoritme MDTO"), text("checksumWaarde", b.sha256), text("checksumDatum", b.checksumDatum)),
    verwijzing("isRepresentatieVan", b.representatieVan.naam, b.representatieVan.id),
  ));
}

const PRONOM: Record<string, [string, string]> = {
  "application/json": ["fmt/817", "JSON Data Interchange Format"],
  "text/html": ["fmt/471", "Hypertext Markup Language 5"],
  "image/png": ["fmt/13", "Portable Network Graphics 1.2"],
  "image/jpeg": ["fmt/43", "JPEG File Interchange Format 1.01"],
  "image/gif": ["fmt/4", "Graphics Interchange Format 89a"],
  "application/pdf": ["fmt/276", "Acrobat PDF 1.7"],
  "text/plain": ["x-fmt/111", "Plain Text File"],
  "text/csv": ["x-fmt/18", "Comma Separated Values"],
  "application/xml": ["fmt/101", "Extensible Markup Language 1.0"],
};

/** The PRONOM id of a mime type, or the IANA media type when PRONOM has none we know. */
export function formatOf(mime: string): { label: string; code: string; lijst: string } {
  const base = mime.split(";")[0]?.trim().toLowerCase() ?? "";
  const p = PRONOM[base];
  return p ? { label: p[1], code: p[0], lijst: "PRONOM-register" } : { label: base || "application/octet-stream", code: base || "application/octet-stream", lijst: "IANA Media types" };
}
