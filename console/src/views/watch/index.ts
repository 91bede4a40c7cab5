/** The watch officer's views. */
import type { ViewDef } from "../registry";
import { AlertsView } from "./AlertsView";
import { ComposeView } from "./ComposeView";
import { InboxView } from "./InboxView";
import { SentView } from "./SentView";

const WRITERS = ["watch_officer", "leader", "relay", "admin"] as const;

export const WATCH_VIEWS: readonly ViewDef[] = [
  { id: "inbox", title: "nav.inbox", roles: WRITERS, component: InboxView },
  { id: "compose", title: "nav.compose", roles: WRITERS, component: ComposeView },
  { id: "sent", title: "nav.sent", roles: WRITERS, component: SentView },
  { id: "alerts", title: "nav.alerts", roles: ["watch_officer", "admin"], component: AlertsView },
];
