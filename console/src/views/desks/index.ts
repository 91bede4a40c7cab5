/** The views of the other desks: translator, attaché, leader's staff, auditor, and the
 * watch officer's notices, overdue board and watch roster. */
import type { ViewDef } from "../registry";
import { AgreementsView } from "./AgreementsView";
import { ContactsView } from "./ContactsView";
import { NoticesView } from "./NoticesView";
import { OverdueView } from "./OverdueView";
import { PagesView } from "./PagesView";
import { RecordView } from "./RecordView";
import { RelaysView } from "./RelaysView";
import { RollCallsView } from "./RollCallsView";
import { TranslatorView } from "./TranslatorView";
import { WatchRosterView } from "./WatchRosterView";

export const DESK_VIEWS: readonly ViewDef[] = [
  { id: "notices", title: "nav.notices", roles: ["watch_officer"], component: NoticesView },
  { id: "overdue", title: "nav.overdue", roles: ["watch_officer", "leader"], component: OverdueView },
  { id: "watch", title: "nav.watch", roles: ["watch_officer"], component: WatchRosterView },
  { id: "rollcalls", title: "nav.rollcalls", roles: ["watch_officer"], component: RollCallsView },
  {
    id: "pages",
    title: "nav.pages",
    roles: ["watch_officer", "leader", "relay", "admin"],
    component: PagesView,
  },
  { id: "translations", title: "nav.translations", roles: ["translator"], component: TranslatorView },
  { id: "relays", title: "nav.relays", roles: ["relay"], component: RelaysView },
  { id: "contacts", title: "nav.contacts", roles: ["leader"], component: ContactsView },
  {
    id: "agreements",
    title: "nav.agreements",
    roles: ["leader", "watch_officer", "admin"],
    component: AgreementsView,
  },
  { id: "record", title: "nav.record", roles: ["auditor"], component: RecordView },
];
