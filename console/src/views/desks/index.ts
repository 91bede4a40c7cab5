/** The views of the other desks: translator, attaché, leader's staff, auditor, and the
 * watch officer's notices, overdue board and watch roster. */
import type { ViewDef } from "../registry";

export const DESK_VIEWS: readonly ViewDef[] = [];
