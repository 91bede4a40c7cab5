/** Pieces the desks' views share: an error line, a modal form dialog, short ids. */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { describeError } from "../../api/problem";
import { useI18n } from "../../shell/i18n";
import "./desks.css";

export const short = (id: string | null | undefined): string => (id ? id.slice(0, 12) : "");

export function ErrorLine({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (error === null || error === undefined) return null;
  return (
    <p class="error" role="alert">
      {describeError(error, t)}
    </p>
  );
}

export function Loading({ shown }: { shown: boolean }) {
  const { t } = useI18n();
  return shown ? <p role="status">{t("app.loading")}</p> : null;
}

/** A modal <dialog> holding a form: Escape or the cancel button closes it, and focus goes
 * back to where it was. */
export function FormDialog({
  id,
  title,
  onClose,
  children,
}: {
  id: string;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const back = useRef<Element | null>(null);
  useEffect(() => {
    back.current = document.activeElement;
    dialog.current?.showModal();
    return () => {
      if (back.current instanceof HTMLElement) back.current.focus();
    };
  }, []);
  return (
    <dialog
      ref={dialog}
      id={id}
      class="card desk-dialog"
      aria-labelledby={`${id}-title`}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </dialog>
  );
}

/** The value of the control an input event came from. */
export const valueOf = (e: Event): string => (e.currentTarget as HTMLInputElement).value;
