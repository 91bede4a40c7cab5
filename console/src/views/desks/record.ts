/** A line's record for the auditor: what each event says in the operator's language, and
 * how a chain's comparison with the peer is shown. */
import type { Key, Translate } from "../../i18n/translate";
import type { RecordEvent } from "./calls";

/** What of a message the record holds for its proof: an acknowledgement of it, and a
 * receipt of its chain by another party that reaches it. */
export function proofParts(
  message: Pick<RecordEvent, "id" | "party" | "seq">,
  events: Pick<RecordEvent, "kind" | "party" | "content">[],
): { ack: boolean; receipt: boolean } {
  const ack = events.some((e) => e.kind === "ack" && e.content["ref"] === message.id);
  const receipt = events.some(
    (e) =>
      e.kind === "receipt" &&
      e.party !== message.party &&
      e.content["of"] === message.party &&
      Number(e.content["upto_seq"] ?? 0) >= message.seq,
  );
  return { ack, receipt };
}

/** The start of a root hash, to tell checkpoints apart at a glance. */
export const shortRoot = (root: string): string => root.slice(0, 12);

/** The look of each state of a chain against the peer (others: neutral). */
export const STATE_CLASS: Record<string, string> = { "in step": "ok", behind: "bad", divergent: "bad" };

const TEXT_FIELDS = ["subject", "topic", "reason", "note", "summary", "title"];

/** What an event says, in the operator's language: its kind's own words and the text it
 * carries (a subject, a topic, a reason), never the node's English summary. */
export function describe(e: Pick<RecordEvent, "kind" | "content">, t: Translate): string {
  const c = e.content;
  const text = (key: string) => (typeof c[key] === "string" ? (c[key] as string) : "");
  const word = (key: string) => {
    const found = t(key as Key);
    return found === key ? "" : found;
  };
  // sealed from this node (the line's mediator): it carries the text without reading it
  const sealed = typeof c["sealed"] === "object" && c["sealed"] !== null;
  switch (e.kind) {
    case "message":
      return `${word(`precedence.${text("precedence")}`) || text("precedence")} ${
        word(`kind.${text("kind")}`) || text("kind")
      }: ${sealed ? t("record.about.sealed") : text("subject")}`;
    case "receipt":
      return t("record.about.receipt", { party: text("of"), seq: String(c["upto_seq"] ?? "") });
    case "ack": {
      const reply = c["reply"] as { body?: string } | undefined;
      const head = t("record.about.ack", { ref: text("ref").slice(0, 12) });
      if (sealed) return `${head}: ${t("record.about.sealed")}`;
      return reply?.body ? `${head}: ${reply.body}` : head;
    }
    case "evidence":
      return t("record.about.evidence", {
        positions: String(c["positions"] ?? ""),
        subject: text("subject"),
        minute: text("minute"),
      });
    case "escalation":
      return t("record.about.escalation", {
        action: word(`overdue.action.${text("action")}`) || text("action"),
        ref: text("ref").slice(0, 12),
      });
    default:
      return sealed ? t("record.about.sealed") : (TEXT_FIELDS.map(text).find((v) => v) ?? "");
  }
}

