/** What one signed-in session shares with its views. It lives only while the session
 * does: signing out unmounts the whole desk, and with it every view's state. */
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Api } from "../api/client";
import type { InboxItem, Line, Me } from "../api/types";
import type { RollCallItem } from "../views/desks/calls";
import type { AlarmPlan } from "../alarm/plan";
import type { LiveStream } from "../live/stream";
import type { NodeClock } from "../time/clock";

export interface Inbox {
  items: InboxItem[];
  loaded: boolean;
  error: unknown;
  reload: () => void;
}

export interface WaitingRollCalls {
  items: RollCallItem[];
  reload: () => void;
}

export interface Desk {
  api: Api;
  me: Me;
  lines: Line[];
  clock: NodeClock;
  live: LiveStream;
  alarms: AlarmPlan;
  inbox: Inbox;
  /** roll calls the desk's party has yet to answer on its lines */
  rollcalls: WaitingRollCalls;
  /** shows a view (its id in the registry), with an optional argument (e.g. a message id) */
  navigate: (view: string, arg?: string) => void;
  /** a message to show in the compose form of a view that drafts one */
  draft: DraftHolder;
}

export interface DraftHolder {
  take: () => PrefilledMessage | null;
  put: (draft: PrefilledMessage) => void;
}

export interface PrefilledMessage {
  line: string;
  kind: string;
  precedence: string;
  subject: string;
  body: string;
  alert?: string | null;
}

export const DeskContext = createContext<Desk | null>(null);

export function useDesk(): Desk {
  const desk = useContext(DeskContext);
  if (!desk) throw new Error("useDesk outside a signed-in desk");
  return desk;
}
