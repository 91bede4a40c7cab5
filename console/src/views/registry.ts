/** Every view of the console: one component per desk's view, shown to the roles that
 * work in it. The watch officer's views are in watch/, the other desks' in desks/; each
 * folder's index.ts lists its own, in the order the navigation shows them. */
import type { ComponentType } from "preact";
import type { Role } from "../api/types";
import type { Key } from "../i18n/translate";
import { DESK_VIEWS } from "./desks";
import { WATCH_VIEWS } from "./watch";

export interface ViewProps {
  /** the part of the address after the view's id (#/<id>/<arg>), e.g. a message id */
  arg: string | null;
}

export interface ViewDef {
  /** the address of the view, #/<id> */
  id: string;
  /** its name in the navigation and its heading (a key of the language files) */
  title: Key;
  roles: readonly Role[];
  component: ComponentType<ViewProps>;
}

export const VIEWS: readonly ViewDef[] = [...WATCH_VIEWS, ...DESK_VIEWS];

export function viewsFor(roles: readonly Role[]): ViewDef[] {
  return VIEWS.filter((v) => v.roles.some((r) => roles.includes(r)));
}
