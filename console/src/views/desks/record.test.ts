import { describe as suite, expect, it } from "vitest";
import { translator } from "../../i18n/translate";
import { describe, proofParts, shortRoot } from "./record";

const en = translator("en");
const ru = translator("ru");
const ref = "a".repeat(64);

suite("describe", () => {
  it("words a message with its precedence, kind and subject in the language", () => {
    const message = {
      kind: "message",
      content: { precedence: "FLASH", kind: "notification", subject: "Launch at 12:00Z" },
    };
    expect(describe(message, en)).toBe("FLASH notification: Launch at 12:00Z");
    expect(describe(message, ru)).toMatch(/: Launch at 12:00Z$/);
    expect(describe(message, ru)).not.toContain("notification");
  });

  it("says that what is sealed from this node (the line's mediator) is carried, unread", () => {
    const sealed = { v: 1, to: { RU: {}, UA: {} } };
    const message = { kind: "message", content: { precedence: "FLASH", kind: "warning", sealed } };
    expect(describe(message, en)).toBe(
      "FLASH warning: sealed: carried here, readable only by the other parties",
    );
    expect(describe({ kind: "ack", content: { ref, sealed } }, ru)).toContain("запечатано");
    expect(describe({ kind: "translation", content: { ref, sealed } }, en)).toMatch(/^sealed/);
  });

  it("words receipts, acknowledgements and escalation steps", () => {
    expect(describe({ kind: "receipt", content: { of: "RU", upto_seq: 7 } }, en)).toBe(
      "holds RU's chain up to #7",
    );
    expect(describe({ kind: "ack", content: { ref, reply: { body: "Understood" } } }, en)).toBe(
      `acknowledges ${"a".repeat(12)}: Understood`,
    );
    expect(describe({ kind: "escalation", content: { ref, action: "relay" } }, en)).toBe(
      `relayed: ${"a".repeat(12)}`,
    );
    expect(describe({ kind: "receipt", content: { of: "US", upto_seq: 3 } }, ru)).toBe(
      "хранит цепочку US до №3",
    );
  });

  it("gives the text other events carry, or nothing", () => {
    expect(describe({ kind: "contact.request", content: { topic: "Incident at sea" } }, en)).toBe(
      "Incident at sea",
    );
    expect(describe({ kind: "contact.decline", content: { ref, reason: "Travelling" } }, en)).toBe(
      "Travelling",
    );
    expect(describe({ kind: "linktest", content: { n: 1 } }, en)).toBe("");
    expect(
      describe({ kind: "evidence", content: { positions: 4, subject: "RU", minute: "2022-03-13T09:00:00.000Z" } }, en),
    ).toBe("4 positions of RU's tracks captured in the minute from 2022-03-13T09:00:00.000Z");
  });
});

suite("proofParts", () => {
  const message = { id: "m1", party: "US", seq: 4 };
  it("finds the acknowledgement of the message and a receipt that reaches it", () => {
    const events = [
      { kind: "ack", party: "RU", content: { ref: "m1" } },
      { kind: "receipt", party: "RU", content: { of: "US", upto_seq: 4 } },
    ];
    expect(proofParts(message, events)).toEqual({ ack: true, receipt: true });
  });
  it("takes no receipt short of the message, of another chain or by its own party", () => {
    const events = [
      { kind: "ack", party: "RU", content: { ref: "m2" } },
      { kind: "receipt", party: "RU", content: { of: "US", upto_seq: 3 } },
      { kind: "receipt", party: "US", content: { of: "US", upto_seq: 9 } },
      { kind: "receipt", party: "RU", content: { of: "RU", upto_seq: 9 } },
    ];
    expect(proofParts(message, events)).toEqual({ ack: false, receipt: false });
  });
});

suite("shortRoot", () => {
  it("keeps the first twelve characters of a root", () => {
    expect(shortRoot("kvTK3dVMsg9b4RABl7VeA1dN4Fd2XxP3NB0kGTq1NjU=")).toBe("kvTK3dVMsg9b");
  });
});
