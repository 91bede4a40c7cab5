/** A view's heading. The shell moves focus to it when the view is opened from the
 * navigation, so a screen reader announces where the operator is. */
import type { ComponentChildren } from "preact";

export const VIEW_HEADING_ID = "view-title";

export function ViewHeading({ children }: { children: ComponentChildren }) {
  return (
    <h1 id={VIEW_HEADING_ID} tabIndex={-1} class="view-title">
      {children}
    </h1>
  );
}
